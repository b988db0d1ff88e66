"""The job handle (kept as an import path; it lives in [`qpi.jobs`][qpi.jobs]).

[`Job`][qpi.jobs.Job] is defined in `qpi/jobs/job.py`; this module re-exports it for the
plugins and for code written against earlier releases.
"""

from qpi.jobs.job import Job

__all__ = ["Job"]
