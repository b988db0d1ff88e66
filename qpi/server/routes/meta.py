"""Server metadata: ``/api/op/version`` (admin) and ``/api/health`` (anyone)."""

from __future__ import annotations

from fastapi import APIRouter
from fastapi.responses import Response

from qpi.server.deps import Admin
from qpi.server.errors import json_response

__all__ = ["SERVER_VERSION", "router"]

#: The version of the real server whose API this one speaks.
SERVER_VERSION = "v0.1.2"

router = APIRouter(tags=["meta"])


@router.get("/api/op/version")
def version(admin: Admin) -> Response:
    """The QPI server version this server emulates."""
    return json_response({"version": SERVER_VERSION})


@router.get("/api/health")
def health() -> Response:
    """Liveness, in PocketBase's shape."""
    return json_response({"message": "API is healthy.", "code": 200, "data": {}})
