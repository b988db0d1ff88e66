"""The job runner: the one path every job takes, and the only reader of the cache mode.

For each submission the runner decides, in this order: answer it from the store (the k-th
identical submission gets the k-th stored result in ``reuse`` mode, the first in ``memo``),
refuse it (``replay``), re-attach to a job submitted earlier for the same occurrence, or send
it. A payload larger than one request is split into the fewest jobs that fit (see
[`split_payload`][qpi.jobs.split_payload]); they are sent and waited on concurrently.
Waiting polls only the status (``fields=``); the full record, with the results, is read once.

Data flows one way: the runner calls the endpoint routes (which call the transport) and the
store; neither calls back. The store is told who asks (a [`Scope`][qpi.cache.Scope]) and is
handed a liveness check, never a client.
"""

from __future__ import annotations

import threading
import warnings
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from qpi import errors
from qpi.jobs.mode import CacheMode
from qpi.jobs.results import JobResult, result_from_record
from qpi.jobs.split import Part, split_payload
from qpi.jobs.status import DEAD_STATUSES, FINAL_STATUSES, STATUS_FIELDS, raise_for_status
from qpi.jobs.wait import Progress, poll_until_final
from qpi.payload import MAX_PAYLOAD_BYTES, JobPayload, new_nonce

if TYPE_CHECKING:
    import pluggy

    from qpi._api.jobs import JobRoutes
    from qpi.cache.protocol import Scope, Store, StoredResult

__all__ = ["Runner", "Ticket"]

#: The most parts of one split payload sent or waited on at the same time.
MAX_CONCURRENT_PARTS = 8
_ANSWERED = (CacheMode.REUSE, CacheMode.MEMO, CacheMode.REPLAY)
_REATTACHED = (CacheMode.REUSE, CacheMode.MEMO)


@dataclass
class Ticket:
    """One job of a submission: where its result comes from.

    Attributes:
        part: The part of the payload this job runs.
        job_id: The job's id (for a cached answer, the job that produced it).
        occurrence: Which identical submission this is (``None``: rebuilt from a job id).
        result: The result, once known (at once when the cache answered).
    """

    part: Part
    job_id: str
    occurrence: int | None
    result: JobResult | None = None


class Runner:
    """Submits, waits for and stores jobs for one client.

    Args:
        routes: The job endpoints.
        mode: The cache mode.
        store: Where results are kept (``None``: nowhere).
        scope: Who is asking, asked at each use (the identity changes after a login).
        plugins: The client's plugins (native results, and the ``qpi_job_started`` hook).
        max_bytes: The largest payload one job may carry.
    """

    def __init__(
        self,
        routes: JobRoutes,
        *,
        mode: CacheMode | str = CacheMode.REUSE,
        store: Store | None = None,
        scope: Callable[[], Scope],
        plugins: pluggy.PluginManager | None = None,
        max_bytes: int = MAX_PAYLOAD_BYTES,
    ) -> None:
        self.routes = routes
        self.mode = CacheMode.coerce(mode)
        self.store = store if self.mode is not CacheMode.OFF else None
        self.plugins = plugins
        self.max_bytes = max_bytes
        self._scope = scope
        self._occurrences: dict[tuple[str, str], int] = {}
        # Jobs this runner started and has not stored a result for: a wait by job id alone
        # (QPIClient.wait_for_job) stores the result under its payload and occurrence too.
        self._unfinished: dict[str, Ticket] = {}
        self._lock = threading.Lock()

    # -- submissions ----------------------------------------------------------------------------

    def start(self, payload: JobPayload) -> list[Ticket]:
        """Start (or answer from the store) the jobs of ``payload``, one per part.

        Raises:
            ValidationError: If the payload is malformed.
            CacheMissError: In replay mode, for a part the store cannot answer.
        """
        payload.validate(max_bytes=None)
        parts = split_payload(payload, self.max_bytes)
        # Occurrences are numbered in order, before anything runs concurrently, so a rerun
        # numbers identical parts the same way.
        numbered = [(part, self._next_occurrence(part.payload)) for part in parts]
        if len(numbered) == 1:
            return [self._start(*numbered[0])]
        with ThreadPoolExecutor(min(len(numbered), MAX_CONCURRENT_PARTS)) as pool:
            return list(pool.map(lambda item: self._start(*item), numbered))

    def _next_occurrence(self, payload: JobPayload) -> int:
        if self.mode is CacheMode.MEMO:
            return 0
        key = (self._scope().key, payload.fingerprint())
        with self._lock:
            occurrence = self._occurrences.get(key, 0)
            self._occurrences[key] = occurrence + 1
        return occurrence

    def _start(self, part: Part, occurrence: int) -> Ticket:
        payload, store, scope = part.payload, self.store, self._scope()
        if store is not None and self.mode in _ANSWERED:
            stored = store.result(scope, payload, occurrence)
            result = self._cached_result(payload, stored) if stored is not None else None
            if result is not None:
                self._started(result.job_id, payload, from_cache=True)
                return Ticket(part, result.job_id, occurrence, result)
        if self.mode is CacheMode.REPLAY:
            raise errors.CacheMissError(
                _miss_message(payload, occurrence, scope), fingerprint=payload.fingerprint()
            )
        earlier = None
        if store is not None and self.mode in _REATTACHED:
            earlier = store.submission(scope, payload, occurrence, alive=self._alive)
            if earlier is not None and earlier.job_id is not None:
                self._started(earlier.job_id, payload, from_cache=False)
                return self._track(Ticket(part, earlier.job_id, occurrence))
        job_id = self._send(payload, occurrence, earlier.nonce if earlier else None)
        return self._track(Ticket(part, job_id, occurrence))

    def _track(self, ticket: Ticket) -> Ticket:
        if self.store is not None:
            with self._lock:
                self._unfinished[ticket.job_id] = ticket
        return ticket

    def _send(self, payload: JobPayload, occurrence: int, nonce: str | None) -> str:
        """POST the job, its tag stored first; a tag stored by a killed process is looked up."""
        from qpi.cache.protocol import Submission

        store, scope = self.store, self._scope()
        job_id = None
        if nonce is not None:
            # A process was killed after storing this tag: its POST may have landed.
            job_id = self.routes.find_tagged(nonce)
        else:
            nonce = new_nonce()
            if store is not None:
                store.save_submission(scope, payload, occurrence, Submission(nonce))
        if job_id is None:
            job_id = self.routes.create(payload, nonce)
        if store is not None:
            store.save_submission(scope, payload, occurrence, Submission(nonce, job_id))
        self._started(job_id, payload, from_cache=False)
        return job_id

    def _cached_result(self, payload: JobPayload, stored: StoredResult) -> JobResult | None:
        try:
            return result_from_record(
                payload,
                stored.record,
                job_id=stored.job_id,
                fingerprint=payload.fingerprint(),
                from_cache=True,
            )
        except errors.ServerError as exc:
            from qpi.cache.warning import CacheWarning

            warnings.warn(
                f"qpi cache: ignored the stored result of job {stored.job_id}: {exc}; "
                "submitting again",
                CacheWarning,
                stacklevel=4,
            )
            return None

    def _alive(self, job_id: str) -> bool:
        """Whether a stored job id may be re-attached to (the server has it, not dead)."""
        try:
            record = self.routes.read(job_id, STATUS_FIELDS)
        except errors.NotFoundError:
            return False
        except errors.QPIError:
            return True  # cannot ask now: trust it, the wait retries until the server answers
        return record.get("status") not in DEAD_STATUSES

    def _started(self, job_id: str, payload: JobPayload, *, from_cache: bool) -> None:
        if self.plugins is not None:
            self.plugins.hook.qpi_job_started(
                job_id=job_id, fingerprint=payload.fingerprint(), from_cache=from_cache
            )

    # -- results --------------------------------------------------------------------------------

    def finish(
        self,
        ticket: Ticket,
        timeout: float | None = None,
        *,
        callback: Progress | None = None,
        max_interval: float = 3.0,
    ) -> JobResult:
        """Wait for a ticket's job, store its result, and return it.

        Raises:
            JobTimeoutError: If the job is not finished within ``timeout``.
            JobFailedError: If the job failed.
            JobCancelledError: If the job was cancelled.
        """
        if ticket.result is not None:
            return ticket.result
        payload, store, occurrence = ticket.part.payload, self.store, ticket.occurrence
        with self._lock:  # stored below, once its results are read
            self._unfinished.pop(ticket.job_id, None)
        record = self.wait(
            ticket.job_id,
            timeout,
            callback=callback,
            max_interval=max_interval,
            raise_on_failure=False,
        )
        if record.get("status") in DEAD_STATUSES and store is not None and occurrence is not None:
            store.forget_submission(self._scope(), payload, occurrence)
        raise_for_status(record, ticket.job_id)
        ticket.result = result_from_record(
            payload,
            record,
            job_id=ticket.job_id,
            fingerprint=payload.fingerprint(),
            from_cache=False,
        )
        if store is not None and occurrence is not None:
            store.save_result(self._scope(), payload, occurrence, ticket.job_id, record)
        return ticket.result

    def finish_all(
        self,
        tickets: list[Ticket],
        timeout: float | None = None,
        *,
        callback: Progress | None = None,
        max_interval: float = 3.0,
    ) -> list[JobResult]:
        """[`finish`][qpi.jobs.Runner.finish] every ticket, concurrently; results in order."""

        def one(ticket: Ticket) -> JobResult:
            return self.finish(ticket, timeout, callback=callback, max_interval=max_interval)

        if len(tickets) == 1:
            return [one(tickets[0])]
        with ThreadPoolExecutor(min(len(tickets), MAX_CONCURRENT_PARTS)) as pool:
            return list(pool.map(one, tickets))

    # -- job records ----------------------------------------------------------------------------

    def record(self, job_id: str) -> dict[str, Any]:
        """The job's record: the stored final one (``reuse``, ``memo``, ``replay``), else read.

        Raises:
            NotFoundError: If the job does not exist or is not the caller's.
            CacheMissError: In replay mode, if the store does not hold the job.
        """
        cached = self._stored_job(job_id)
        if cached is not None:
            return cached
        record = self.routes.read(job_id)
        if record.get("status") in FINAL_STATUSES:
            self._save_job(job_id, record)
        return record

    def status(self, job_id: str) -> str:
        """The job's status: from the store when final there, else one status-only request."""
        cached = self._stored_job(job_id)
        if cached is not None:
            return str(cached.get("status", "unknown"))
        return str(self.routes.read(job_id, STATUS_FIELDS).get("status", "unknown"))

    def wait(
        self,
        job_id: str,
        timeout: float | None = None,
        *,
        callback: Progress | None = None,
        max_interval: float = 3.0,
        raise_on_failure: bool = True,
    ) -> dict[str, Any]:
        """Wait until the job is final and return its full record.

        Where the server offers its ``?wait=`` long-poll (``qpi serve``), one held read
        answers the whole record the moment the job ends; elsewhere status-only polls back
        off to ``max_interval`` and the record is read once at the end.

        Raises:
            JobTimeoutError: If the job is not final within ``timeout``.
            JobFailedError: If it failed (with ``raise_on_failure``).
            JobCancelledError: If it was cancelled (with ``raise_on_failure``).
            CacheMissError: In replay mode, if the store does not hold the job.
        """
        record = self._stored_job(job_id)
        if record is None:
            long_poll = self.routes.long_poll()
            status = poll_until_final(
                # A long-poll answers the whole record when the job ends: no second read.
                lambda jid, wait=0.0: self.routes.read(
                    jid, None if wait else STATUS_FIELDS, wait=wait
                ),
                job_id,
                timeout,
                max_interval=max_interval,
                callback=callback,
                long_poll=long_poll,
            )
            record = self.final_record(job_id, status)
            self._save_job(job_id, record)
        if raise_on_failure:
            raise_for_status(record, job_id)
        return record

    def final_record(self, job_id: str, status: dict[str, Any]) -> dict[str, Any]:
        """The full record of a job known to be final, given its last status answer.

        The results are downloaded once, here. A server that ignored ``fields=`` already
        sent them with the status. (A server whose job routes return the payload where the
        results belong would be handled here too: read the record through the records route.)
        """
        if "results" in status and "payload" in status:
            return status
        return self.routes.read(job_id)

    def cancel(self, job_id: str) -> dict[str, Any]:
        """Ask the server to cancel the job; the record read back after (or the answer).

        Raises:
            NotFoundError: If the job does not exist, is not yours, or already finished.
        """
        answer = self.routes.cancel(job_id)
        try:
            return self.record(job_id)
        except errors.NotFoundError:
            return dict(answer or {"status": "cancelled"})

    def _stored_job(self, job_id: str) -> dict[str, Any] | None:
        if self.mode not in _ANSWERED:
            return None
        cached = self.store.job(self._scope(), job_id) if self.store is not None else None
        if cached is None and self.mode is CacheMode.REPLAY:
            raise errors.CacheMissError(
                f"replay mode: job {job_id} is not in the cache for {self._scope().server}",
                fingerprint=job_id,
            )
        return cached

    def _save_job(self, job_id: str, record: dict[str, Any]) -> None:
        """Store a final record, and the result of a job this runner started."""
        store, status = self.store, record.get("status")
        if store is None or status not in FINAL_STATUSES:
            return
        with self._lock:
            ticket = self._unfinished.pop(job_id, None)
        if ticket is None or ticket.occurrence is None:
            store.save_job(self._scope(), job_id, record)
        elif status in DEAD_STATUSES:
            store.save_job(self._scope(), job_id, record)
            store.forget_submission(self._scope(), ticket.part.payload, ticket.occurrence)
        elif self._fits(ticket.part.payload, record, job_id):
            store.save_result(self._scope(), ticket.part.payload, ticket.occurrence, job_id, record)
        else:
            store.save_job(self._scope(), job_id, record)

    @staticmethod
    def _fits(payload: JobPayload, record: dict[str, Any], job_id: str) -> bool:
        """Whether a completed record's results read against its payload (else not stored)."""
        try:
            result_from_record(payload, record, job_id=job_id, fingerprint="", from_cache=False)
        except errors.ServerError:
            return False
        return True

    # -- QPU records ----------------------------------------------------------------------------

    def qpu(self, name: str, fetch: Callable[[], dict[str, Any]]) -> dict[str, Any]:
        """A QPU record: fetched and stored; from the store in replay mode, or when offline.

        Args:
            name: What the record is looked up by (``""``: the default QPU).
            fetch: Reads it from the server.

        Raises:
            ConnectionError: If the server cannot be reached and the store does not hold it
                (outside replay mode).
            CacheMissError: In replay mode, if the store does not hold it.
        """
        store, scope = self.store, self._scope()
        if self.mode is CacheMode.REPLAY:
            cached = store.qpu(scope, name) if store is not None else None
            if cached is None:
                what = f"QPU {name!r}" if name else "the default QPU"
                raise errors.CacheMissError(
                    f"replay mode: {what} is not in the cache for {scope.server}; run once "
                    "against the server to record it",
                    fingerprint=name,
                )
            return cached
        try:
            record = fetch()
        except errors.ConnectionError:
            # Offline rerun: a cached answer needs the QPU record, and the store may hold it.
            cached = store.qpu(scope, name) if store is not None else None
            if cached is None or self.mode not in _REATTACHED:
                raise
            return cached
        if store is not None:
            store.save_qpu(scope, name, record)
        return record


def _miss_message(payload: JobPayload, occurrence: int, scope: Scope) -> str:
    """The message of the [`CacheMissError`][qpi.errors.CacheMissError] replay mode raises."""
    shots = sorted({payload.shots_for(i) for i in range(len(payload.circuits))})
    target = payload.qpu_target or "(the server's default QPU)"
    return (
        f"replay mode: the cache holds no result #{occurrence + 1} for payload "
        f"{payload.fingerprint()} ({len(payload.circuits)} circuit(s), "
        f"{payload.num_experiments} experiment(s), {'/'.join(map(str, shots))} shots, "
        f"QPU target {target}) on {scope.server}. Fill the cache by running the same code "
        "once with cache_mode='reuse' or 'record' while the server is reachable (as many "
        "times as this run asks), or import an export of a cache that holds it "
        "(Cache.import_from, `qpi cache import`)."
    )
