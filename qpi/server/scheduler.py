"""The scheduler: picks pending jobs, runs them in simulator processes, stores their results.

Selection follows the real server (reference §5.4) with its bugs fixed:

1. QPUs that take jobs are the enabled, online ones, in creation order; a job without a
   (known) ``qpu_target`` goes to the first of them.
2. While a booking (``time_slots``) is active, the booker's oldest pending job goes first; if
   they have none but finished a job on a QPU less than ``idle_threshold`` ago, that QPU is
   held for them.
3. Otherwise the oldest pending job of any user runs (FIFO by ``created``).

Jobs run in a `ProcessPoolExecutor` (``forkserver`` context: forking
a multi-threaded server is unsafe), one job per worker. Submitting wakes the scheduler at
once. A result is stored only while the job is still ``running``, so a cancelled job stays
cancelled and is not charged. A crashed worker puts its jobs back to ``pending``; after
``max_attempts`` crashes the job fails. ``running`` jobs nobody is running (after a crash or
restart, or set by an admin) go back to ``pending``.
"""

from __future__ import annotations

import hashlib
import logging
import multiprocessing
import secrets
import sys
import threading
import time
import types
from collections.abc import Callable, Iterator
from concurrent.futures import CancelledError, Future, ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from qpi.server import dates, executors, results
from qpi.server.config import SIMULATOR_MAX_QUBITS, ServerConfig
from qpi.server.store import Store

__all__ = ["Scheduler", "job_seed"]

LOGGER = logging.getLogger("qpi.server.scheduler")


def job_seed(seed: int | None, sequence: int) -> int:
    """The random seed of the ``sequence``-th job of a data dir.

    With a server seed, it depends only on the seed and the job's submission number, so a
    fresh server given the same seed and the same submissions reproduces every count,
    whatever order the jobs happen to run in. Without one it is fresh randomness.
    """
    if seed is None:
        return secrets.randbits(63)
    digest = hashlib.sha256(f"{seed}:{sequence}".encode()).digest()
    return int.from_bytes(digest[:8], "big") >> 1


@contextmanager
def _main_module_hidden() -> Iterator[None]:
    """Hide ``__main__`` while the pool starts workers.

    A ``forkserver`` worker re-imports the parent's main script unless told otherwise, so a
    script that starts a server at top level (no ``if __name__ == "__main__":``) would start
    one more server in every worker. Workers only run
    [`qpi.server.executors`][qpi.server.executors], which needs
    nothing from ``__main__``, so they are started with an empty one.
    """
    main = sys.modules.get("__main__")
    sys.modules["__main__"] = types.ModuleType("__main__")
    try:
        yield
    finally:
        if main is not None:
            sys.modules["__main__"] = main


def _pool_submit(
    pool: ProcessPoolExecutor, fn: Callable[..., Any], /, *args: Any, **kwargs: Any
) -> Future:
    # Submitting is what starts workers (lazily, up to max_workers).
    with _main_module_hidden():
        return pool.submit(fn, *args, **kwargs)


@dataclass
class _Flight:
    job_id: str
    started: float
    generation: int


class Scheduler:
    """Runs jobs in the background; start with `start`, stop with `stop`.

    Args:
        store: The server's database.
        config: The server's settings (workers, seed, limits).
    """

    #: What a worker runs for one job (strict mode runs the real driver's checks first).
    run_job: Callable[..., dict[str, Any]] = staticmethod(executors.run_job)

    def __init__(self, store: Store, config: ServerConfig) -> None:
        self.store = store
        self.config = config
        self._cond = threading.Condition()
        self._woken = False
        self._stopping = False
        self._flights: dict[str, _Flight] = {}
        self._pool: ProcessPoolExecutor | None = None
        self._generation = 0
        self._broken_generation = -1
        self._thread: threading.Thread | None = None

    # -- life cycle ----------------------------------------------------------------------------

    def start(self) -> None:
        """Start the scheduler thread (it creates and warms the worker pool)."""
        self._thread = threading.Thread(target=self._main, name="qpi-scheduler", daemon=True)
        self._thread.start()

    def wake(self) -> None:
        """Ask the scheduler to look for work now (after a submit, a toggle, a result...)."""
        with self._cond:
            self._woken = True
            self._cond.notify()

    def stop(self) -> None:
        """Stop dispatching, end the worker processes, put interrupted jobs back to pending."""
        with self._cond:
            if self._stopping:
                return
            self._stopping = True
            self._cond.notify()
        if self._thread is not None:
            self._thread.join()
        self._close_pool(self._pool)
        self._pool = None
        # Jobs the workers were running go back to pending: the next start runs them.
        self.store.execute(
            "UPDATE quantum_jobs SET status = 'pending', updated = ? WHERE status = 'running'",
            (dates.now(),),
        )

    def running_jobs(self) -> int:
        """How many jobs are in the workers right now."""
        with self._cond:
            return len(self._flights)

    # -- the loop ------------------------------------------------------------------------------

    def _main(self) -> None:
        while True:
            try:
                if self._pool is None:
                    self._pool = self._new_pool()
                if not self._tick():
                    return
            except Exception:  # keep scheduling through a bad moment (disk full, ...)
                LOGGER.exception("the scheduler hit an unexpected error; retrying")
                with self._cond:
                    if self._stopping:
                        return
                    self._cond.wait(self.config.poll_interval)

    def _tick(self) -> bool:
        """One round: replace a broken pool, requeue orphans, dispatch, then sleep."""
        with self._cond:
            if self._stopping:
                return False
            broken = self._broken_generation == self._generation
            self._woken = False
        if broken:
            self._replace_pool()
        self._requeue_orphans()
        while self._dispatch_one():
            pass
        with self._cond:
            if not self._woken and not self._stopping:
                self._cond.wait(self.config.poll_interval)
        return True

    def _new_pool(self) -> ProcessPoolExecutor:
        context = multiprocessing.get_context("forkserver")
        # The fork server imports these once; every worker forked from it starts warm.
        context.set_forkserver_preload(list(executors.PRELOAD))
        pool = ProcessPoolExecutor(
            max_workers=self.config.workers, mp_context=context, initializer=executors.init_worker
        )
        if self.config.prewarm:
            for _ in range(self.config.workers):
                _pool_submit(pool, executors.warm_up)
        return pool

    def _replace_pool(self) -> None:
        # Not under the condition: closing joins the old pool's thread, which runs callbacks.
        old, self._pool = self._pool, self._new_pool()
        with self._cond:
            self._generation += 1
        self._close_pool(old)

    @staticmethod
    def _close_pool(pool: ProcessPoolExecutor | None) -> None:
        if pool is None:
            return
        # A simulation may run for long: end the workers instead of waiting for them. The
        # executor has no public way to do that before Python 3.14.
        for process in list((getattr(pool, "_processes", None) or {}).values()):
            process.terminate()
        pool.shutdown(wait=True, cancel_futures=True)

    # -- choosing and dispatching --------------------------------------------------------------

    def _free_slots(self) -> int:
        with self._cond:
            return 0 if self._stopping else self.config.workers - len(self._flights)

    def _dispatch_one(self) -> bool:
        if self._free_slots() <= 0:
            return False
        choice = self._next_job()
        if choice is None:
            return False
        job, qpu = choice
        changed = self.store.execute(
            "UPDATE quantum_jobs SET status = 'running', qpu_target = ?, updated = ? "
            "WHERE id = ? AND status = 'pending'",
            (qpu["id"], dates.now(), job["id"]),
        )
        return self._submit(job, qpu) if changed else True

    def _submit(self, job: dict[str, Any], qpu: dict[str, Any]) -> bool:
        assert self._pool is not None
        flight = _Flight(job["id"], time.monotonic(), self._generation)
        with self._cond:
            self._flights[job["id"]] = flight
        num_qubits = qpu["num_qubits"] or SIMULATOR_MAX_QUBITS
        try:
            future = _pool_submit(
                self._pool,
                results.run_encoded,  # the worker encodes the results and checks their size
                self.run_job,
                job["payload"],
                executor_type=qpu["executor_type"],
                backend_name=qpu["name"],
                seed=job_seed(self.config.seed, job["seq"]),
                max_qubits=min(num_qubits, SIMULATOR_MAX_QUBITS),
                max_shots=self.config.max_shots,
                max_result_bytes=self.config.max_result_bytes,
            )
        except (BrokenProcessPool, RuntimeError):
            # The pool broke before the job reached it: not the job's fault, no attempt used.
            with self._cond:
                self._flights.pop(job["id"], None)
                self._broken_generation = flight.generation
            self.store.execute(
                "UPDATE quantum_jobs SET status = 'pending', updated = ? "
                "WHERE id = ? AND status = 'running'",
                (dates.now(), job["id"]),
            )
            return False
        future.add_done_callback(lambda done: self._finished(flight, done))
        return True

    def _routable_qpus(self) -> list[dict[str, Any]]:
        return self.store.query(
            "SELECT * FROM qpus WHERE enabled = 1 AND status = 'online' ORDER BY created, rowid"
        )

    def _next_job(self) -> tuple[dict[str, Any], dict[str, Any]] | None:
        qpus = self._routable_qpus()
        if not qpus:
            return None
        by_id = {q["id"]: q for q in qpus}
        now = datetime.now(UTC)
        booker = self._active_booker(dates.format_date(now))
        if booker is not None:
            job = self._oldest_pending(qpus, by_id, booker=booker)
            if job is not None:
                return job
            held = self._held_qpus(booker, now)
            by_id = {k: v for k, v in by_id.items() if k not in held}
        return self._oldest_pending(qpus, by_id)

    def _active_booker(self, stamp: str) -> str | None:
        return self.store.scalar(
            "SELECT booked_by FROM time_slots WHERE start_time <= ? AND end_time >= ? "
            "ORDER BY start_time DESC LIMIT 1",
            (stamp, stamp),
        )

    def _held_qpus(self, booker: str, now: datetime) -> set[str]:
        since = dates.format_date(now - timedelta(seconds=self.config.idle_threshold))
        rows = self.store.query(
            "SELECT DISTINCT qpu_target FROM quantum_jobs WHERE user_id = ? AND "
            "status = 'completed' AND finished_at > ?",
            (booker, since),
        )
        return {row["qpu_target"] for row in rows}

    def _oldest_pending(
        self,
        qpus: list[dict[str, Any]],
        allowed: dict[str, dict[str, Any]],
        booker: str | None = None,
    ) -> tuple[dict[str, Any], dict[str, Any]] | None:
        if not allowed:
            return None
        default = qpus[0]["id"]
        marks = ", ".join("?" for _ in allowed)
        # A job without a known target goes to the first routable QPU.
        target = "COALESCE(q.id, ?)"
        sql = (
            f"SELECT j.*, {target} AS route FROM quantum_jobs j "  # noqa: S608
            "LEFT JOIN qpus q ON q.id = j.qpu_target "
            f"WHERE j.status = 'pending' AND {target} IN ({marks})"
        )
        params: list[Any] = [default, default, *allowed]
        if booker is not None:
            sql += " AND j.user_id = ?"
            params.append(booker)
        sql += " ORDER BY j.created, j.seq LIMIT 1"
        rows = self.store.query(sql, params)
        if not rows:
            return None
        return rows[0], allowed[rows[0]["route"]]

    # -- results -------------------------------------------------------------------------------

    def _finished(self, flight: _Flight, future: Future) -> None:
        try:
            with self._cond:
                if self._stopping:
                    return
            try:
                result = future.result()
            except BrokenProcessPool:
                self._crashed(flight)
                return
            except CancelledError:
                return
            except Exception as exc:  # e.g. a payload that cannot cross the process boundary
                result = {"error": f"{type(exc).__name__}: {exc}"}
            self._store_result(flight, result)
        except Exception:
            LOGGER.exception("could not store the result of job %s", flight.job_id)
        finally:
            # The flight ends only after the result is stored, so the orphan check never
            # mistakes a finishing job for an abandoned one.
            with self._cond:
                self._flights.pop(flight.job_id, None)
                self._woken = True
                self._cond.notify()

    def _store_result(self, flight: _Flight, result: Any) -> None:
        duration = max(0.0, time.monotonic() - flight.started)
        if not isinstance(result, results.StoredResult):
            result = results.encode_result(result, self.config.max_result_bytes)
        status = "failed" if result.failed else "completed"
        stamp = dates.now()
        with self.store.transaction():
            job = self.store.get("quantum_jobs", flight.job_id)
            if job is None or job["status"] != "running":
                return  # cancelled (or reset) meanwhile: the late result is dropped, unbilled
            self.store.update(
                "quantum_jobs",
                flight.job_id,
                {
                    "status": status,
                    "results": result,
                    "finished_at": stamp,
                    "duration": duration,
                    "updated": stamp,
                },
            )
            self.store.execute(
                "UPDATE users SET qpu_seconds = MAX(0, qpu_seconds - ?), updated = ? WHERE id = ?",
                (duration, stamp, job["user_id"]),
            )

    def _crashed(self, flight: _Flight) -> None:
        with self._cond:
            if self._stopping:
                return
            self._broken_generation = max(self._broken_generation, flight.generation)
        stamp = dates.now()
        with self.store.transaction():
            job = self.store.get("quantum_jobs", flight.job_id)
            if job is None or job["status"] != "running":
                return
            attempts = job["attempts"] + 1
            if attempts >= self.config.max_attempts:
                error = (
                    f"The simulator process crashed {attempts} times while running this job "
                    "(out of memory?); giving up. Try fewer qubits or shots."
                )
                values = {"status": "failed", "results": {"error": error}, "finished_at": stamp}
            else:
                values = {"status": "pending"}
            self.store.update(
                "quantum_jobs", flight.job_id, {**values, "attempts": attempts, "updated": stamp}
            )

    def _requeue_orphans(self) -> None:
        with self._cond:
            flying = set(self._flights)
        running = self.store.query("SELECT id FROM quantum_jobs WHERE status = 'running'")
        for row in running:
            if row["id"] not in flying:
                self.store.execute(
                    "UPDATE quantum_jobs SET status = 'pending', updated = ? "
                    "WHERE id = ? AND status = 'running'",
                    (dates.now(), row["id"]),
                )
