"""Request handling a real v0.1.2 server does before any route (strict mode).

* PocketBase's own routes (``/api/collections/*``, ``/api/realtime``) know nothing of QPI API
  tokens: there a request carrying only an API token (``X-API-Token``, or as a Bearer value
  that is not a session JWT) is anonymous.
* Bodies are bound by content type: JSON is read as JSON, a URL-encoded form as flat string
  fields, and anything else (no ``Content-Type``, ``text/plain``, ...) with a non-empty body is
  refused with 400, as PocketBase's ``BindBody`` refuses it.
"""

from __future__ import annotations

import json
from urllib.parse import parse_qsl

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from qpi.server.errors import INVALID_BODY, error_body

__all__ = ["StrictMiddleware"]

#: The message PocketBase's own routes give a body they cannot bind.
_PB_UNREADABLE = "An error occurred while loading the submitted data."
_PB_PREFIXES = ("/api/collections/", "/api/realtime")


class StrictMiddleware:
    """ASGI middleware applying the real server's header and body rules.

    Args:
        app: The wrapped application.
    """

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Rewrite credentials and bodies as the real server reads them, then run the app."""
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        path = scope.get("path", "")
        pocketbase = path.startswith(_PB_PREFIXES)
        if pocketbase:
            scope = dict(scope, headers=_session_only(scope))
        if scope.get("method") not in ("POST", "PATCH", "PUT"):
            await self.app(scope, receive, send)
            return
        body = await _read_all(receive)
        kind = _content_type(scope)
        if body.strip() and kind != "application/json":
            if kind != "application/x-www-form-urlencoded":
                await _refuse(send, _PB_UNREADABLE if pocketbase else INVALID_BODY)
                return
            fields = dict(parse_qsl(body.decode("utf-8", "replace"), keep_blank_values=True))
            body = json.dumps(fields).encode()
        await self.app(scope, _replay(body, receive), send)


def _session_only(scope: Scope) -> list[tuple[bytes, bytes]]:
    """The request headers without API tokens (a Bearer value kept only if it is a JWT)."""
    ctx = getattr(scope["app"].state, "ctx", None)
    headers = []
    for name, value in scope.get("headers", ()):
        if name == b"x-api-token":
            continue
        if name == b"authorization":
            token = value.decode("latin-1").strip().removeprefix("Bearer ").strip()
            if ctx is None or ctx.signer.verify(token) is None:
                continue
        headers.append((name, value))
    return headers


def _content_type(scope: Scope) -> str:
    for name, value in scope.get("headers", ()):
        if name == b"content-type":
            return value.decode("latin-1").split(";", 1)[0].strip().lower()
    return ""


async def _read_all(receive: Receive) -> bytes:
    # The guard outside this middleware has already capped the body's size.
    chunks = []
    while True:
        message = await receive()
        if message["type"] != "http.request":
            break
        chunks.append(message.get("body", b""))
        if not message.get("more_body", False):
            break
    return b"".join(chunks)


def _replay(body: bytes, receive: Receive) -> Receive:
    """A ``receive`` that hands the app ``body``, then waits on the client as before."""
    sent = False

    async def replayed() -> Message:
        nonlocal sent
        if not sent:
            sent = True
            return {"type": "http.request", "body": body, "more_body": False}
        return await receive()

    return replayed


async def _refuse(send: Send, message: str) -> None:
    body = json.dumps(error_body(400, message)).encode()
    headers = [(b"content-type", b"application/json"), (b"content-length", b"%d" % len(body))]
    await send({"type": "http.response.start", "status": 400, "headers": headers})
    await send({"type": "http.response.body", "body": body})
