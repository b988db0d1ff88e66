"""Reading an answer under a deadline and a size cap, and decoding it without surprises.

``requests`` buffers a whole body, decompresses it without a bound and waits up to the read
timeout for every single byte, so a dripping body, a gzip bomb or a 400 MB answer each take a
client down. [`read_body`][qpi._http.bodies.read_body] streams instead: it checks the deadline
between reads (and shortens the socket's timeout to what is left), decompresses gzip and
deflate itself with a bound on the output, and stops at ``max_bytes`` of decoded body.
"""

from __future__ import annotations

import json
import socket
import time
import zlib
from typing import Any

import requests

__all__ = [
    "ACCEPT_ENCODING",
    "MAX_RESPONSE_BYTES",
    "BodyTooLarge",
    "BodyUnreadable",
    "gunzip",
    "load_json",
    "read_body",
]

#: The decoded size above which an answer is refused (the server caps results well below).
MAX_RESPONSE_BYTES = 256 * 1024 * 1024
#: The encodings the transport asks for, because it can decode them with a bound.
ACCEPT_ENCODING = "gzip, deflate"
_CHUNK = 64 * 1024


class BodyTooLarge(ValueError):
    """The decoded body went past the cap."""


class BodyUnreadable(ValueError):
    """The body is not valid in its declared encoding, or is JSON nested past any use."""


class _Inflater:
    """Decompresses one ``Content-Encoding`` with a bound on what each step may produce."""

    def __init__(self, encoding: str) -> None:
        self.encoding = encoding
        if encoding in ("gzip", "x-gzip"):
            self._zlib: Any = zlib.decompressobj(16 + zlib.MAX_WBITS)
        elif encoding == "deflate":
            self._zlib = zlib.decompressobj()
        elif encoding in ("", "identity"):
            self._zlib = None
        else:
            raise BodyUnreadable(f"the server used Content-Encoding {encoding!r}, not asked for")
        self._started = False

    def feed(self, data: bytes, room: int) -> bytes:
        """Decode ``data``; raises [`BodyTooLarge`][qpi._http.bodies.BodyTooLarge] past ``room``."""
        if self._zlib is None:
            if len(data) > room:
                raise BodyTooLarge
            return data
        out = bytearray()
        try:
            while data:
                out += self._step(data, room - len(out))
                data = self._zlib.unconsumed_tail
        except zlib.error as exc:
            raise BodyUnreadable(f"the {self.encoding} body is corrupt ({exc})") from None
        return bytes(out)

    def _step(self, data: bytes, room: int) -> bytes:
        if not self._started and self.encoding == "deflate" and data[:1] and data[0] & 0x0F != 8:
            self._zlib = zlib.decompressobj(-zlib.MAX_WBITS)  # raw deflate, without zlib header
        self._started = True
        piece = self._zlib.decompress(data, room + 1)
        if len(piece) > room:
            raise BodyTooLarge
        return piece

    def flush(self, room: int) -> bytes:
        """What the decoder still holds once the body has ended."""
        if self._zlib is None:
            return b""
        rest = self._zlib.flush()
        if len(rest) > room:
            raise BodyTooLarge
        return rest


def _socket_of(raw: Any) -> socket.socket | None:
    connection = getattr(raw, "connection", None)
    sock = getattr(connection, "sock", None)
    return sock if isinstance(sock, socket.socket) else None


def read_body(
    response: requests.Response, *, deadline: float, read_timeout: float, max_bytes: int
) -> bytes:
    """The decoded body of a streamed ``response``, read by ``deadline`` (monotonic).

    Raises:
        requests.ReadTimeout: The deadline passed (or one read waited ``read_timeout``).
        BodyTooLarge: The decoded body is larger than ``max_bytes``.
        BodyUnreadable: The body is corrupt in its ``Content-Encoding``.
    """
    raw = response.raw
    encoding = response.headers.get("Content-Encoding", "").strip().lower()
    inflater = _Inflater(encoding)
    declared = response.headers.get("Content-Length", "")
    if not encoding and declared.isdigit() and int(declared) > max_bytes:
        raise BodyTooLarge
    read = getattr(raw, "read1", None) or raw.read
    body = bytearray()
    while True:
        left = deadline - time.monotonic()
        if left <= 0:
            raise requests.ReadTimeout("the answer did not arrive before the deadline")
        sock = _socket_of(raw)
        if sock is not None:
            sock.settimeout(max(0.01, min(read_timeout, left)))
        try:
            chunk = read(_CHUNK, decode_content=False)
        except TimeoutError as exc:
            raise requests.ReadTimeout("timed out reading the answer") from exc
        except Exception as exc:  # urllib3 wraps socket errors in its own types
            if "timed out" in str(exc).lower():
                raise requests.ReadTimeout("timed out reading the answer") from exc
            raise requests.ConnectionError(f"the answer was cut off ({exc})") from exc
        if not chunk:
            break
        body += inflater.feed(chunk, max_bytes - len(body))
    body += inflater.flush(max_bytes - len(body))
    return bytes(body)


def gunzip(data: bytes, max_bytes: int, *, max_ratio: int = 100, floor: int = 16 << 20) -> bytes:
    """Decompress one whole gzip member, refusing what only a gzip bomb decompresses to.

    The output may grow to ``floor`` bytes, then to at most ``max_ratio`` times the input
    consumed so far (real data compresses a few to a few dozen times; a bomb a thousand), and
    never past ``max_bytes``. A bomb is stopped within its first chunk.

    Raises:
        BodyTooLarge: The output would pass those bounds.
        BodyUnreadable: The data is not gzip, is cut short, or has bytes after its end.
    """
    if not data:
        return b""  # nothing at all (an empty file): for the caller to refuse as not JSON
    inflater = _Inflater("gzip")
    out = bytearray()
    for start in range(0, len(data), _CHUNK):
        consumed = start + _CHUNK
        room = min(max_bytes, max(floor, max_ratio * consumed)) - len(out)
        out += inflater.feed(data[start:consumed], room)
    out += inflater.flush(max_bytes - len(out))
    state = inflater._zlib
    if not state.eof:
        raise BodyUnreadable("the gzip data is truncated")
    if state.unused_data:
        raise BodyUnreadable("there are bytes after the end of the gzip data")
    return bytes(out)


def load_json(data: bytes | str) -> Any:
    """Decode JSON; nesting too deep for Python is a `BodyUnreadable`, not `RecursionError`.

    Raises:
        ValueError: The text is not JSON (``json.JSONDecodeError``), or is nested too deeply.
    """
    try:
        return json.loads(data)
    except RecursionError:
        raise BodyUnreadable("the JSON is nested too deeply to decode") from None
