"""Job endpoints: submit, read, list, cancel, and wait for a job to finish.

Also the final-status helpers that [`qpi.job`][qpi.client.QPIClient.job] and the plugins share
([`FINAL_STATUSES`][qpi.client.FINAL_STATUSES], `raise_for_status`), re-exported by
[`qpi.client`][qpi.server.LocalServer.client].
"""

from __future__ import annotations

import json
import logging
import random
import time
from collections.abc import Callable, Mapping
from typing import Any

from qpi import errors
from qpi._api.base import ClientBase
from qpi._api.submission import without_submission_mark
from qpi._http import deadlines
from qpi.payload import CircuitPayload, JobPayload
from qpi.transport import quote_segment

#: Each poll of a wait is logged here at DEBUG.
_LOG = logging.getLogger("qpi.jobs")

__all__ = ["FINAL_STATUSES", "JobEndpoints", "raise_for_status"]

#: Job statuses after which nothing changes.
FINAL_STATUSES: frozenset[str] = frozenset({"completed", "failed", "cancelled"})


class JobEndpoints(ClientBase):
    """``/api/jobs``: submission, reads (answered from the cache when final), polling."""

    def submit_job(
        self,
        circuits: list[dict[str, Any]],
        shots: int = 1024,
        meas_level: int = 2,
        meas_return: str = "single",
        qpu_target: str = "",
    ) -> str:
        """Submit a quantum job to the orchestrator.

        The payload is validated before anything is sent. With the cache in ``reuse`` mode, an
        identical payload that was already submitted returns that job's id without a new
        submission.

        Args:
            circuits: Circuit entries, each a dict with a ``circuit`` key holding OpenQASM text
                and optionally ``parameter_values`` (rows of floats) and ``shots``.
            shots: Default number of shots for every circuit.
            meas_level: Measurement level (``2`` counts, ``1`` IQ memory).
            meas_return: ``"single"`` or ``"avg"`` (for meas_level 1).
            qpu_target: The QPU's record id (see [`get_qpu`][qpi.client.QPIClient.get_qpu]); empty
                lets the server
                choose.

        Returns:
            The server-assigned job ID.

        Raises:
            ValidationError: If the payload is malformed (nothing is sent).
            AuthenticationError: On a bad token, or with 403 when the QPU-seconds balance is
                exhausted.
        """
        payload = JobPayload(
            circuits=tuple(CircuitPayload.from_dict(c) for c in _as_list(circuits)),
            shots=shots,
            meas_level=meas_level,
            meas_return=meas_return,
            qpu_target=qpu_target,
        )
        return self.submit(payload).id

    def get_job(self, job_id: str) -> dict[str, Any]:
        """Retrieve full details for ``job_id``.

        A final record (completed, failed or cancelled) that the cache holds is returned
        without a request in ``reuse`` and ``replay`` modes, so finished jobs read offline.

        Returns:
            A dict with at least ``id``, ``status`` and ``payload``; ``results`` once the job
            has finished.

        Raises:
            NotFoundError: If the job does not exist or is not yours.
            CacheMissError: In replay mode, if the cache does not hold the job.
        """
        if self.cache_mode in ("reuse", "replay"):
            cached = self.plugins.hook.qpi_lookup_job(client=self, job_id=job_id)
            if cached is not None:
                return dict(cached)
        if self.cache_mode == "replay":
            raise errors.CacheMissError(
                f"replay mode: job {job_id} is not in the cache for {self.base_url}",
                fingerprint=job_id,
            )
        record = self._request("GET", f"/api/jobs/{quote_segment(job_id)}")
        if not isinstance(record, Mapping):
            raise errors.ServerError(f"GET /api/jobs/{job_id} did not answer a job record")
        record = without_submission_mark(record)
        if record.get("status") in FINAL_STATUSES:
            self._remember_final(job_id, record)
        return record

    def _remember_final(self, job_id: str, record: dict[str, Any]) -> None:
        if not self.plugins.hook.qpi_after_result.get_hookimpls():
            return  # no store: skip re-reading the payload (costly for big sweeps)
        fingerprint = self.remembered_fingerprint(record)
        if fingerprint is None:
            return
        self.plugins.hook.qpi_after_result(
            client=self,
            payload=JobPayload.from_dict(record["payload"]),
            fingerprint=fingerprint,
            job_id=job_id,
            record=record,
        )

    @staticmethod
    def remembered_fingerprint(record: Mapping[str, Any]) -> str | None:
        """The fingerprint a final job record is cached under (``None``: no readable payload)."""
        try:
            return JobPayload.from_dict(record.get("payload") or {}).fingerprint()
        except errors.QPIError:
            return None

    def list_jobs(
        self, *, limit: int | None = None, sort: str = "-created"
    ) -> list[dict[str, Any]]:
        """List the jobs of the authenticated user, newest first.

        Every page is followed, and bare lists, ``{"jobs": [...]}`` and ``{"items": [...]}``
        answers are all understood.

        Args:
            limit: Return at most this many jobs (all when ``None``).
            sort: A sort expression such as ``"-created"`` or ``"+created"``.

        Returns:
            A list of job-record dicts.
        """
        jobs = self._paged("/api/jobs", "jobs", limit=limit, params={"sort": sort})
        return [without_submission_mark(job) for job in jobs]

    def cancel_job(self, job_id: str) -> dict[str, Any]:
        """Request cancellation of ``job_id``.

        Returns:
            The updated job-record dict (fetched after the cancel), whose ``status`` is
            ``"cancelled"`` unless the job finished first.

        Raises:
            NotFoundError: If the job does not exist, is not yours, or already finished.
        """
        path = f"/api/jobs/{quote_segment(job_id)}"
        # Cancelling twice is harmless, so the POST may be retried like a GET.
        answer = self._request("POST", f"{path}/cancel", idempotent=True, gone_means_done=True)
        try:
            return self.get_job(job_id) if self.cache_mode != "replay" else dict(answer or {})
        except errors.NotFoundError:
            return dict(answer or {"status": "cancelled"})

    def wait_for_job(
        self,
        job_id: str,
        timeout: float | None = None,
        *,
        max_interval: float = 3.0,
        raise_on_failure: bool = True,
        callback: Callable[[dict[str, Any], float], None] | None = None,
    ) -> dict[str, Any]:
        """Wait until a job finishes and return its final record.

        Polling starts after 20 ms and backs off by 1.5x (with jitter) to ``max_interval``, so a
        job that takes 50 ms returns in well under 200 ms and a long job costs few requests.
        Connection failures and server errors while waiting are retried until the deadline:
        the wait resumes when the server comes back.

        Args:
            job_id: The job to wait for.
            timeout: Seconds to wait at most; ``None`` waits for ever.
            max_interval: The cap of the polling interval, in seconds.
            raise_on_failure: Raise for failed and cancelled jobs (else return their record).
            callback: Called as ``callback(record, elapsed_seconds)`` after every poll
                (progress display).

        Returns:
            The final job record.

        Raises:
            JobTimeoutError: If the job is not finished within ``timeout``.
            JobFailedError: If the job failed; carries the driver's message.
            JobCancelledError: If the job was cancelled.
        """
        start = time.monotonic()
        deadline = None if timeout is None else start + max(0.0, timeout)
        interval, rng = 0.02, random.Random()
        record: dict[str, Any] = {}
        while True:
            try:
                with deadlines.within(deadline):  # no request outlives the wait's deadline
                    record = self.get_job(job_id)
            except (errors.ConnectionError, errors.ServerError, errors.RateLimitError) as exc:
                # Retried until the deadline, which then raises JobTimeoutError below.
                _LOG.debug("job %s: poll failed (%s); polling on", job_id, exc)
            else:
                _LOG.debug(
                    "job %s: %s after %.2f s",
                    job_id,
                    record.get("status"),
                    time.monotonic() - start,
                )
                if callback is not None:
                    callback(record, time.monotonic() - start)
                if record.get("status") in FINAL_STATUSES:
                    break
            now = time.monotonic()
            if deadline is not None and now >= deadline:
                raise errors.JobTimeoutError(
                    f"job {job_id} did not finish within {timeout:g} s (last status: "
                    f"{record.get('status', 'unknown')}); it keeps running on the server, so "
                    "wait again with the same job id to collect it",
                    job_id=job_id,
                    timeout=timeout,
                )
            pause = interval * rng.uniform(0.9, 1.1)
            if deadline is not None:
                pause = min(pause, deadline - now)
            time.sleep(max(0.0, pause))
            interval = min(max_interval, interval * 1.5)
        if raise_on_failure:
            raise_for_status(record, job_id)
        return record


def raise_for_status(record: Mapping[str, Any], job_id: str) -> None:
    """Raise the matching error for a failed or cancelled job record."""
    status = record.get("status")
    if status == "failed":
        message = _failure_message(record.get("results"))
        raise errors.JobFailedError(
            f"job {job_id} failed: {message or 'the server gave no reason'}",
            job_id=job_id,
            server_message=message,
        )
    if status == "cancelled":
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


def _as_list(circuits: Any) -> list[Any]:
    if isinstance(circuits, str | Mapping):
        return [circuits]
    if not isinstance(circuits, list | tuple):
        raise errors.ValidationError(
            f"circuits must be a list of {{'circuit': qasm}} dicts, got {type(circuits).__name__}"
        )
    return list(circuits)
