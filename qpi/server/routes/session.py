"""``POST /api/collections/{users,_superusers}/auth-refresh``: renew a session (PocketBase).

A valid, unexpired session token of the collection gets a fresh one with a full lifetime,
so a client can keep a session alive for as long as it runs without keeping the password.
"""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import Response

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
    if row is None:
        raise ErrorResponse(401, "The request requires valid record authorization token.")
    record = record_json("users", row) if name == "users" else superuser_record(row)
    return json_response({"token": ctx.signer.issue(row["id"], name), "record": record})
