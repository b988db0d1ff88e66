"""The job lifecycle: statuses, the runner, the job handle, and results with their metadata.

Data flows one way through this package: a plugin (or ``QPIClient.run``) assembles a
[`JobPayload`][qpi.payload.JobPayload]; the [`Runner`][qpi.jobs.Runner] decides from the
cache mode whether the store answers it, splits what is larger than one request, submits
through the REST routes, waits (status-only polls), stores what comes back, and hands a
[`Job`][qpi.jobs.Job] whose [`JobResult`][qpi.jobs.JobResult] says whether it came from the
cache. The runner is the only code that reads the [`CacheMode`][qpi.jobs.CacheMode].
"""

from qpi.jobs.job import Job
from qpi.jobs.mode import CacheMode
from qpi.jobs.results import (
    METADATA_FIELDS,
    ExperimentResult,
    JobResult,
    normalise_counts,
    parse_results,
    result_from_record,
)
from qpi.jobs.runner import Runner, Ticket
from qpi.jobs.split import Part, merge_experiments, split_payload
from qpi.jobs.status import (
    DEAD_STATUSES,
    FINAL_STATUSES,
    STATUS_FIELDS,
    JobStatus,
    raise_for_status,
)
from qpi.jobs.wait import poll_until_final

__all__ = [
    "DEAD_STATUSES",
    "FINAL_STATUSES",
    "METADATA_FIELDS",
    "STATUS_FIELDS",
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
    "poll_until_final",
    "raise_for_status",
    "result_from_record",
    "split_payload",
]
