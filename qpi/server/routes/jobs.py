"""``/api/jobs``: submit, list, get and cancel jobs (reference §4.1-§4.4)."""

from __future__ import annotations

import json
import math
import re
from typing import Annotated, Any

from fastapi import APIRouter, Request
from fastapi.responses import Response
from pydantic import BaseModel, ConfigDict, Field
from starlette.concurrency import run_in_threadpool

from qpi.payload import SUBMISSION_MARK
from qpi.server import dates
from qpi.server.auth import Identity
from qpi.server.bodies import RawBody, openapi_body, parse_body
from qpi.server.completion import MAX_WAIT_SECONDS
from qpi.server.context import ServerContext
from qpi.server.deps import Body, Caller, Ctx
from qpi.server.errors import ErrorResponse, field_error
from qpi.server.ids import new_id
from qpi.server.listing import lenient_int
from qpi.server.picker import Selection, pick
from qpi.server.responses import (
    bounded_array,
    json_text_response,
    picked_response,
    requested_fields,
)
from qpi.server.routes import list_rows
from qpi.server.store import RawJSON, decode_row
from qpi.server.views import JOB_KEYS, job_json, job_text

__all__ = ["CircuitIn", "JobSubmit", "router", "stored_payload"]

router = APIRouter(tags=["jobs"])

#: Fields ``GET /api/jobs?sort=`` accepts.
JOB_SORT_FIELDS = frozenset(
    {"id", "user_id", "qpu_target", "status", "finished_at", "duration", "created", "updated"}
)
DEFAULT_SHOTS = 1024
#: Statuses after which a job never changes.
FINAL_STATUSES = frozenset({"completed", "failed", "cancelled"})
#: The keys of each job in a list: all but ``results``, unless ``fields`` asks for them.
LIST_KEYS = tuple(key for key in JOB_KEYS if key != "results")

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


#: Bodies up to this size are validated and stored on the event loop; bigger ones in a worker
#: thread, so one big submission never stalls the other requests.
INLINE_BODY_BYTES = 64 * 1024


@router.post("/api/jobs", status_code=201, openapi_extra=openapi_body(JobSubmit))
async def submit_job(
    request: Request,
    identity: Caller,
    body: Body,
    ctx: Ctx,
    fields: str | None = None,
) -> Response:
    """Submit a job; it is stored before the answer and run as soon as a worker is free."""
    selection = requested_fields(fields)
    size = lenient_int(request.headers.get("content-length"), INLINE_BODY_BYTES + 1)
    if size <= INLINE_BODY_BYTES:
        return _submit(ctx, identity, body, selection)
    return await run_in_threadpool(_submit, ctx, identity, body, selection)


def _submit(
    ctx: ServerContext, identity: Identity, body: RawBody, selection: Selection | None
) -> Response:
    if identity.user["qpu_seconds"] <= 0:
        raise ErrorResponse(403, "Insufficient QPU seconds balance.")
    request = parse_body(body, JobSubmit)
    if request.qpu_target:
        _check_target(ctx, request.qpu_target)
    payload = stored_payload(request)
    tag = _SUBMISSION_TAG.search(request.circuits[0].circuit)
    submission = tag.group(1) if tag else ""
    stamp = dates.now()
    # Encoded once: stored as this text and answered as this text.
    payload_text = RawJSON(json.dumps(payload, separators=(",", ":")))
    job = {
        "id": new_id(),
        "user_id": identity.user_id,
        "qpu_target": request.qpu_target or "",
        "payload": payload_text,
        "status": "pending",
        "finished_at": "",
        "duration": 0,
        "results": None,
        "created": stamp,
        "updated": stamp,
    }
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
                return picked_response(job_json(earlier[0]), selection, 201)
        stored = {k: v for k, v in job.items() if k not in _UNSET_AT_SUBMIT}
        ctx.store.insert(
            "quantum_jobs",
            {**stored, "seq": ctx.store.next_value("quantum_jobs"), "submission": submission},
            reread=False,
        )
    ctx.scheduler.wake()
    keys, deep = _job_keys(selection, listing=False)
    return json_text_response(_job_texts([job], keys, selection, deep)[0], 201)


#: Columns a new job leaves to their defaults.
_UNSET_AT_SUBMIT = frozenset({"finished_at", "duration", "results"})


def _job_keys(selection: Selection | None, *, listing: bool) -> tuple[tuple[str, ...], bool]:
    """The job keys to read for ``fields``, and whether the picker must still go deeper.

    A list leaves ``results`` out unless ``fields`` asks for them (by name, a path under
    them, or ``*``): they are most of a job's size.
    """
    if selection is None:
        return (LIST_KEYS if listing else JOB_KEYS), False
    roots = selection.roots()
    keys = JOB_KEYS if roots is None else tuple(k for k in JOB_KEYS if k in roots)
    return keys, not selection.is_flat()


def _job_texts(
    rows: list[Any], keys: tuple[str, ...], selection: Selection | None, deep: bool
) -> list[str]:
    if not deep:
        return [job_text(row, keys) for row in rows]
    # Nested paths or modifiers: decode, pick, encode (rare: clients ask for whole fields).
    texts = []
    for row in rows:
        job = job_json(decode_row(row))
        texts.append(json.dumps(pick(job, selection), separators=(",", ":"), ensure_ascii=False))
    return texts


def _columns(keys: tuple[str, ...], deep: bool) -> str:
    # The picker works on the whole record; whole fields need only their own columns.
    return "*" if deep else ", ".join(dict.fromkeys(("id", "status", *keys)))


@router.get("/api/jobs")
async def list_jobs(
    identity: Caller,
    ctx: Ctx,
    skip: str | None = None,
    limit: str | None = None,
    sort: str | None = None,
    fields: str | None = None,
) -> Response:
    """The caller's jobs as a bare array, newest first unless ``sort`` says otherwise.

    ``results`` are left out unless ``fields`` asks for them; a page larger than the
    server's response limit is refused (400) with a message saying to ask for less.
    """
    selection = requested_fields(fields)
    keys, deep = _job_keys(selection, listing=True)
    return await run_in_threadpool(
        _list_jobs_text, ctx, identity, keys, selection, deep, skip, limit, sort
    )


def _list_jobs_text(
    ctx: ServerContext,
    identity: Identity,
    keys: tuple[str, ...],
    selection: Selection | None,
    deep: bool,
    skip: str | None,
    limit: str | None,
    sort: str | None,
) -> Response:
    # Off the event loop: a page can be many megabytes of rows to read and join.
    rows = list_rows(
        ctx,
        "jobs",
        f"SELECT {_columns(keys, deep)} FROM quantum_jobs WHERE user_id = ?",  # noqa: S608
        (identity.user_id,),
        sort=sort,
        fields=JOB_SORT_FIELDS,
        default_sort="-created",
        skip=skip,
        limit=limit,
        tiebreak="seq",
        raw=True,
    )
    texts = _job_texts(rows, keys, selection, deep)
    return json_text_response(bounded_array(texts, ctx.config.max_response_bytes, "jobs"))


def _own_job_row(ctx: ServerContext, identity: Identity, job_id: str, columns: str = "*") -> Any:
    rows = ctx.store.raw_rows(
        f"SELECT {columns} FROM quantum_jobs WHERE id = ? AND user_id = ?",  # noqa: S608
        (job_id, identity.user_id),
    )
    if not rows:
        raise ErrorResponse(404, "Job not found.")
    return rows[0]


def _wait_seconds(text: str | None) -> float:
    """The ``wait`` query value in seconds (0: answer at once), cut to the longest wait.

    Raises:
        ErrorResponse: 400 for anything but a non-negative number.
    """
    if text is None or not text.strip():
        return 0.0
    try:
        seconds = float(text)
    except ValueError:
        seconds = math.nan
    if not math.isfinite(seconds) or seconds < 0:
        raise ErrorResponse(
            400, f'Invalid wait "{text[:40]}": give the seconds to wait for the job to finish'
        )
    return min(seconds, MAX_WAIT_SECONDS)


@router.get("/api/jobs/{job_id}")
async def get_job(
    job_id: str,
    request: Request,
    identity: Caller,
    ctx: Ctx,
    fields: str | None = None,
    wait: str | None = None,
) -> Response:
    """One of the caller's jobs, with its real results once it has them.

    ``fields=status`` (PocketBase's picker) answers only the status: the cheap poll.
    ``wait=S`` (this server's extension) answers as soon as the job is final, or after ``S``
    seconds (at most 60) with the job as it is then.
    """
    selection = requested_fields(fields)
    seconds = _wait_seconds(wait)
    keys, deep = _job_keys(selection, listing=False)
    columns = _columns(keys, deep)

    def read() -> Any:
        # On the event loop: one indexed row, whose JSON is spliced in, not re-encoded.
        return _own_job_row(ctx, identity, job_id, columns)

    if seconds > 0 and ctx.config.offer_wait:
        row = await ctx.watch.wait_until(
            job_id, seconds, read, lambda r: r["status"] in FINAL_STATUSES, request.is_disconnected
        )
    else:
        row = read()
    return json_text_response(_job_texts([row], keys, selection, deep)[0])


@router.post("/api/jobs/{job_id}/cancel")
async def cancel_job(
    job_id: str,
    identity: Caller,
    ctx: Ctx,
    fields: str | None = None,
) -> Response:
    """Cancel a pending or running job; a cancelled job stays cancelled."""
    selection = requested_fields(fields)
    changed = ctx.store.execute(
        "UPDATE quantum_jobs SET status = 'cancelled', updated = ? "
        "WHERE id = ? AND user_id = ? AND status IN ('pending', 'running')",
        (dates.now(), job_id, identity.user_id),
    )
    if not changed:
        raise ErrorResponse(404, "Job not found, maybe it was already completed or cancelled?")
    ctx.store.notify_job(job_id)
    return picked_response({"status": "cancelled"}, selection)
