"""A framework-neutral handle on one submission: one job, or the group a split payload became."""

from __future__ import annotations

import threading
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from qpi import display, errors
from qpi.jobs.results import JobResult
from qpi.jobs.split import Part, merge_experiments
from qpi.jobs.status import FINAL_STATUSES, JobStatus
from qpi.payload import JobPayload

if TYPE_CHECKING:
    from qpi.hooks import TranslatedCircuit
    from qpi.jobs.runner import Runner, Ticket
    from qpi.jobs.wait import Progress

__all__ = ["Job"]


class Job:
    """A submission on a QPI server: its job (or jobs), its payload, and its result.

    Jobs come from [`QPIClient.run`][qpi.client.QPIClient.run],
    [`QPIClient.submit`][qpi.client.QPIClient.submit] or [`Job.from_id`][qpi.jobs.Job.from_id];
    there is no need to build one directly. A payload larger than one request runs as several
    jobs; this one handle follows them all (``job_ids``, ``status``, ``cancel``) and merges
    their results in order.

    Args:
        runner: The job runner that started it.
        payload: The whole payload.
        tickets: One per job, in payload order.
        translated: Per circuit, what a plugin translated it from (``None`` for QASM text).

    Attributes:
        runner: The job runner (submission, waiting, storing).
        payload: The submitted payload.
        fingerprint: The payload's fingerprint (the cache key).
        translated: Per circuit, what a plugin translated it from (``None`` for QASM text).
    """

    def __init__(
        self,
        runner: Runner,
        payload: JobPayload,
        tickets: Sequence[Ticket],
        translated: Sequence[TranslatedCircuit | None] | None = None,
    ) -> None:
        self.runner = runner
        self.payload = payload
        self.fingerprint = payload.fingerprint()
        self.translated = (
            tuple(translated) if translated is not None else (None,) * len(payload.circuits)
        )
        self._tickets = tuple(tickets)
        self._result: JobResult | None = None
        self._lock = threading.Lock()

    @classmethod
    def from_id(cls, runner: Runner, job_id: str) -> Job:
        """Rebuild a handle from a job id, reading the job from the server or the cache.

        Args:
            runner: The job runner of the client to read it with (``client.runner``).
            job_id: The job's id.

        Raises:
            NotFoundError: If the job does not exist or is not yours.
            CacheMissError: In replay mode, when the cache does not hold the job.
        """
        from qpi.jobs.runner import Ticket

        record = runner.record(job_id)
        try:
            payload = JobPayload.from_dict(record.get("payload") or {})
        except errors.ValidationError as exc:
            raise errors.ServerError(f"job {job_id}: its record holds no readable payload") from exc
        part = Part(payload, tuple((i, 0) for i in range(len(payload.circuits))))
        return cls(runner, payload, [Ticket(part, job_id, None)])

    @property
    def id(self) -> str:
        """Server-assigned job ID (the first job's, when the payload was split)."""
        return self._tickets[0].job_id

    @property
    def job_ids(self) -> list[str]:
        """The ids of every job this submission runs as, in payload order."""
        return [ticket.job_id for ticket in self._tickets]

    def job_id(self) -> str:
        """Server-assigned job ID (Qiskit's spelling)."""
        return self.id

    def status(self) -> str:
        """The status of the submission on the server.

        One of ``pending``, ``running``, ``completed``, ``failed`` or ``cancelled``; for a
        split payload, ``failed`` or ``cancelled`` if any job is, ``completed`` if all are,
        else ``running`` if any is. Costs no request once the result is known, and one
        status-only request per unfinished job otherwise.
        """
        if self._result is not None:
            return JobStatus.COMPLETED.value
        statuses = [
            JobStatus.COMPLETED.value if t.result is not None else self.runner.status(t.job_id)
            for t in self._tickets
        ]
        return _combined(statuses)

    def done(self) -> bool:
        """Whether the submission has reached a final state."""
        return self.status() in FINAL_STATUSES

    def cancel(self) -> dict[str, Any]:
        """Request cancellation of every unfinished job; returns the updated job record.

        For a split payload the record is ``{"id", "job_ids", "status"}`` of the group.

        Raises:
            NotFoundError: If the (single) job does not exist or already finished.
        """
        if len(self._tickets) == 1:
            return self.runner.cancel(self.id)
        statuses = []
        for ticket in self._tickets:
            try:
                statuses.append(str(self.runner.cancel(ticket.job_id).get("status")))
            except errors.NotFoundError:
                statuses.append(self.runner.status(ticket.job_id))
        return {"id": self.id, "job_ids": self.job_ids, "status": _combined(statuses)}

    def wait(
        self,
        timeout: float | None = None,
        *,
        callback: Progress | None = None,
        max_interval: float = 3.0,
        raise_on_failure: bool = True,
    ) -> dict[str, Any]:
        """Block until every job is final and return the record (see ``QPIClient.wait_for_job``).

        For a split payload the record is ``{"id", "job_ids", "status"}`` of the group.
        """
        records = [
            self.runner.wait(
                ticket.job_id,
                timeout,
                callback=callback,
                max_interval=max_interval,
                raise_on_failure=raise_on_failure,
            )
            for ticket in self._tickets
            if ticket.result is None
        ]
        if len(self._tickets) == 1 and records:
            return records[0]
        statuses = [str(r.get("status")) for r in records] or [JobStatus.COMPLETED.value]
        return {"id": self.id, "job_ids": self.job_ids, "status": _combined(statuses)}

    def result(
        self,
        timeout: float | None = None,
        *,
        callback: Progress | None = None,
        max_interval: float = 3.0,
    ) -> JobResult:
        """Wait for the job(s) and return the results, mapped back onto circuits and rows.

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
        with display.notebook_progress(self.id) as shown:
            if callback is None and shown is not None:
                callback = shown.update
            results = self.runner.finish_all(
                list(self._tickets), timeout, callback=callback, max_interval=max_interval
            )
        result = results[0] if len(results) == 1 else self._merged(results)
        with self._lock:
            self._result = result
        return result

    def _merged(self, results: list[JobResult]) -> JobResult:
        parts = [
            (ticket.part, result.experiments)
            for ticket, result in zip(self._tickets, results, strict=True)
        ]
        metadata = dict(results[0].metadata)
        metadata.update(
            job_id=self.id,
            job_ids=self.job_ids,
            fingerprint=self.fingerprint,
            from_cache=all(r.from_cache for r in results),
        )
        experiments = merge_experiments(self.payload, parts)
        return JobResult(self.id, self.payload, experiments, metadata)

    def native_results(self, timeout: float | None = None) -> list[Any]:
        """Per circuit, the result in its framework's own type (via the plugins).

        Circuits given as QASM text or neutral circuits get their list of
        [`ExperimentResult`][qpi.jobs.ExperimentResult] instead.
        """
        result = self.result(timeout)
        grouped = result.by_circuit()
        plugins = self.runner.plugins
        out = []
        for experiments, translated in zip(grouped, self.translated, strict=True):
            native = None
            if translated is not None and plugins is not None:
                native = plugins.hook.qpi_native_result(
                    experiments=experiments, translated=translated, result=result
                )
            out.append(native if native is not None else experiments)
        return out

    def __repr__(self) -> str:
        return display.job_repr(self, self._result)

    def _repr_html_(self) -> str:
        return display.job_html(self, self._result)


def _combined(statuses: list[str]) -> str:
    """One status for a group of jobs (see [`Job.status`][qpi.jobs.Job.status])."""
    for final in (JobStatus.FAILED.value, JobStatus.CANCELLED.value):
        if final in statuses:
            return final
    if all(status == JobStatus.COMPLETED.value for status in statuses):
        return JobStatus.COMPLETED.value
    if JobStatus.RUNNING.value in statuses or JobStatus.COMPLETED.value in statuses:
        return JobStatus.RUNNING.value
    return statuses[0] if len(set(statuses)) == 1 else JobStatus.PENDING.value
