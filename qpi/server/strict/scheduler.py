"""The real server's dispatch rules (reference §5.2-§5.4), for strict mode.

Differences from the friendly [`Scheduler`][qpi.server.scheduler.Scheduler]:

* only a job whose ``qpu_target`` is the record id of an online QPU is ever dispatched; a job
  with an empty or unknown target waits for ever;
* the recovery loop puts jobs that have been ``running`` for ``job_timeout`` seconds back to
  ``pending`` (every ``recovery_interval``), so a long job may run twice;
* a result is applied whatever the job's status meanwhile: a cancel of a running job is
  overwritten, a re-queued job is completed by its first run's late result;
* results larger than a JSON field holds are not saved: the job stays ``running`` (and the
  recovery loop re-queues it).
"""

from __future__ import annotations

import logging
import time
from datetime import UTC, datetime, timedelta
from typing import Any

from qpi.server import dates, results
from qpi.server.scheduler import Scheduler
from qpi.server.selection import Candidate, candidates
from qpi.server.strict import driver
from qpi.server.strict.limits import is_oversized

__all__ = ["StrictScheduler"]

LOGGER = logging.getLogger("qpi.server.strict")


class StrictScheduler(Scheduler):
    """A [`Scheduler`][qpi.server.scheduler.Scheduler] that dispatches as a real v0.1.2 server."""

    run_job = staticmethod(driver.run_job)
    _last_recovery = 0.0

    #: A cancel does not stop a running job: its late result overwrites the cancel.
    kill_cancelled = False

    def _candidates(self) -> list[Candidate]:
        # A QPU's driver keeps taking its jobs whatever ``enabled`` and ``status`` say, and
        # only jobs that name a connected QPU's record id are ever taken.
        found = candidates(
            self.store, self.config.idle_threshold, routable="connected = 1", untargeted=False
        )
        # A re-queued job still in a worker waits for that run, whose late result completes it.
        return [c for c in found if c.job["id"] not in self._flights]

    def _requeue_orphans(self) -> None:
        """The real recovery loop: only time puts a running job back to pending."""
        now = time.monotonic()
        if now - self._last_recovery < self.config.recovery_interval:
            return
        self._last_recovery = now
        cutoff = datetime.now(UTC) - timedelta(seconds=self.config.job_timeout)
        changed = self.store.execute(
            "UPDATE quantum_jobs SET status = 'pending', updated = ? "
            "WHERE status = 'running' AND updated <= ?",
            (dates.now(), dates.format_date(cutoff)),
        )
        if changed:
            LOGGER.info("recovery: %d job(s) running too long went back to pending", changed)

    def _store_result(self, flight: Any, result: Any) -> None:
        if not isinstance(result, results.StoredResult):
            result = results.encode_result(result, self.config.max_result_bytes)
        if is_oversized(result):
            LOGGER.warning(
                "job %s: its results exceed 1 MiB and cannot be saved; it stays running",
                flight.job_id,
            )
            return
        duration = max(0.0, time.monotonic() - flight.started)
        status = "failed" if result.failed else "completed"
        stamp = dates.now()
        with self.store.transaction():
            job = self.store.get("quantum_jobs", flight.job_id)
            if job is None:
                return
            values = {"status": status, "results": result, "finished_at": stamp}
            self.store.update(
                "quantum_jobs", flight.job_id, {**values, "duration": duration, "updated": stamp}
            )
            # A charge that would overdraw fails on the real server and leaves the balance.
            self.store.execute(
                "UPDATE users SET qpu_seconds = qpu_seconds - ?, updated = ? "
                "WHERE id = ? AND qpu_seconds >= ?",
                (duration, stamp, job["user_id"], duration),
            )
