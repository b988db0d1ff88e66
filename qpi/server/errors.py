"""QPI error bodies, and the handlers that make every failure one of them.

Every error answer is ``{"data": {...}, "message": "Sentenized.", "status": N}``, like
PocketBase's. Nothing ever answers with a traceback: malformed bodies are 400, oversized ones
413, unknown routes 404, wrong methods 405, and anything unexpected is logged and answered
with a plain 500 body.
"""

from __future__ import annotations

import errno
import json
import logging
import sqlite3
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import Response
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.requests import ClientDisconnect
from starlette.types import ASGIApp, Message, Receive, Scope, Send

__all__ = [
    "ErrorResponse",
    "GuardMiddleware",
    "error_body",
    "install_handlers",
    "is_disk_full",
    "json_response",
    "sentenize",
]

LOGGER = logging.getLogger("qpi.server")

NOT_FOUND = "The requested resource wasn't found."
INVALID_BODY = "Invalid request body."
STATUS_MESSAGES: dict[int, str] = {
    400: "Something went wrong while processing your request.",
    401: "Authentication required.",
    403: "You are not allowed to perform this request.",
    404: NOT_FOUND,
    405: "Method not allowed.",
    413: "Request entity too large.",
    429: "Too many requests.",
    500: "Something went wrong while processing your request.",
    507: "The server's disk is full.",
}
#: The answer to any request that failed because the server could not write to its disk.
DISK_FULL = (
    "The server's disk is full: it cannot store anything until its operator frees space "
    "(reads still work)"
)


def sentenize(text: str) -> str:
    """Upper-case the first letter and end with ``.`` unless it ends in ``.``, ``?`` or ``!``."""
    text = text.strip()
    if not text:
        return text
    text = text[0].upper() + text[1:]
    return text if text[-1] in ".?!" else text + "."


def error_body(status: int, message: str, data: dict[str, Any] | None = None) -> dict[str, Any]:
    """The QPI error body."""
    return {"data": data or {}, "message": sentenize(message), "status": status}


def json_response(
    content: Any, status: int = 200, headers: dict[str, str] | None = None
) -> Response:
    """A JSON response serialised directly (results can be large; skip jsonable_encoder)."""
    body = json.dumps(content, separators=(",", ":"), ensure_ascii=False, allow_nan=False)
    return Response(body, status_code=status, media_type="application/json", headers=headers)


class ErrorResponse(Exception):
    """Raised by handlers to answer with a QPI error body.

    Args:
        status: The HTTP status.
        message: The message (sentenized on the way out).
        data: Field errors, ``{field: {"code": ..., "message": ...}}``.
        headers: Extra response headers (e.g. ``Retry-After``).
    """

    def __init__(
        self,
        status: int,
        message: str,
        data: dict[str, Any] | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.data = data or {}
        self.headers = headers

    def response(self) -> Response:
        """The HTTP response for this error."""
        return json_response(
            error_body(self.status, self.message, self.data), self.status, self.headers
        )


def field_error(code: str, message: str) -> dict[str, str]:
    """One entry of an error body's ``data``."""
    return {"code": code, "message": sentenize(message)}


def _on_error_response(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, ErrorResponse)
    return exc.response()


def _on_http_exception(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, StarletteHTTPException)
    message = STATUS_MESSAGES.get(exc.status_code) or str(exc.detail)
    headers = dict(exc.headers) if exc.headers else None
    return json_response(error_body(exc.status_code, message), exc.status_code, headers)


def _on_validation_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, RequestValidationError)
    data = {}
    for err in exc.errors():
        loc = [str(p) for p in err.get("loc", ()) if p not in ("body", "query", "path")]
        data[".".join(loc) or "body"] = field_error(
            "validation_" + str(err.get("type", "invalid")), str(err.get("msg", "invalid"))
        )
    return json_response(error_body(400, INVALID_BODY, data), 400)


def install_handlers(app: FastAPI) -> None:
    """Register the handlers that turn every error into a QPI error body."""
    app.add_exception_handler(ErrorResponse, _on_error_response)
    app.add_exception_handler(StarletteHTTPException, _on_http_exception)
    app.add_exception_handler(RequestValidationError, _on_validation_error)


class BodyTooLarge(Exception):
    """The request body went past the configured limit while it was being read."""


class GuardMiddleware:
    """Outermost ASGI guard: caps body size and turns stray exceptions into 500 bodies.

    Args:
        app: The wrapped application.
        max_body_bytes: Largest request body accepted; larger ones get 413.
    """

    def __init__(self, app: ASGIApp, max_body_bytes: int) -> None:
        self.app = app
        self.max_body_bytes = max_body_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Run the request, guarding the body size and catching anything unexpected."""
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        length = _content_length(scope)
        if length is not None and length > self.max_body_bytes:
            await _send_error(send, 413, self._too_large())
            return
        started = False
        seen = 0

        async def counting_receive() -> Message:
            nonlocal seen
            message = await receive()
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > self.max_body_bytes:
                    raise BodyTooLarge
            return message

        async def tracking_send(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        try:
            await self.app(scope, counting_receive, tracking_send)
        except BodyTooLarge:
            if not started:
                await _send_error(send, 413, self._too_large())
        except ClientDisconnect:
            return  # the client left (or was cut off for being slow): nobody to answer
        except Exception as exc:
            if is_disk_full(exc):
                LOGGER.error("disk full on %s %s", scope.get("method"), scope.get("path"))
                if not started:
                    await _send_error(send, 507, DISK_FULL)
                return
            LOGGER.exception("unhandled error on %s %s", scope.get("method"), scope.get("path"))
            if not started:
                await _send_error(send, 500, STATUS_MESSAGES[500])

    def _too_large(self) -> str:
        return f"Request body too large: the limit is {self.max_body_bytes} bytes"


def is_disk_full(exc: BaseException) -> bool:
    """Whether ``exc`` (or what caused it) says the disk, or the database's size cap, is full."""
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        if isinstance(current, sqlite3.OperationalError) and (
            getattr(current, "sqlite_errorcode", None) == sqlite3.SQLITE_FULL
            or "database or disk is full" in str(current)
        ):
            return True
        if isinstance(current, OSError) and current.errno in (errno.ENOSPC, errno.EDQUOT):
            return True
        current = current.__cause__ or current.__context__
    return False


def _content_length(scope: Scope) -> int | None:
    for name, value in scope.get("headers", ()):
        if name == b"content-length":
            try:
                return int(value)
            except ValueError:
                return None
    return None


async def _send_error(send: Send, status: int, message: str) -> None:
    body = json.dumps(error_body(status, message)).encode()
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [
                (b"content-type", b"application/json"),
                (b"content-length", str(len(body)).encode()),
            ],
        }
    )
    await send({"type": "http.response.body", "body": body})
