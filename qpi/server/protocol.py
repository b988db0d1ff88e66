"""The HTTP/1.1 protocol of the local orchestrator: uvicorn's h11 one, bounded, with QPI errors.

What it adds to uvicorn's:

* **QPI error bodies for what never reaches the app.** A request h11 cannot parse (a garbled
  request line, bad header syntax, headers over the size limit) gets the usual 400 with
  ``{"data": {}, "message": ..., "status": 400}`` instead of uvicorn's ``text/plain`` one.
* **Read deadlines.** uvicorn closes a keep-alive connection idle for ``timeout_keep_alive``,
  but restarts nothing while a request trickles in: a client that sends one header byte now
  and then, or never finishes its body, holds its connection (and a file descriptor) for ever.
  Here the headers of a request must all arrive within ``header_timeout`` of its first byte
  (else 408 and close), and its body within ``body_timeout`` of its headers (else close). A new
  connection that sends nothing is closed after ``timeout_keep_alive`` like an idle one.
* **A connection limit.** Beyond ``max_connections`` open connections a new one is answered
  503 with ``Retry-After`` and closed at once, so the server never runs out of file
  descriptors (which made every accept, request and log line fail).

The limits come in a [`ConnectionLimits`][qpi.server.protocol.ConnectionLimits];
[`protocol_factory`][qpi.server.protocol.protocol_factory] binds them to the class uvicorn
instantiates per connection.
"""

from __future__ import annotations

import asyncio
import functools
import json
import logging
import resource
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import h11
from uvicorn.protocols.http.h11_impl import H11Protocol

__all__ = [
    "INVALID_REQUEST_MESSAGE",
    "ConnectionLimits",
    "QPIH11Protocol",
    "default_max_connections",
    "protocol_factory",
]

LOGGER = logging.getLogger("qpi.server.protocol")

INVALID_REQUEST_MESSAGE = (
    "Invalid HTTP request: the request line or headers could not be parsed, or are too long. "
    "Send an HTTP/1.1 request with a shorter URL and smaller headers (put data in a JSON body)."
)
"""The message of the 400 answered to a request the HTTP parser rejected."""

#: The most connections `default_max_connections` allows, whatever the descriptor limit.
MAX_CONNECTIONS_CAP = 1000


def default_max_connections() -> int:
    """Half the process's open-file limit, at most `MAX_CONNECTIONS_CAP`.

    The other half is for the database, the worker pipes and the logs.
    """
    soft, _ = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft == resource.RLIM_INFINITY or soft <= 0:
        return MAX_CONNECTIONS_CAP
    return max(8, min(MAX_CONNECTIONS_CAP, soft // 2))


@dataclass(frozen=True)
class ConnectionLimits:
    """How long a request may take to arrive, and how many connections may be open.

    Attributes:
        header_timeout: Seconds from a request's first byte to the end of its headers.
        body_timeout: Seconds from the end of a request's headers to the end of its body.
        max_connections: Open connections beyond which new ones are refused with 503.
    """

    header_timeout: float = 10.0
    body_timeout: float = 60.0
    max_connections: int = MAX_CONNECTIONS_CAP


def _raw_error(status: int, reason: str, message: str, retry_after: int | None = None) -> bytes:
    """A complete ``Connection: close`` error response, as bytes.

    Written without h11, whose state machine allows no response before a request was read.
    """
    body = json.dumps({"data": {}, "message": message, "status": status}, separators=(",", ":"))
    head = [
        f"HTTP/1.1 {status} {reason}",
        "content-type: application/json",
        f"content-length: {len(body)}",
        "connection: close",
    ]
    if retry_after is not None:
        head.append(f"retry-after: {retry_after}")
    return ("\r\n".join(head) + "\r\n\r\n" + body).encode()


class QPIH11Protocol(H11Protocol):
    """uvicorn's h11 protocol with read deadlines, a connection limit and QPI error bodies.

    Args:
        *args: uvicorn's ``(config, server_state, app_state, _loop)``.
        limits: The deadlines and the connection limit.
        **kwargs: uvicorn's, passed on.
    """

    def __init__(self, *args: Any, limits: ConnectionLimits | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.limits = limits or ConnectionLimits()
        self._read_deadline: asyncio.TimerHandle | None = None
        self._reading_body = False
        self._refused = False

    # -- connections -----------------------------------------------------------------------------

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        """Accept the connection, or refuse it with 503 when the limit is reached."""
        if len(self.connections) >= self.limits.max_connections:
            self._refused = True
            self.transport = transport
            LOGGER.warning(
                "refused a connection: %d are open, the limit (max_connections)",
                len(self.connections),
            )
            message = (
                f"The server has {len(self.connections)} open connections, its limit; "
                "retry in a moment"
            )
            transport.write(_raw_error(503, "Service Unavailable", message, retry_after=1))
            transport.close()
            return
        super().connection_made(transport)
        # uvicorn arms its idle timer only after a response: a silent new connection too.
        self.timeout_keep_alive_task = self.loop.call_later(
            self.timeout_keep_alive, self.timeout_keep_alive_handler
        )

    def connection_lost(self, exc: Exception | None) -> None:
        """Forget the connection (a refused one was never counted)."""
        self._disarm()
        if self._refused:
            return
        super().connection_lost(exc)

    def data_received(self, data: bytes) -> None:
        """Feed h11, keeping the current request's read deadline."""
        if self._refused:
            return
        if self._read_deadline is None and self.conn.their_state is h11.IDLE:
            self._arm(self.limits.header_timeout, self._headers_late)  # a request begins
        super().data_received(data)
        self._follow_request()

    # -- read deadlines --------------------------------------------------------------------------

    def _arm(self, seconds: float, handler: Callable[[], None]) -> None:
        self._disarm()
        self._read_deadline = self.loop.call_later(seconds, handler)

    def _disarm(self) -> None:
        if self._read_deadline is not None:
            self._read_deadline.cancel()
            self._read_deadline = None

    def _follow_request(self) -> None:
        """Move the deadline along as the request's headers, then its body, arrive."""
        state = self.conn.their_state
        if state is h11.IDLE:
            return  # the headers are not complete: their deadline stands
        if state is h11.SEND_BODY:
            if not self._reading_body:
                self._reading_body = True
                self._arm(self.limits.body_timeout, self._body_late)
            return
        self._reading_body = False
        self._disarm()

    def _headers_late(self) -> None:
        self._read_deadline = None
        if self.transport.is_closing() or self.conn.their_state is not h11.IDLE:
            return
        message = (
            f"Request timeout: the request's headers did not arrive within "
            f"{self.limits.header_timeout:g} s"
        )
        self.transport.write(_raw_error(408, "Request Timeout", message))
        self.transport.close()

    def _body_late(self) -> None:
        # The app is waiting for the body: closing tells it the client is gone.
        self._read_deadline = None
        self._reading_body = False
        if not self.transport.is_closing():
            self.transport.close()

    # -- errors ----------------------------------------------------------------------------------

    def send_400_response(self, msg: str) -> None:
        """Answer 400 with ``{"data": {}, "message": ..., "status": 400}`` and close.

        Args:
            msg: uvicorn's own message, which is logged; the body carries a fuller one.
        """
        self._disarm()
        body = json.dumps(
            {"data": {}, "message": INVALID_REQUEST_MESSAGE, "status": 400}, separators=(",", ":")
        )
        payload = body.encode()
        headers = [
            (b"content-type", b"application/json"),
            (b"content-length", str(len(payload)).encode()),
            (b"connection", b"close"),
        ]
        for event in (
            h11.Response(status_code=400, headers=headers, reason=b"Bad Request"),
            h11.Data(data=payload),
            h11.EndOfMessage(),
        ):
            self.transport.write(self.conn.send(event))
        self.transport.close()


def protocol_factory(limits: ConnectionLimits) -> Callable[..., QPIH11Protocol]:
    """The ``http`` protocol class to give ``uvicorn.Config``, bound to ``limits``."""
    return functools.partial(QPIH11Protocol, limits=limits)
