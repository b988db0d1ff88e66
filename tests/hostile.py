"""A scripted HTTP server for tests: answers each request with whatever a test tells it to.

A real QPI server never stalls halfway through a body, drips it a byte at a time, answers with
a gzip bomb, redirects to another host or ignores ``skip``; an attacker's server (or one in
between) can. Each test registers a handler per path; the handler writes the raw answer to
the socket, so nothing about the answer is tidied up. Every request is recorded with its
headers, so a test can assert what reached which server.
"""

from __future__ import annotations

import contextlib
import json
import threading
import zlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

Handler = Callable[["Exchange"], None]


@dataclass
class Seen:
    """One request that reached the server."""

    method: str
    path: str
    headers: dict[str, str]
    body: bytes


class Exchange:
    """One request and the means to answer it raw."""

    def __init__(self, handler: BaseHTTPRequestHandler, server: HostileServer) -> None:
        self._h = handler
        self.server = server
        self.path = handler.path

    def head(self, status: int, headers: dict[str, str] | None = None) -> None:
        """Send the status line and headers (``Connection: close`` added)."""
        lines = [f"HTTP/1.1 {status} Scripted"]
        lines += [f"{k}: {v}" for k, v in (headers or {}).items()]
        lines.append("Connection: close")
        self.write(("\r\n".join(lines) + "\r\n\r\n").encode())

    def write(self, data: bytes) -> None:
        self._h.wfile.write(data)
        self._h.wfile.flush()

    def json(self, value: Any, status: int = 200, headers: dict[str, str] | None = None) -> None:
        """A complete JSON answer."""
        body = json.dumps(value).encode()
        self.raw_body(body, status, {"Content-Type": "application/json", **(headers or {})})

    def raw_body(
        self, body: bytes, status: int = 200, headers: dict[str, str] | None = None
    ) -> None:
        self.head(status, {"Content-Length": str(len(body)), **(headers or {})})
        self.write(body)

    def wait(self, seconds: float) -> bool:
        """Sleep, but wake when the server stops; returns whether it stopped."""
        return self.server.stopped.wait(seconds)


class HostileServer:
    """A threaded HTTP server on 127.0.0.1 running the handlers tests register."""

    def __init__(self) -> None:
        self.handlers: dict[str, Handler] = {}
        self.seen: list[Seen] = []
        self.stopped = threading.Event()
        outer = self

        class _Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def _any(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else b""
                path = self.path.split("?", 1)[0]
                outer.seen.append(Seen(self.command, self.path, dict(self.headers), body))
                handler = outer.handlers.get(path) or outer.handlers.get("*")
                self.close_connection = True
                with contextlib.suppress(OSError):
                    if handler is None:
                        Exchange(self, outer).json({"message": "no handler"}, 404)
                    else:
                        handler(Exchange(self, outer))

            do_GET = do_POST = do_DELETE = do_PATCH = do_PUT = _any

            def log_message(self, *args: Any) -> None:
                pass

        self._httpd = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
        self._httpd.daemon_threads = True
        self._thread = threading.Thread(target=self._httpd.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self._httpd.server_address[1]}"

    @property
    def port(self) -> int:
        return self._httpd.server_address[1]

    def on(self, path: str, handler: Handler) -> None:
        """Answer requests for ``path`` (``"*"``: any other path) with ``handler``."""
        self.handlers[path] = handler

    def __enter__(self) -> HostileServer:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stopped.set()
        self._httpd.shutdown()
        self._httpd.server_close()


def gzip_bomb(decoded_bytes: int) -> bytes:
    """A gzip body of ``decoded_bytes`` zeros (about a thousandth of that on the wire)."""
    zeros = bytes(1024 * 1024)
    compressor = zlib.compressobj(9, zlib.DEFLATED, 16 + zlib.MAX_WBITS)
    parts = []
    for _ in range(decoded_bytes // len(zeros)):
        parts.append(compressor.compress(zeros))
    parts.append(compressor.flush())
    return b"".join(parts)


@contextlib.contextmanager
def hostile() -> Iterator[HostileServer]:
    """A running :class:`HostileServer`."""
    with HostileServer() as server:
        yield server
