"""A framework-neutral handle on one submitted job."""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any

from qpi import display, errors
from qpi.payload import JobPayload
from qpi.result import JobResult, parse_results

if TYPE_CHECKING:
    from qpi.client import QPIClient
    from qpi.hooks import TranslatedCircuit

__all__ = ["Job"]

#: Record fields copied into a result's metadata.
_METADATA_FIELDS = ("status", "qpu_target", "duration", "finished_at", "created", "updated")


class Job:
    """A job on a QPI server: its id, its payload, and its result once it has one.

    Jobs come from [`QPIClient.run`][qpi.client.QPIClient.run],
    [`QPIClient.submit`][qpi.client.QPIClient.submit] or [`Job.from_id`][qpi.job.Job.from_id];
    there is no need to build one directly.

    Attributes:
        client: The client the job was submitted through.
        payload: The submitted payload.
        fingerprint: The payload's fingerprint (the cache key).
        translated: Per circuit, what a plugin translated it from (``None`` for QASM text).
    """

    def __init__(
        self,
        client: QPIClient,
        job_id: str,
        payload: JobPayload,
        fingerprint: str | None = None,
        translated: Sequence[TranslatedCircuit | None] | None = None,
        *,
        result: JobResult | None = None,
    ) -> None:
        self.client = client
        self._id = job_id
        self.payload = payload
        self.fingerprint = fingerprint or payload.fingerprint()
        self.translated = (
            tuple(translated) if translated is not None else (None,) * len(payload.circuits)
        )
        self._result = result
        self._lock = threading.Lock()

    @classmethod
    def from_id(cls, client: QPIClient, job_id: str) -> Job:
        """Rebuild a handle from a job id, reading the job from the server or the cache.

        Raises:
            NotFoundError: If the job does not exist or is not yours.
            CacheMissError: In replay mode, when the cache does not hold the job.
        """
        record = client.get_job(job_id)
        try:
            payload = JobPayload.from_dict(record.get("payload") or {})
        except errors.ValidationError as exc:
            raise errors.ServerError(f"job {job_id}: its record holds no readable payload") from exc
        return cls(client, job_id, payload)

    @property
    def id(self) -> str:
        """Server-assigned job ID."""
        return self._id

    def job_id(self) -> str:
        """Server-assigned job ID (Qiskit's spelling)."""
        return self._id

    def status(self) -> str:
        """The server-side status of the job.

        One of ``pending``, ``running``, ``completed``, ``failed`` or ``cancelled``; costs no
        request once the result is known.
        """
        if self._result is not None:
            return "completed"
        return str(self.client.get_job(self._id).get("status", "unknown"))

    def done(self) -> bool:
        """Whether the job has reached a final state."""
        from qpi.client import FINAL_STATUSES

        return self.status() in FINAL_STATUSES

    def cancel(self) -> dict[str, Any]:
        """Request cancellation on the server; returns the updated job record."""
        return self.client.cancel_job(self._id)

    def wait(
        self,
        timeout: float | None = None,
        *,
        callback: Callable[[dict[str, Any], float], None] | None = None,
        max_interval: float = 3.0,
    ) -> dict[str, Any]:
        """Block until the job is final and return its record (see ``QPIClient.wait_for_job``)."""
        return self.client.wait_for_job(
            self._id, timeout, callback=callback, max_interval=max_interval
        )

    def result(
        self,
        timeout: float | None = None,
        *,
        callback: Callable[[dict[str, Any], float], None] | None = None,
        max_interval: float = 3.0,
    ) -> JobResult:
        """Wait for the job and return its results, mapped back onto circuits and rows.

        Args:
            timeout: Seconds to wait at most; ``None`` waits for ever.
            callback: Progress callback, called as ``callback(record, elapsed)``.
            max_interval: The cap of the polling interval, in seconds.

        Raises:
            JobTimeoutError: If the job does not finish in time (it keeps running).
            JobFailedError: If the job failed; carries the driver's message.
            JobCancelledError: If the job was cancelled.
        """
        with self._lock:
            if self._result is not None:
                return self._result
        with display.notebook_progress(self._id) as shown:
            if callback is None and shown is not None:
                callback = shown.update
            record, from_cache = self._final_record(timeout, callback, max_interval)
        experiments = parse_results(self.payload, record.get("results"), job_id=self._id)
        metadata = {key: record[key] for key in _METADATA_FIELDS if key in record}
        results = record.get("results")
        if isinstance(results, dict) and "backend" in results:
            metadata["backend"] = results["backend"]
        metadata.update(job_id=self._id, fingerprint=self.fingerprint, from_cache=from_cache)
        result = JobResult(self._id, self.payload, experiments, metadata)
        with self._lock:
            self._result = result
        return result

    def _final_record(
        self,
        timeout: float | None,
        callback: Callable[[dict[str, Any], float], None] | None,
        max_interval: float = 3.0,
    ) -> tuple[dict[str, Any], bool]:
        from qpi.client import raise_for_status

        client = self.client
        if client.cache_mode in ("reuse", "replay"):
            cached = client.plugins.hook.qpi_lookup_job(client=client, job_id=self._id)
            if cached is not None:
                raise_for_status(cached, self._id)
                return dict(cached), True
        record = client.wait_for_job(
            self._id, timeout, callback=callback, max_interval=max_interval
        )
        if client.remembered_fingerprint(record) != self.fingerprint:
            # The server re-encoded the payload: store the result under our key as well.
            client.plugins.hook.qpi_after_result(
                client=client,
                payload=self.payload,
                fingerprint=self.fingerprint,
                job_id=self._id,
                record=record,
            )
        return record, False

    def native_results(self, timeout: float | None = None) -> list[Any]:
        """Per circuit, the result in its framework's own type (via the plugins).

        Circuits given as QASM text or neutral circuits get their list of
        [`ExperimentResult`][qpi.result.ExperimentResult] instead.
        """
        result = self.result(timeout)
        grouped = result.by_circuit()
        out = []
        for experiments, translated in zip(grouped, self.translated, strict=True):
            native = None
            if translated is not None:
                native = self.client.plugins.hook.qpi_native_result(
                    experiments=experiments, translated=translated, result=result
                )
            out.append(native if native is not None else experiments)
        return out

    def __repr__(self) -> str:
        return display.job_repr(self, self._result)

    def _repr_html_(self) -> str:
        return display.job_html(self, self._result)
