"""QPU discovery (``/api/qpus``) and the admin QPU routes (``/api/op/...``).

``/api/op/qpus/connect`` was removed from the real server in 0.1.1 but the original client
still calls it; here it "connects" a QPU created with ``/api/op/qpus/create`` to one of the
built-in executors, so jobs sent to it run.
"""

from __future__ import annotations

import hmac
from typing import Any

from fastapi import APIRouter
from fastapi.responses import Response
from pydantic import BaseModel, ConfigDict, Field

from qpi.server import dates
from qpi.server.bodies import openapi_body, parse_body
from qpi.server.config import EXECUTOR_TYPES, SIMULATOR_MAX_QUBITS
from qpi.server.context import ServerContext
from qpi.server.deps import Admin, Body, Ctx
from qpi.server.errors import INVALID_BODY, ErrorResponse, field_error, json_response
from qpi.server.ids import hash_token, new_id, new_secret_token
from qpi.server.listing import SQL_INT_MAX
from qpi.server.routes import list_rows
from qpi.server.views import qpu_json

__all__ = ["QPUConnect", "QPUCreate", "QPUToggle", "find_qpu", "router"]

router = APIRouter(tags=["qpus"])

QPU_SORT_FIELDS = frozenset({"id", "name", "status", "num_qubits", "enabled", "created", "updated"})


class QPUCreate(BaseModel):
    """The body of ``POST /api/op/qpus/create``."""

    model_config = ConfigDict(strict=True)

    name: str = Field(min_length=1, max_length=5000)
    num_qubits: int | None = Field(default=None, ge=0, le=SQL_INT_MAX)
    enabled: bool = True
    executor_type: str | None = Field(default=None, description="mock or qiskit_aer")


class QPUConnect(BaseModel):
    """The body of ``POST /api/op/qpus/connect``."""

    model_config = ConfigDict(strict=True)

    name: str = Field(min_length=1)
    access_token: str = Field(min_length=1)
    executor_type: str | None = None
    device_config: dict[str, Any] | None = None


class QPUToggle(BaseModel):
    """The body of ``POST /api/op/qpu/toggle``; a missing ``enabled`` disables."""

    model_config = ConfigDict(strict=True)

    id: str = Field(min_length=1)
    enabled: bool = False


def find_qpu(ctx: ServerContext, key: str) -> dict[str, Any] | None:
    """A QPU by record id, else by name (the oldest of that name)."""
    qpu = ctx.store.get("qpus", key)
    if qpu is None:
        named = ctx.store.find("qpus", name=key)
        qpu = named[0] if named else None
    return qpu


def _executor(value: str | None, default: str) -> str:
    if value is None or value == "":
        return default
    if value not in EXECUTOR_TYPES:
        message = f'unknown executor type "{value}"; use one of {", ".join(EXECUTOR_TYPES)}'
        raise ErrorResponse(
            400, INVALID_BODY, {"executor_type": field_error("validation_invalid_value", message)}
        )
    return value


@router.get("/api/qpus")
def list_qpus(
    ctx: Ctx,
    skip: str | None = None,
    limit: str | None = None,
    sort: str | None = None,
) -> Response:
    """The online QPUs, oldest first unless ``sort`` says otherwise."""
    rows = list_rows(
        ctx,
        "QPUs",
        "SELECT * FROM qpus WHERE status = 'online'",
        (),
        sort=sort,
        fields=QPU_SORT_FIELDS,
        default_sort="+created",
        skip=skip,
        limit=limit,
    )
    return json_response([qpu_json(row, ctx.config.default_qpu) for row in rows])


@router.get("/api/qpus/{key}")
def get_qpu(key: str, ctx: Ctx) -> Response:
    """One QPU by record id or by name, whatever its status."""
    qpu = find_qpu(ctx, key)
    if qpu is None:
        raise ErrorResponse(404, "QPU not found.")
    return json_response(qpu_json(qpu, ctx.config.default_qpu))


@router.post("/api/op/qpus/create", status_code=201, openapi_extra=openapi_body(QPUCreate))
def create_qpu(
    admin: Admin,
    body: Body,
    ctx: Ctx,
) -> Response:
    """Create an offline QPU; the answer carries its one-time ``access_token``."""
    request = parse_body(body, QPUCreate)
    access_token = new_secret_token()
    stamp = dates.now()
    qpu = ctx.store.insert(
        "qpus",
        {
            "id": new_id(),
            "name": request.name,
            "status": "offline",
            "num_qubits": request.num_qubits or SIMULATOR_MAX_QUBITS,
            "enabled": request.enabled,
            "executor_type": _executor(request.executor_type, "mock"),
            "access_token_hash": hash_token(access_token),
            "created": stamp,
            "updated": stamp,
        },
    )
    answer = {key: qpu[key] for key in ("id", "name", "status", "enabled", "executor_type")}
    answer["access_token"] = access_token
    return json_response(answer, 201)


@router.post("/api/op/qpus/connect", openapi_extra=openapi_body(QPUConnect))
def connect_qpu(
    body: Body,
    ctx: Ctx,
) -> Response:
    """Bring a created QPU online on a built-in executor; its access token is the credential."""
    request = parse_body(body, QPUConnect)
    digest = hash_token(request.access_token)
    qpu = next(
        (
            row
            for row in ctx.store.find("qpus", name=request.name)
            if row["access_token_hash"] and hmac.compare_digest(row["access_token_hash"], digest)
        ),
        None,
    )
    if qpu is None:
        raise ErrorResponse(401, "Invalid access token.")
    if not qpu["enabled"]:
        raise ErrorResponse(403, "QPU is currently disabled by administrator.")
    executor = _executor(request.executor_type, qpu["executor_type"])
    ctx.store.update(
        "qpus",
        qpu["id"],
        {"status": "online", "connected": True, "executor_type": executor, "updated": dates.now()},
    )
    ctx.scheduler.wake()
    return json_response(
        {"status": "success", "nng_in_port": 0, "nng_out_port": 0, "nng_host": "127.0.0.1"}
    )


@router.post("/api/op/qpu/toggle", openapi_extra=openapi_body(QPUToggle))
def toggle_qpu(
    admin: Admin,
    body: Body,
    ctx: Ctx,
) -> Response:
    """Enable or disable a QPU; a disabled QPU is offline and gets no jobs (they wait)."""
    request = parse_body(body, QPUToggle)
    qpu = find_qpu(ctx, request.id)
    if qpu is None:
        raise ErrorResponse(404, "QPU not found.")
    online = request.enabled and qpu["connected"]
    qpu = ctx.store.update(
        "qpus",
        qpu["id"],
        {
            "enabled": request.enabled,
            "status": "online" if online else "offline",
            "updated": dates.now(),
        },
    )
    ctx.scheduler.wake()
    return json_response({key: qpu[key] for key in ("id", "name", "enabled", "status")})
