"""The routes a real v0.1.2 server answers differently, registered ahead of the friendly ones.

Each handler reuses the friendly route and changes only what the real server does otherwise
(reference §4): the job routes return the payload where ``results`` belong; an unknown
``qpu_target`` or a payload over 1 MiB is a 500 "Failed to save job."; a bad ``sort`` on a
custom list route is a 500; QPUs are found by record id only; a QPU created without
``num_qubits`` has 0; ``/api/op/qpus/connect`` does not exist (removed in 0.1.1).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import Response
from starlette.concurrency import run_in_threadpool

from qpi.server import dates
from qpi.server.auth import Identity
from qpi.server.bodies import RawBody, parse_body
from qpi.server.context import ServerContext
from qpi.server.deps import Admin, Body, Caller, Ctx
from qpi.server.errors import NOT_FOUND, ErrorResponse, field_error, json_response
from qpi.server.ids import new_id
from qpi.server.responses import picked_response, requested_fields
from qpi.server.routes import jobs, qpus, tokens
from qpi.server.strict.limits import JSON_FIELD_MAX_BYTES
from qpi.server.views import qpu_json

__all__ = ["router"]

router = APIRouter(tags=["strict"])

_SAVE_FAILED = "Failed to save job."


def _payload_as_results(response: Response, fields: str | None = None) -> Response:
    """The v0.1.2 bug: every job the custom routes return has ``results`` = its payload.

    ``response`` holds whole jobs; PocketBase's ``fields`` picker applies afterwards.
    """
    body = json.loads(bytes(response.body))
    for job in body if isinstance(body, list) else [body]:
        if isinstance(job, dict) and "payload" in job:
            job["results"] = job["payload"]
    return picked_response(body, requested_fields(fields), response.status_code)


def _query_failed(what: str, call: Callable[[], Response]) -> Response:
    """A bad ``sort`` makes the real server's query fail: 500, not 400."""
    try:
        return call()
    except ErrorResponse as exc:
        if exc.status == 400:
            raise ErrorResponse(500, f"Failed to query {what}.") from None
        raise


@router.post("/api/jobs", status_code=201)
async def submit_job(
    request: Request, identity: Caller, body: Body, ctx: Ctx, fields: str | None = None
) -> Response:
    """Submit as the real server: save failures are 500s, the answer repeats the payload."""
    await run_in_threadpool(_check_saveable, identity, body, ctx)
    answer = await jobs.submit_job(request=request, identity=identity, body=body, ctx=ctx)
    return _payload_as_results(answer, fields)


def _check_saveable(identity: Identity, body: RawBody, ctx: ServerContext) -> None:
    """The real server's refusals before and at saving a job (balance, relation, size)."""
    if identity.user["qpu_seconds"] <= 0:
        raise ErrorResponse(403, "Insufficient QPU seconds balance.")
    submitted = parse_body(body, jobs.JobSubmit)
    target = submitted.qpu_target
    if target and ctx.store.get("qpus", target) is None:
        message = "Failed to find all relation records with the provided ids."
        data = {"qpu_target": field_error("validation_missing_rel_records", message)}
        raise ErrorResponse(500, _SAVE_FAILED, data)
    size = len(json.dumps(jobs.stored_payload(submitted), separators=(",", ":")))
    if size > JSON_FIELD_MAX_BYTES:
        message = f"The maximum allowed JSON size is {JSON_FIELD_MAX_BYTES} bytes."
        data = {"payload": field_error("validation_json_size_limit", message)}
        raise ErrorResponse(500, _SAVE_FAILED, data)


@router.get("/api/jobs")
async def list_jobs(
    identity: Caller,
    ctx: Ctx,
    skip: str | None = None,
    limit: str | None = None,
    sort: str | None = None,
    fields: str | None = None,
) -> Response:
    """The caller's jobs, each with its payload as ``results``; a bad ``sort`` is a 500."""
    try:
        listed = await jobs.list_jobs(identity=identity, ctx=ctx, skip=skip, limit=limit, sort=sort)
    except ErrorResponse as exc:
        if exc.status == 400 and sort:
            raise ErrorResponse(500, "Failed to query jobs.") from None
        raise
    return _payload_as_results(listed, fields)


@router.get("/api/jobs/{job_id}")
async def get_job(
    job_id: str, request: Request, identity: Caller, ctx: Ctx, fields: str | None = None
) -> Response:
    """One of the caller's jobs, with its payload as ``results`` (``wait`` is not offered)."""
    answer = await jobs.get_job(job_id=job_id, request=request, identity=identity, ctx=ctx)
    return _payload_as_results(answer, fields)


@router.get("/api/tokens")
def list_tokens(
    identity: Caller,
    ctx: Ctx,
    skip: str | None = None,
    limit: str | None = None,
    sort: str | None = None,
) -> Response:
    """The caller's tokens; a bad ``sort`` is a 500."""
    call = lambda: tokens.list_tokens(identity, ctx, skip=skip, limit=limit, sort=sort)  # noqa: E731
    return _query_failed("tokens", call)


@router.get("/api/qpus")
def list_qpus(
    ctx: Ctx,
    skip: str | None = None,
    limit: str | None = None,
    sort: str | None = None,
) -> Response:
    """The online QPUs; a bad ``sort`` is a 500."""
    call = lambda: qpus.list_qpus(ctx, skip=skip, limit=limit, sort=sort)  # noqa: E731
    return _query_failed("QPUs", call)


@router.get("/api/qpus/{key}")
def get_qpu(key: str, ctx: Ctx) -> Response:
    """One QPU by record id only (a name is a 404, as on the real server)."""
    qpu = ctx.store.get("qpus", key)
    if qpu is None:
        raise ErrorResponse(404, "QPU not found.")
    return json_response(qpu_json(qpu))


@router.post("/api/op/qpus/create", status_code=201)
def create_qpu(admin: Admin, body: Body, ctx: Ctx) -> Response:
    """Create an offline QPU: 0 qubits unless given, no token (no driver will connect)."""
    request = parse_body(body, qpus.QPUCreate)
    stamp = dates.now()
    qpu = ctx.store.insert(
        "qpus",
        {
            "id": new_id(),
            "name": request.name,
            "status": "offline",
            "num_qubits": request.num_qubits or 0,
            "enabled": request.enabled,
            "executor_type": "mock",
            "access_token_hash": "",
            "created": stamp,
            "updated": stamp,
        },
    )
    return json_response({key: qpu[key] for key in ("id", "name", "status", "enabled")}, 201)


@router.post("/api/op/qpus/connect")
def connect_qpu(request: Request) -> Response:
    """Removed from the real server in 0.1.1: 404."""
    raise ErrorResponse(404, NOT_FOUND)


@router.post("/api/op/qpu/toggle")
def toggle_qpu(admin: Admin, body: Body, ctx: Ctx) -> Response:
    """Enable or disable by record id; disabling only marks the QPU offline.

    As on the real server, ``enabled`` does not stop dispatch (the driver keeps its jobs
    coming) and enabling again leaves the QPU offline until a driver reconnects.
    """
    request = parse_body(body, qpus.QPUToggle)
    qpu = ctx.store.get("qpus", request.id)
    if qpu is None:
        raise ErrorResponse(404, "QPU not found.")
    values: dict[str, Any] = {"enabled": request.enabled, "updated": dates.now()}
    if not request.enabled:
        values["status"] = "offline"
    qpu = ctx.store.update("qpus", qpu["id"], values)
    return json_response({key: qpu[key] for key in ("id", "name", "enabled", "status")})
