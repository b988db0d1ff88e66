"""The scheduler: picks pending jobs, runs them in simulator processes, stores their results.

Which jobs may run is [`qpi.server.selection`][qpi.server.selection]'s answer (the real
server's rules, reference §5.4). Among them:

* **Lanes.** ``workers`` general processes take any job; ``short_workers`` more take only
  jobs whose estimated work ([`estimate`][qpi.server.limits.estimate]: qubits, operations, shots,
  rows) is at most ``short_job_work``. A short job therefore never waits behind long ones,
  and long work runs at a lower CPU priority than the server and the short lane.
* **Fair share.** The user with the fewest jobs running goes first; ties go to the oldest job.
* **Memory.** Jobs run together only while their estimated peaks fit in ``memory_limit``.

Every job runs under a time limit (per QPU) and the memory limit: over either, its worker is
killed and replaced and the job fails with the reason. Cancelling a running job kills its
worker at once. A result is stored (and charged) only while the job is still ``running``, in
one transaction with the charge, so a cancelled job stays cancelled and is not charged, and a
job interrupted by a server crash is charged once, by the run that finishes it. A worker
that crashes puts its job back to ``pending``; after ``max_attempts`` crashes the job fails.
``running`` jobs nobody is running (after a crash or restart) go back to ``pending``.
"""

from __future__ import annotations

import contextlib
import hashlib
import logging
import os
import secrets
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from multiprocessing import Pipe
from multiprocessing.connection import wait
from typing import Any

from qpi.server import dates, executors, limits, results
from qpi.server.admission import qpu_qubits
from qpi.server.config import ServerConfig
from qpi.server.selection import Candidate, candidates
from qpi.server.store import Store
from qpi.server.workers import Worker, resident_bytes

__all__ = ["Scheduler", "job_seed"]

LOGGER = logging.getLogger("qpi.server.scheduler")

#: How much lower the CPU priority of general workers is than the server's (short-lane
#: workers run at the server's priority, so short jobs and the API come first).
LONG_NICE = 4
#: Seconds between memory checks of running jobs.
MEMORY_POLL = 0.05


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


@dataclass
class _Slot:
    """A worker process and the lane it serves."""

    short_only: bool
    worker: Worker | None = None


@dataclass
class _Flight:
    job_id: str
    user_id: str
    slot: _Slot
    started: float
    deadline: float
    time_limit: float
    memory: int
    qpu_name: str


class Scheduler:
    """Runs jobs in the background; start with `start`, stop with `stop`.

    Args:
        store: The server's database.
        config: The server's settings (workers, lanes, limits, seed).
    """

    #: Whether cancelling a running job kills its worker (strict mode: the result still lands).
    kill_cancelled = True
    #: What a worker runs for one job (strict mode runs the real driver's checks first).
    run_job: Callable[..., dict[str, Any]] = staticmethod(executors.run_job)

    def __init__(self, store: Store, config: ServerConfig) -> None:
        self.store = store
        self.config = config
        self._lock = threading.Lock()
        self._wake_read, self._wake_write = Pipe(duplex=False)
        self._woken = False
        self._stopping = False
        self._flights: dict[str, _Flight] = {}
        self._slots = [_Slot(False) for _ in range(config.workers)]
        self._slots += [_Slot(True) for _ in range(config.short_workers)]
        self._estimates: dict[str, limits.Estimate] = {}
        self._thread: threading.Thread | None = None

    # -- life cycle ----------------------------------------------------------------------------

    def start(self) -> None:
        """Start the scheduler thread (it starts and warms the worker processes)."""
        self._thread = threading.Thread(target=self._main, name="qpi-scheduler", daemon=True)
        self._thread.start()

    def wake(self) -> None:
        """Ask the scheduler to look for work now (after a submit, a cancel, a toggle...)."""
        with self._lock:
            if self._woken or self._stopping:
                return
            self._woken = True
            with contextlib.suppress(OSError):
                self._wake_write.send_bytes(b"")

    def stop(self) -> None:
        """Stop dispatching, end the worker processes, put interrupted jobs back to pending."""
        with self._lock:
            if self._stopping:
                return
            self._stopping = True
            with contextlib.suppress(OSError):
                self._wake_write.send_bytes(b"")
        if self._thread is not None:
            self._thread.join()
        for slot in self._slots:
            self._retire(slot)
        self._flights.clear()
        # Jobs the workers were running go back to pending: the next start runs them.
        self.store.execute(
            "UPDATE quantum_jobs SET status = 'pending', updated = ? WHERE status = 'running'",
            (dates.now(),),
        )
        for conn in (self._wake_read, self._wake_write):
            conn.close()

    def running_jobs(self) -> int:
        """How many jobs are in the workers right now."""
        return len(self._flights)

    # -- the loop ------------------------------------------------------------------------------

    def _main(self) -> None:
        if self.config.prewarm:
            for slot in self._slots:
                self._worker(slot)
        while not self._stopping:
            try:
                self._tick()
            except Exception:  # keep scheduling through a bad moment (disk full, ...)
                LOGGER.exception("the scheduler hit an unexpected error; retrying")
                time.sleep(min(self.config.poll_interval, 0.5))

    def _tick(self) -> None:
        """One round: collect answers, enforce limits and cancels, dispatch, then sleep."""
        self._collect()
        self._enforce()
        self._requeue_orphans()
        while not self._stopping and self._dispatch_one():
            pass
        if self.config.prewarm:  # replace killed workers now, so the next job starts warm
            for slot in self._slots:
                if slot.worker is None and not self._stopping:
                    self._worker(slot)
        self._sleep()

    def _sleep(self) -> None:
        waits: list[Any] = [self._wake_read]
        timeout = self.config.poll_interval
        now = time.monotonic()
        for flight in self._flights.values():
            worker = flight.slot.worker
            assert worker is not None
            waits += [worker.conn, worker.process.sentinel]
            timeout = min(timeout, max(0.0, flight.deadline - now), MEMORY_POLL)
        wait(waits, timeout)
        with self._lock:
            while self._wake_read.poll():
                self._wake_read.recv_bytes()
            self._woken = False

    def _worker(self, slot: _Slot) -> Worker:
        """The slot's worker, started if it has none."""
        if slot.worker is None:
            slot.worker = Worker(nice=0 if slot.short_only else LONG_NICE)
        return slot.worker

    @staticmethod
    def _retire(slot: _Slot) -> None:
        if slot.worker is not None:
            slot.worker.kill()
            slot.worker = None

    # -- answers and limits --------------------------------------------------------------------

    def _collect(self) -> None:
        for flight in list(self._flights.values()):
            worker = flight.slot.worker
            assert worker is not None
            if worker.conn.poll():
                try:
                    result = worker.receive()
                except (EOFError, OSError):
                    self._end(flight, crashed=True)
                    continue
                self._end(flight)
                self._store_result(flight, result)
            elif not worker.alive():
                self._end(flight, crashed=True)

    def _enforce(self) -> None:
        if not self._flights:
            return
        now = time.monotonic()
        statuses = self._statuses(list(self._flights))
        for flight in list(self._flights.values()):
            worker = flight.slot.worker
            assert worker is not None
            if statuses.get(flight.job_id) != "running" and self.kill_cancelled:
                self._end(flight, kill=True)  # cancelled (or reset) meanwhile
                continue
            if now >= flight.deadline:
                self._end(flight, kill=True)
                self._fail(
                    flight,
                    f"The job ran longer than the time limit of {flight.time_limit:g} s of QPU "
                    f"{flight.qpu_name!r} and was stopped. Split it into smaller jobs (fewer "
                    "circuits, rows or shots) or use fewer qubits.",
                )
                continue
            used = resident_bytes(worker.pid or 0)
            if used is not None and used > (self.config.memory_limit or 0):
                self._end(flight, kill=True)
                self._fail(
                    flight,
                    f"The job used {used >> 20} MiB, over the memory limit of "
                    f"{(self.config.memory_limit or 0) >> 20} MiB, and was stopped. Use fewer "
                    "qubits, circuits or rows, or fewer shots at meas_level 1.",
                )

    def _statuses(self, job_ids: list[str]) -> dict[str, str]:
        marks = ", ".join("?" for _ in job_ids)
        rows = self.store.query(
            f"SELECT id, status FROM quantum_jobs WHERE id IN ({marks})",  # noqa: S608
            job_ids,
        )
        return {row["id"]: row["status"] for row in rows}

    def _end(self, flight: _Flight, *, kill: bool = False, crashed: bool = False) -> None:
        """The flight is over; a killed or crashed worker is ended (replaced later)."""
        self._flights.pop(flight.job_id, None)
        if kill or crashed:
            self._retire(flight.slot)
        if crashed:
            self._crashed(flight)

    # -- choosing and dispatching --------------------------------------------------------------

    def _dispatch_one(self) -> bool:
        idle = [slot for slot in self._slots if not self._slot_busy(slot)]
        if not idle:
            return False
        found = self._candidates()
        self._forget_estimates({c.job["id"] for c in found})
        running: dict[str, int] = {}
        for flight in self._flights.values():
            running[flight.user_id] = running.get(flight.user_id, 0) + 1
        # Fair share: users with fewer jobs running first; the sort keeps age order within.
        found.sort(key=lambda c: running.get(c.job["user_id"], 0))
        reserved = sum(flight.memory for flight in self._flights.values())
        for candidate in found:
            cost = self._estimate(candidate.job)
            slot = self._slot_for(cost, idle)
            if slot is None:
                continue
            if self._flights and reserved + cost.memory > (self.config.memory_limit or 0):
                continue  # waits until running jobs free memory (alone, it always runs)
            self._start(candidate, slot, cost)
            return True
        return False

    def _candidates(self) -> list[Candidate]:
        """The pending jobs that may run now (strict mode routes as the real server)."""
        return candidates(self.store, self.config.idle_threshold)

    def _slot_busy(self, slot: _Slot) -> bool:
        return any(flight.slot is slot for flight in self._flights.values())

    def _slot_for(self, cost: limits.Estimate, idle: list[_Slot]) -> _Slot | None:
        short = cost.work <= self.config.short_job_work
        lanes = [slot for slot in idle if short or not slot.short_only]
        # A short job takes a short-lane worker first, leaving general ones for long work.
        lanes.sort(key=lambda slot: not slot.short_only)
        return lanes[0] if lanes else None

    def _estimate(self, job: dict[str, Any]) -> limits.Estimate:
        cost = self._estimates.get(job["id"])
        if cost is None:
            cost = self._estimates[job["id"]] = limits.estimate(job["payload"] or {})
        return cost

    def _forget_estimates(self, keep: set[str]) -> None:
        if len(self._estimates) > 4 * len(keep) + 64:
            self._estimates = {k: v for k, v in self._estimates.items() if k in keep}

    def _start(self, candidate: Candidate, slot: _Slot, cost: limits.Estimate) -> None:
        job, qpu = candidate.job, candidate.qpu
        changed = self.store.execute(
            "UPDATE quantum_jobs SET status = 'running', qpu_target = ?, updated = ? "
            "WHERE id = ? AND status = 'pending'",
            (qpu["id"], dates.now(), job["id"]),
        )
        if not changed:
            return
        worker = self._worker(slot)
        time_limit = self.config.job_time_limit(qpu["name"])
        started = time.monotonic()
        flight = _Flight(
            job["id"], job["user_id"], slot, started, started + time_limit, time_limit,
            cost.memory, qpu["name"],
        )  # fmt: skip
        self._flights[job["id"]] = flight
        arguments = {
            "payload": job["payload"],
            "executor_type": qpu["executor_type"],
            "backend_name": qpu["name"],
            "seed": job_seed(self.config.seed, job["seq"]),
            "max_qubits": qpu_qubits(qpu, self.config),
            "max_shots": self.config.max_shots,
            "max_instructions": self.config.max_instructions,
            "threads": 1 if slot.short_only else (os.cpu_count() or 1),
            # The worker encodes the results and checks their size (results.run_encoded).
            "max_result_bytes": self.config.max_result_bytes,
            "run": self.run_job,  # a module-level function: crosses the pipe by name
        }
        try:
            worker.send(job["id"], arguments)
        except (OSError, ValueError):  # the worker died before the job reached it
            self._flights.pop(job["id"], None)
            self._retire(slot)
            self.store.execute(
                "UPDATE quantum_jobs SET status = 'pending', updated = ? "
                "WHERE id = ? AND status = 'running'",
                (dates.now(), job["id"]),
            )

    # -- results -------------------------------------------------------------------------------

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

    def _fail(self, flight: _Flight, message: str) -> None:
        """Fail a job the scheduler stopped; the time it used is charged like any run's."""
        self._store_result(flight, {"error": message})

    def _crashed(self, flight: _Flight) -> None:
        if self._stopping:
            return
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
        running = self.store.query("SELECT id FROM quantum_jobs WHERE status = 'running'")
        for row in running:
            if row["id"] not in self._flights:
                self.store.execute(
                    "UPDATE quantum_jobs SET status = 'pending', updated = ? "
                    "WHERE id = ? AND status = 'running'",
                    (dates.now(), row["id"]),
                )
