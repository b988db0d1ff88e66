"""``QPIJob``: a Qiskit ``JobV1`` over a [`qpi.job.Job`][qpi.job.Job]."""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any

from qiskit.providers import JobStatus, JobV1
from qiskit.providers.exceptions import JobTimeoutError as QiskitJobTimeoutError
from qiskit.result import Result

from qpi import errors
from qpi.jobs import FINAL_STATUSES, Job
from qpi_qiskit.layout import Layout
from qpi_qiskit.result import build_result

if TYPE_CHECKING:
    from qpi.client import QPIClient
    from qpi_qiskit.backend import QPIBackend
    from qpi_qiskit.primitive_job import QPIPrimitiveJob

__all__ = ["QPIJob", "QPIJobTimeoutError", "job_status"]

#: Server statuses → Qiskit's. A status the server may add later reads as "not final yet".
_STATUSES: dict[str, JobStatus] = {
    "pending": JobStatus.QUEUED,
    "queued": JobStatus.QUEUED,
    "running": JobStatus.RUNNING,
    "completed": JobStatus.DONE,
    "failed": JobStatus.ERROR,
    "cancelled": JobStatus.CANCELLED,
    "canceled": JobStatus.CANCELLED,
}
#: The shortest polling cap ``result(wait=...)`` accepts (a zero cap would spin).
_MIN_WAIT = 0.05


class QPIJobTimeoutError(errors.JobTimeoutError, QiskitJobTimeoutError):
    """A job did not finish in time.

    Both [`qpi.errors.JobTimeoutError`][qpi.errors.JobTimeoutError] (hence the built-in
    ``TimeoutError``) and
    Qiskit's ``JobTimeoutError``, so either ``except`` clause catches it. The job keeps
    running on the server; call ``result()`` again to collect it.
    """

    def __init__(
        self, message: str, *, job_id: str | None = None, timeout: float | None = None
    ) -> None:
        super().__init__(message, job_id=job_id, timeout=timeout)
        self.message = message  # what QiskitError's __str__ and callers read

    def __str__(self) -> str:
        return self.message


def job_status(status: str) -> JobStatus:
    """Map a QPI job status (``pending``, ``running``, ...) to Qiskit's ``JobStatus``.

    Unknown statuses map to ``QUEUED``: waiting goes on, as it does in the core client.
    """
    return _STATUSES.get(status, JobStatus.QUEUED)


class QPIJob(JobV1):
    """A Qiskit job handle for a job on a QPI server.

    Jobs come from [`QPIBackend.run`][qpi_qiskit.backend.QPIBackend.run],
    [`QPIBackend.job`][qpi_qiskit.backend.QPIBackend.job] or ``QPIClient.job(job_id)``; there is no
    need to build one directly.

    Args:
        backend: The backend the job ran on (``None``: found from the job's QPU when asked).
        job: The core job handle.
        layouts: Per circuit, its register layout (``None`` for programs nothing is known
            about).
        memory: Whether results include per-shot memory at ``meas_level=2``.
        client: The client to find the backend with (default: the backend's).
    """

    def __init__(
        self,
        backend: QPIBackend | None,
        job: Job,
        layouts: Sequence[Layout | None],
        *,
        memory: bool = False,
        client: QPIClient | None = None,
    ) -> None:
        super().__init__(backend, job.id)
        self._client = client if client is not None else getattr(backend, "client", None)
        self._job = job
        self._layouts = tuple(layouts)
        self._memory = memory
        self._result: Result | None = None
        self._lock = threading.Lock()

    @classmethod
    def from_id(
        cls,
        client: QPIClient,
        job_id: str,
        *,
        backend: QPIBackend | None = None,
        memory: bool = False,
    ) -> QPIJob:
        """Rebuild a job from its id, with its result headers, from the server or the cache.

        The register layout, names and parameter names of each circuit are read back from
        the OpenQASM text the job was submitted with.

        Args:
            client: The client to read the job with.
            job_id: The job's id.
            backend: The backend to attach (default: found from the job's QPU when asked).
            memory: Whether results include per-shot memory at ``meas_level=2``.

        Raises:
            NotFoundError: If the job does not exist or is not yours.
            CacheMissError: In replay mode, if the cache does not hold the job.
        """
        job = Job.from_id(client.runner, job_id)
        layouts = [
            Layout.from_text(entry.circuit, default_name=f"circuit-{i}")
            for i, entry in enumerate(job.payload.circuits)
        ]
        return cls(backend, job, layouts, memory=memory, client=client)

    @property
    def id(self) -> str:
        """Server-assigned job ID."""
        return self.job_id()

    @property
    def qpi_job(self) -> Job:
        """The framework-neutral `qpi.job.Job` (payload, fingerprint, raw results)."""
        return self._job

    def backend(self) -> QPIBackend:
        """The backend the job ran on, found from the job's QPU if none was attached.

        Raises:
            QiskitError: If the job's QPU cannot be found any more.
        """
        if self._backend is None:
            target = self._job.payload.qpu_target
            if target and self._client is not None:
                from qpi_qiskit.backend import QPIBackend

                with contextlib.suppress(errors.QPIError):  # then: "no backend"
                    self._backend = QPIBackend(self._client, name=target)
        return super().backend()

    def primitive_job(self) -> QPIPrimitiveJob | None:
        """The primitive's job handle, when a ``QPISampler`` or ``QPIEstimator`` sent this job.

        The kind of primitive and what it needs to rebuild its ``PrimitiveResult`` travel in
        each circuit's ``// qpi:meta`` comment, so this works for a job fetched by id.

        Returns:
            The handle whose ``result()`` is the ``PrimitiveResult``; ``None`` for jobs sent
            with ``backend.run`` (or raw QASM).
        """
        kinds = {layout.primitive.get("kind") if layout else None for layout in self._layouts}
        if kinds == {"sampler"}:
            from qpi_qiskit.sampler import sampler_job

            return sampler_job(self, self._layouts)
        if kinds == {"estimator"}:
            from qpi_qiskit.estimator import estimator_job

            return estimator_job(self, self._layouts)
        return None

    def submit(self) -> None:
        """Do nothing: the job was submitted when it was created."""

    def status(self) -> JobStatus:
        """The job's status (one request, none once the result is known)."""
        return job_status(self._job.status())

    def cancel(self) -> bool:
        """Ask the server to cancel the job.

        Returns:
            Whether the job is now cancelled; ``False`` if it had already finished.
        """
        try:
            record = self._job.cancel()
        except errors.NotFoundError:
            if self._job.status() in FINAL_STATUSES:
                return False
            raise
        return record.get("status") == "cancelled"

    def result(self, timeout: float | None = None, wait: float = 5.0) -> Result:
        """Wait for the job and return its `qiskit.result.Result`.

        Polling starts after 20 ms and backs off to at most ``wait`` seconds between
        requests, so short jobs return quickly and long ones cost few requests. A result is
        kept once read; failures are not, so calling again asks again.

        Args:
            timeout: Seconds to wait at most; ``None`` waits for ever.
            wait: The longest pause between two status requests, in seconds.

        Returns:
            One experiment per circuit and parameter row, in submission order.

        Raises:
            QPIJobTimeoutError: If the job is not finished within ``timeout`` (also a
                ``TimeoutError`` and Qiskit's ``JobTimeoutError``).
            JobFailedError: If the job failed; the message carries the driver's error.
            JobCancelledError: If the job was cancelled.
        """
        with self._lock:
            if self._result is not None:
                return self._result
        try:
            job_result = self._job.result(timeout, max_interval=max(float(wait), _MIN_WAIT))
        except errors.JobTimeoutError as exc:
            raise QPIJobTimeoutError(str(exc), job_id=exc.job_id, timeout=exc.timeout) from exc
        result = build_result(
            job_result,
            self._layouts,
            backend_name=self._backend_name(job_result.metadata),
            memory=self._memory,
        )
        with self._lock:
            self._result = result
        return result

    def wait_for_final_state(
        self,
        timeout: float | None = None,
        wait: float = 5.0,
        callback: Callable[[str, JobStatus, QPIJob], Any] | None = None,
    ) -> None:
        """Wait until the job is final, without raising for failed or cancelled jobs.

        Args:
            timeout: Seconds to wait at most; ``None`` waits for ever.
            wait: The longest pause between two status requests, in seconds.
            callback: Called as ``callback(job_id, status, job)`` after every request.

        Raises:
            QPIJobTimeoutError: If the job is not final within ``timeout``.
        """

        def report(record: dict[str, Any], _elapsed: float) -> None:
            if callback is not None:
                callback(self.job_id(), job_status(str(record.get("status"))), self)

        try:
            self._job.wait(
                timeout,
                max_interval=max(float(wait), _MIN_WAIT),
                raise_on_failure=False,
                callback=report,
            )
        except errors.JobTimeoutError as exc:
            raise QPIJobTimeoutError(str(exc), job_id=exc.job_id, timeout=exc.timeout) from exc

    def _backend_name(self, metadata: dict[str, Any]) -> str:
        if self._backend is not None:
            return self._backend.name
        return str(metadata.get("backend") or "qpi")

    def __repr__(self) -> str:
        if self._backend is not None:
            where = f"on {self._backend.name!r}"
        else:  # rebuilt from an id: name the QPU record it targets, without a request
            where = f"on QPU {self._job.payload.qpu_target or '(any)'}"
        return f"<QPIJob {self.job_id()} {where} ({len(self._layouts)} circuit(s))>"

    def _repr_html_(self) -> str:
        # Jupyter: the core job's display (status, counts histogram, from-cache marker).
        return self._job._repr_html_()
