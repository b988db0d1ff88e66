"""Framework-neutral job results (kept as an import path; they live in [`qpi.jobs`][qpi.jobs]).

[`JobResult`][qpi.jobs.JobResult], [`ExperimentResult`][qpi.jobs.ExperimentResult],
[`parse_results`][qpi.jobs.parse_results] and [`normalise_counts`][qpi.jobs.normalise_counts]
are defined in `qpi/jobs/results.py`; this module re-exports them for the plugins and for code
written against earlier releases.
"""

from qpi.jobs.results import ExperimentResult, JobResult, normalise_counts, parse_results

__all__ = ["ExperimentResult", "JobResult", "normalise_counts", "parse_results"]
