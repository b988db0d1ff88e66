"""The job lifecycle: statuses, the runner, the job handle, and results with their metadata.

Data flows one way through this package: a plugin (or ``QPIClient.run``) assembles a
[`JobPayload`][qpi.payload.JobPayload]; the [`Runner`][qpi.jobs.Runner] decides from the
cache mode whether the store answers it, splits what is larger than one request, submits
through the REST routes, waits (status-only polls), stores what comes back, and hands a
[`Job`][qpi.jobs.Job] whose [`JobResult`][qpi.jobs.JobResult] says whether it came from the
cache. The runner is the only code that reads the [`CacheMode`][qpi.jobs.CacheMode].
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from qpi.lazy import lazy_exports

if TYPE_CHECKING:
    from qpi.jobs.job import Job
    from qpi.jobs.mode import CacheMode
    from qpi.jobs.results import (
        ExperimentResult,
        JobResult,
        normalise_counts,
        parse_results,
        result_from_record,
    )
    from qpi.jobs.runner import Runner, Ticket
    from qpi.jobs.split import Part, merge_experiments, split_payload
    from qpi.jobs.status import DEAD_STATUSES, FINAL_STATUSES, JobStatus, raise_for_status

__all__ = [
    "DEAD_STATUSES",
    "FINAL_STATUSES",
    "CacheMode",
    "ExperimentResult",
    "Job",
    "JobResult",
    "JobStatus",
    "Part",
    "Runner",
    "Ticket",
    "merge_experiments",
    "normalise_counts",
    "parse_results",
    "raise_for_status",
    "result_from_record",
    "split_payload",
]

__getattr__, __dir__ = lazy_exports(
    __name__,
    {
        "DEAD_STATUSES": "qpi.jobs.status",
        "FINAL_STATUSES": "qpi.jobs.status",
        "JobStatus": "qpi.jobs.status",
        "raise_for_status": "qpi.jobs.status",
        "CacheMode": "qpi.jobs.mode",
        "ExperimentResult": "qpi.jobs.results",
        "JobResult": "qpi.jobs.results",
        "normalise_counts": "qpi.jobs.results",
        "parse_results": "qpi.jobs.results",
        "result_from_record": "qpi.jobs.results",
        "Job": "qpi.jobs.job",
        "Runner": "qpi.jobs.runner",
        "Ticket": "qpi.jobs.runner",
        "Part": "qpi.jobs.split",
        "merge_experiments": "qpi.jobs.split",
        "split_payload": "qpi.jobs.split",
    },
)
