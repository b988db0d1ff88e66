"""Job statuses: the one definition the client, the cache, the CLI and the plugins share."""

from __future__ import annotations

import enum
import json
from collections.abc import Mapping
from typing import Any

from qpi import errors

__all__ = ["DEAD_STATUSES", "FINAL_STATUSES", "STATUS_FIELDS", "JobStatus", "raise_for_status"]


class JobStatus(enum.StrEnum):
    """The statuses a QPI job goes through (``pending`` → ``running`` → a final one).

    The members are strings, so ``JobStatus.COMPLETED == "completed"``.
    """

    PENDING = "pending"
    RUNNING = "running"
    COMPLETED = "completed"
    FAILED = "failed"
    CANCELLED = "cancelled"


#: Job statuses after which nothing changes.
FINAL_STATUSES: frozenset[str] = frozenset(
    {JobStatus.COMPLETED.value, JobStatus.FAILED.value, JobStatus.CANCELLED.value}
)
#: What a poll asks for (``fields=``): enough to know whether a job is final, not its results.
STATUS_FIELDS: tuple[str, ...] = ("id", "status", "updated")
#: Final statuses without a result: a job in one of them is never re-attached to.
DEAD_STATUSES: frozenset[str] = frozenset({JobStatus.FAILED.value, JobStatus.CANCELLED.value})


def raise_for_status(record: Mapping[str, Any], job_id: str) -> None:
    """Raise the matching error for a failed or cancelled job record.

    Raises:
        JobFailedError: If the record says ``failed`` (with the driver's message).
        JobCancelledError: If the record says ``cancelled``.
    """
    status = record.get("status")
    if status == JobStatus.FAILED:
        message = _failure_message(record.get("results"))
        raise errors.JobFailedError(
            f"job {job_id} failed: {message or 'the server gave no reason'}",
            job_id=job_id,
            server_message=message,
        )
    if status == JobStatus.CANCELLED:
        raise errors.JobCancelledError(f"job {job_id} was cancelled", job_id=job_id)


def _failure_message(results: Any) -> str:
    if isinstance(results, str):
        try:
            results = json.loads(results)
        except ValueError:
            return results
    if isinstance(results, Mapping):
        return str(results.get("error") or "")
    return ""
