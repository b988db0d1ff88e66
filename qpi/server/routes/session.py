"""``POST /api/collections/{users,_superusers}/auth-refresh``: renew a session (PocketBase).

A valid, unexpired session token of the collection gets a fresh one with a full lifetime,
so a client can keep a session alive for as long as it runs without keeping the password.
"""

from __future__ import annotations

import hmac

from fastapi import APIRouter, Request
from fastapi.responses import Response

from qpi.server.auth import session_key
from qpi.server.deps import Ctx
from qpi.server.errors import ErrorResponse, json_response
from qpi.server.views import record_json, superuser_record

__all__ = ["router"]

router = APIRouter(tags=["collections"])

_TABLES = {"users": "users", "_superusers": "superusers"}


@router.post("/api/collections/{name}/auth-refresh")
def auth_refresh(name: str, request: Request, ctx: Ctx) -> Response:
    """A new session token for the caller's valid one: ``{"token": <JWT>, "record": {...}}``."""
    if name not in _TABLES:
        raise ErrorResponse(404, "Missing or invalid auth collection context.")
    header = request.headers.get("authorization", "").strip()
    claims = ctx.signer.verify(header.removeprefix("Bearer ").strip()) if header else None
    row = ctx.store.get(_TABLES[name], claims[0]) if claims and claims[1] == name else None
    # A session of an old password (the key changed with it) is not renewed.
    if row is None or not hmac.compare_digest(claims[2], session_key(row)):
        raise ErrorResponse(401, "The request requires valid record authorization token.")
    record = record_json("users", row) if name == "users" else superuser_record(row)
    token = ctx.signer.issue(row["id"], name, session_key(row))
    return json_response({"token": token, "record": record})
