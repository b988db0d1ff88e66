"""The HTTP/1.1 protocol the local orchestrator serves: uvicorn's h11 one, with QPI error bodies.

A request that h11 cannot parse (a garbled request line, bad header syntax, or a request
line and headers too long to buffer) never reaches the application, so FastAPI's error
handlers cannot answer it. uvicorn then writes a ``text/plain`` 400 of its own; this
protocol writes the same 400 with the QPI error body instead, so every error a client can
get from the server has one shape.
"""

from __future__ import annotations

import json

import h11
from uvicorn.protocols.http.h11_impl import H11Protocol

__all__ = ["INVALID_REQUEST_MESSAGE", "QPIH11Protocol"]

INVALID_REQUEST_MESSAGE = (
    "Invalid HTTP request: the request line or headers could not be parsed, or are too long. "
    "Send an HTTP/1.1 request with a shorter URL and smaller headers (put data in a JSON body)."
)
"""The message of the 400 answered to a request the HTTP parser rejected."""


class QPIH11Protocol(H11Protocol):
    """uvicorn's h11 protocol, answering unparsable requests with the QPI error body."""

    def send_400_response(self, msg: str) -> None:
        """Answer 400 with ``{"data": {}, "message": ..., "status": 400}`` and close.

        Args:
            msg: uvicorn's own message, which is logged; the body carries a fuller one.
        """
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
