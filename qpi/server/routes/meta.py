"""Server metadata: ``/api/op/version`` (admin) and ``/api/health`` (anyone)."""

from __future__ import annotations

from fastapi import APIRouter
from fastapi.responses import Response

from qpi.server.completion import MAX_WAIT_SECONDS
from qpi.server.deps import Admin, Ctx
from qpi.server.errors import json_response

__all__ = ["EXTENSIONS", "SERVER_VERSION", "router"]

#: The version of the real server whose API this one speaks.
SERVER_VERSION = "v0.1.2"

router = APIRouter(tags=["meta"])


@router.get("/api/op/version")
def version(admin: Admin) -> Response:
    """The QPI server version this server emulates."""
    return json_response({"version": SERVER_VERSION})


#: What ``/api/health`` adds to PocketBase's answer: the extensions this server offers.
EXTENSIONS = {"jobWait": MAX_WAIT_SECONDS}


@router.get("/api/health")
async def health(ctx: Ctx) -> Response:
    """Liveness, in PocketBase's shape; ``data.jobWait`` advertises ``?wait=`` on job GETs.

    ``jobWait`` is the longest wait one request may ask for, in seconds. Clients look for it
    once per server and poll where it is missing (a real server, an older local one).
    """
    data = EXTENSIONS if ctx.config.offer_wait else {}
    return json_response({"message": "API is healthy.", "code": 200, "data": data})
