"""``/api/jobs``: submit, list, get and cancel jobs (reference §4.1-§4.4)."""

from __future__ import annotations

import re
from typing import Annotated, Any

from fastapi import APIRouter
from fastapi.responses import Response
from pydantic import BaseModel, ConfigDict, Field

from qpi.payload import SUBMISSION_MARK
from qpi.server import dates
from qpi.server.auth import Identity
from qpi.server.bodies import openapi_body, parse_body
from qpi.server.context import ServerContext
from qpi.server.deps import Body, Caller, Ctx
from qpi.server.errors import ErrorResponse, field_error, json_response
from qpi.server.ids import new_id
from qpi.server.routes import list_rows
from qpi.server.views import job_json

__all__ = ["CircuitIn", "JobSubmit", "router", "stored_payload"]

router = APIRouter(tags=["jobs"])

#: Fields ``GET /api/jobs?sort=`` accepts.
JOB_SORT_FIELDS = frozenset(
    {"id", "user_id", "qpu_target", "status", "finished_at", "duration", "created", "updated"}
)
DEFAULT_SHOTS = 1024

#: The tag the SDK ends a submission's first circuit with (see ``qpi.payload.mark_submission``).
_SUBMISSION_TAG = re.compile(re.escape(SUBMISSION_MARK) + r"([0-9a-f]{32})\n\Z")

Count = Annotated[int, Field(ge=0)]
FiniteNumber = Annotated[float, Field(allow_inf_nan=False)]


class CircuitIn(BaseModel):
    """One circuit of a submission."""

    model_config = ConfigDict(strict=True)

    circuit: str = Field(description="OpenQASM 3 (or 2) program text.")
    parameter_values: list[list[FiniteNumber]] | None = Field(
        default=None, description="One row of values per binding, in sorted input-name order."
    )
    shots: Count | None = Field(default=None, description="Overrides the job's shots.")


class JobSubmit(BaseModel):
    """The body of ``POST /api/jobs``; unknown keys are ignored."""

    model_config = ConfigDict(strict=True)

    circuits: list[CircuitIn] = Field(min_length=1)
    shots: Count | None = Field(default=None, description="0 or missing means 1024.")
    meas_level: Annotated[int, Field(ge=0, le=2)] | None = Field(default=None)
    meas_return: str | None = Field(default=None, pattern="^(single|avg|)$")
    qpu_target: str | None = Field(default=None, description="A QPU record id.")


def stored_payload(request: JobSubmit) -> dict[str, Any]:
    """The defaulted request as stored (reference §6.2): unknown keys and empty values dropped."""
    circuits = []
    for item in request.circuits:
        entry: dict[str, Any] = {"circuit": item.circuit}
        if item.parameter_values:
            entry["parameter_values"] = item.parameter_values
        if item.shots is not None:
            entry["shots"] = item.shots
        circuits.append(entry)
    payload: dict[str, Any] = {
        "circuits": circuits,
        "shots": request.shots or DEFAULT_SHOTS,
        "meas_level": 2 if request.meas_level is None else request.meas_level,
        "meas_return": request.meas_return or "single",
    }
    if request.qpu_target:
        payload["qpu_target"] = request.qpu_target
    return payload


def _check_target(ctx: ServerContext, target: str) -> None:
    if ctx.store.get("qpus", target) is not None:
        return
    named = ctx.store.find("qpus", name=target)
    hint = (
        f'; the QPU named "{target}" has id "{named[0]["id"]}"'
        if named
        else "; GET /api/qpus lists the online QPUs"
    )
    message = f'Unknown QPU target "{target}": qpu_target must be a QPU record id{hint}'
    raise ErrorResponse(
        400, message, {"qpu_target": field_error("validation_missing_rel_records", message)}
    )


@router.post("/api/jobs", status_code=201, openapi_extra=openapi_body(JobSubmit))
def submit_job(
    identity: Caller,
    body: Body,
    ctx: Ctx,
) -> Response:
    """Submit a job; it is stored before the answer and run as soon as a worker is free."""
    if identity.user["qpu_seconds"] <= 0:
        raise ErrorResponse(403, "Insufficient QPU seconds balance.")
    request = parse_body(body, JobSubmit)
    if request.qpu_target:
        _check_target(ctx, request.qpu_target)
    payload = stored_payload(request)
    tag = _SUBMISSION_TAG.search(request.circuits[0].circuit)
    submission = tag.group(1) if tag else ""
    stamp = dates.now()
    with ctx.store.transaction():
        if submission:
            # A resent submission (its first answer was lost, or it was held up on the way
            # and arrived late) is the job already made for it, never a second one.
            earlier = ctx.store.find(
                "quantum_jobs", user_id=identity.user_id, submission=submission
            )
            if earlier:
                if earlier[0]["payload"] != payload:
                    raise ErrorResponse(
                        409, "This submission tag was already used for a different job."
                    )
                return json_response(job_json(earlier[0]), 201)
        job = ctx.store.insert(
            "quantum_jobs",
            {
                "id": new_id(),
                "user_id": identity.user_id,
                "qpu_target": request.qpu_target or "",
                "payload": payload,
                "status": "pending",
                "seq": ctx.store.next_value("quantum_jobs"),
                "created": stamp,
                "updated": stamp,
                "submission": submission,
            },
        )
    ctx.scheduler.wake()
    return json_response(job_json(job), 201)


@router.get("/api/jobs")
def list_jobs(
    identity: Caller,
    ctx: Ctx,
    skip: str | None = None,
    limit: str | None = None,
    sort: str | None = None,
) -> Response:
    """The caller's jobs as a bare array, newest first unless ``sort`` says otherwise."""
    rows = list_rows(
        ctx,
        "jobs",
        "SELECT * FROM quantum_jobs WHERE user_id = ?",
        (identity.user_id,),
        sort=sort,
        fields=JOB_SORT_FIELDS,
        default_sort="-created",
        skip=skip,
        limit=limit,
        tiebreak="seq",
    )
    return json_response([job_json(row) for row in rows])


def _own_job(ctx: ServerContext, identity: Identity, job_id: str) -> dict[str, Any]:
    rows = ctx.store.query(
        "SELECT * FROM quantum_jobs WHERE id = ? AND user_id = ?", (job_id, identity.user_id)
    )
    if not rows:
        raise ErrorResponse(404, "Job not found.")
    return rows[0]


@router.get("/api/jobs/{job_id}")
def get_job(
    job_id: str,
    identity: Caller,
    ctx: Ctx,
    fields: str | None = None,
) -> Response:
    """One of the caller's jobs, with its real results once it has them.

    ``?fields=id,status`` answers only those top-level fields (PocketBase's picker), so a
    client polling for completion does not download the results on every poll.
    """
    record = job_json(_own_job(ctx, identity, job_id))
    if fields:
        wanted = {name.strip() for name in fields.split(",")[:64]}
        if "*" not in wanted:
            record = {key: value for key, value in record.items() if key in wanted}
    return json_response(record)


@router.post("/api/jobs/{job_id}/cancel")
def cancel_job(
    job_id: str,
    identity: Caller,
    ctx: Ctx,
) -> Response:
    """Cancel a pending or running job; a cancelled job stays cancelled."""
    changed = ctx.store.execute(
        "UPDATE quantum_jobs SET status = 'cancelled', updated = ? "
        "WHERE id = ? AND user_id = ? AND status IN ('pending', 'running')",
        (dates.now(), job_id, identity.user_id),
    )
    if not changed:
        raise ErrorResponse(404, "Job not found, maybe it was already completed or cancelled?")
    return json_response({"status": "cancelled"})
