"""The job handle both primitives return: a ``BasePrimitiveJob`` over one (or no) QPI job.

[`QPISampler`][qpi_qiskit.QPISampler] and [`QPIEstimator`][qpi_qiskit.QPIEstimator] send every
PUB of a ``run`` in one job and build their ``PrimitiveResult`` from it; this class holds that
job and a function that turns its result into the primitive's. A ``run`` whose PUBs need no
experiment at all (a sampler PUB without measurements) sends nothing: its job is done at once
and has a local id.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from typing import Any

import numpy as np
from qiskit.primitives import BasePrimitiveJob, PrimitiveResult
from qiskit.providers import JobStatus

from qpi import errors
from qpi.result import JobResult
from qpi_qiskit.job import QPIJob, QPIJobTimeoutError

__all__ = ["QPIPrimitiveJob", "check_complete", "result_metadata"]

#: Builds the primitive's result from the job's (``None`` when nothing was sent).
Builder = Callable[[JobResult | None], PrimitiveResult]


class QPIPrimitiveJob(BasePrimitiveJob[PrimitiveResult, JobStatus]):
    """The job of one primitive ``run`` (or one rebuilt by ``backend.job(job_id)``).

    Args:
        job: The Qiskit job all PUBs were submitted in; ``None`` when nothing was sent.
        build: Turns the job's result into the ``PrimitiveResult``.
        kind: ``"sampler"`` or ``"estimator"``.
    """

    def __init__(self, job: QPIJob | None, build: Builder, kind: str) -> None:
        super().__init__(job.job_id() if job is not None else f"local-{uuid.uuid4().hex}")
        self._job = job
        self._build = build
        self._kind = kind
        self._result: PrimitiveResult | None = None

    @property
    def kind(self) -> str:
        """``"sampler"`` or ``"estimator"``: which primitive ran this job."""
        return self._kind

    @property
    def qpi_job(self) -> QPIJob | None:
        """The underlying [`QPIJob`][qpi_qiskit.QPIJob] (``None`` when nothing was sent)."""
        return self._job

    def result(self, timeout: float | None = None, wait: float = 5.0) -> PrimitiveResult:
        """Wait for the job and return the ``PrimitiveResult``, one entry per PUB.

        Args:
            timeout: Seconds to wait at most; ``None`` waits for ever.
            wait: The longest pause between two status requests, in seconds.

        Raises:
            QPIJobTimeoutError: If the job is not finished within ``timeout``.
            JobFailedError: If the job failed.
            JobCancelledError: If the job was cancelled.
        """
        if self._result is not None:
            return self._result
        job_result = None
        if self._job is not None:
            try:
                job_result = self._job.qpi_job.result(timeout, max_interval=max(wait, 0.05))
            except errors.JobTimeoutError as exc:
                raise QPIJobTimeoutError(str(exc), job_id=exc.job_id, timeout=exc.timeout) from exc
        self._result = self._build(job_result)
        return self._result

    def status(self) -> JobStatus:
        """The job's status."""
        return JobStatus.DONE if self._job is None else self._job.status()

    def done(self) -> bool:
        """Whether the job finished successfully."""
        return self.status() == JobStatus.DONE

    def running(self) -> bool:
        """Whether the job is running."""
        return self.status() == JobStatus.RUNNING

    def cancelled(self) -> bool:
        """Whether the job was cancelled."""
        return self.status() == JobStatus.CANCELLED

    def in_final_state(self) -> bool:
        """Whether the job is done, failed or cancelled."""
        return self.status() in (JobStatus.DONE, JobStatus.ERROR, JobStatus.CANCELLED)

    def cancel(self) -> bool:
        """Ask the server to cancel the job; returns whether it is now cancelled."""
        return False if self._job is None else self._job.cancel()

    def __repr__(self) -> str:
        return f"<QPIPrimitiveJob {self.job_id()} ({self._kind})>"

    def _repr_html_(self) -> str:
        # Jupyter: the core job's display (status, counts histogram, from-cache marker).
        if self._job is None:
            return f"<div><code>{self.job_id()}</code>: nothing was sent</div>"
        return self._job._repr_html_()


def result_metadata(job_id: str, job_result: JobResult | None) -> dict[str, Any]:
    """The ``PrimitiveResult`` metadata: version 2, the job id, the job's own metadata."""
    extra = dict(job_result.metadata) if job_result is not None else {}
    return {"version": 2, **extra, "job_id": job_id}


def check_complete(found: int, shape: tuple[int, ...], job_id: str) -> None:
    """Refuse to build a PUB from part of its experiments (one job of a split run)."""
    expected = int(np.prod(shape, dtype=int))
    if found != expected:
        raise errors.ValidationError(
            f"job {job_id} holds {found} of the {expected} experiments of a PUB: the run was "
            "split over several jobs (its payload was over the server's limit), and a "
            "primitive result is rebuilt only from a job that holds whole PUBs; keep the "
            "PrimitiveResult of the run, or read this job's counts with QPIJob"
        )
