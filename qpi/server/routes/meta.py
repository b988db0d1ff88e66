"""Server metadata: ``/api/op/version`` (admin) and ``/api/health`` (anyone)."""

from __future__ import annotations

from fastapi import APIRouter
from fastapi.responses import HTMLResponse, Response

from qpi.server.deps import Admin
from qpi.server.errors import json_response

__all__ = ["SERVER_VERSION", "router"]

#: The version of the real server whose API this one speaks.
SERVER_VERSION = "v0.1.2"

router = APIRouter(tags=["meta"])

_INDEX = """<!doctype html>
<html><head><meta charset="utf-8"><title>QPI local orchestrator</title></head>
<body><h1>QPI local orchestrator</h1>
<p>This is the QPI REST API served by <code>qpi serve</code>. See <a href="/docs">/docs</a>.</p>
</body></html>
"""


@router.get("/api/op/version")
def version(admin: Admin) -> Response:
    """The QPI server version this server emulates."""
    return json_response({"version": SERVER_VERSION})


@router.get("/api/health")
def health() -> Response:
    """Liveness, in PocketBase's shape."""
    return json_response({"message": "API is healthy.", "code": 200, "data": {}})


@router.get("/", include_in_schema=False)
def index() -> HTMLResponse:
    """A small landing page (the real server serves its dashboard here)."""
    return HTMLResponse(_INDEX)
