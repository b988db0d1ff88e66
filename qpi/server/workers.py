"""Simulator processes the scheduler can end at any moment, and that end with their server.

A [`Worker`][qpi.server.workers.Worker] is one process started from the ``forkserver`` (which
imports `PRELOAD` once, so every worker starts warm). It runs one job at a
time: the scheduler sends the job's arguments down a pipe, the worker answers with the
result. A job over its time or memory limit, or cancelled, is stopped by killing its worker;
the scheduler starts a fresh one. A ``ProcessPoolExecutor`` cannot do that: it has no way to
end one job, and a killed worker breaks the whole pool.

Workers never outlive their server, even one killed with ``SIGKILL`` (which runs no clean-up):

* each worker holds the read end of a *lifeline* pipe whose write end only the server holds;
  a watchdog thread in the worker blocks on it and ends the process when it reads end of file,
  which the kernel delivers the moment the server process is gone;
* on Linux the worker also asks the kernel for ``SIGKILL`` when its parent (the fork server,
  which exits with the server) dies (``PR_SET_PDEATHSIG``).

Workers run with ``OMP_WAIT_POLICY=passive`` (put in the server's environment before the
fork server starts, so it is there before any OpenMP runtime loads), so Aer's idle threads
sleep instead of spinning, and at a lower CPU priority than the server (long
work yields to the API and to the short-job lane).
"""

from __future__ import annotations

import contextlib
import ctypes
import ctypes.util
import multiprocessing
import os
import signal
import sys
import threading
import types
from collections.abc import Iterator
from multiprocessing.connection import Connection
from typing import Any

__all__ = ["PRELOAD", "Worker", "configure_environment", "resident_bytes"]

#: Modules the fork server imports once, before any worker is forked.
PRELOAD: tuple[str, ...] = (
    "qpi.server.workers",
    "numpy",
    "qpi.circuit",
    "qpi.qasm3",
    "qpi.server.statevector",
    "qpi.server.executors",
    "qiskit",
    "qiskit.qasm2",
    "qiskit.qasm3",
    "qiskit.providers.basic_provider",
    "qiskit_aer",
)
#: Environment every simulator process runs with (existing values win).
WORKER_ENVIRONMENT: dict[str, str] = {
    # Idle OpenMP threads sleep instead of spinning: spinning threads of two workers on two
    # shared cores made a 1.4 s Aer job take 32 s.
    "OMP_WAIT_POLICY": "PASSIVE",
    "KMP_BLOCKTIME": "0",
}
_PR_SET_PDEATHSIG = 1


def configure_environment() -> None:
    """Put [`WORKER_ENVIRONMENT`][qpi.server.workers.WORKER_ENVIRONMENT] into the environment.

    Values already set win.
    """
    for key, value in WORKER_ENVIRONMENT.items():
        os.environ.setdefault(key, value)


def resident_bytes(pid: int) -> int | None:
    """Resident memory of process ``pid`` in bytes (``None`` where the OS does not say)."""
    try:
        with open(f"/proc/{pid}/statm", "rb") as handle:
            return int(handle.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")
    except (OSError, ValueError, IndexError):
        return None


@contextlib.contextmanager
def _main_module_hidden() -> Iterator[None]:
    """Hide ``__main__`` while a worker starts.

    A ``forkserver`` worker re-imports the parent's main script unless told otherwise, so a
    script that starts a server at top level (no ``if __name__ == "__main__":``) would start
    one more server in every worker. Workers need nothing from ``__main__``.
    """
    main = sys.modules.get("__main__")
    sys.modules["__main__"] = types.ModuleType("__main__")
    try:
        yield
    finally:
        if main is not None:
            sys.modules["__main__"] = main


class Worker:
    """One simulator process, running one job at a time.

    Args:
        nice: How much lower than the server's the worker's CPU priority is.
    """

    def __init__(self, nice: int = 0) -> None:
        context = multiprocessing.get_context("forkserver")
        configure_environment()  # inherited by the fork server if this starts it
        context.set_forkserver_preload(list(PRELOAD))
        self.conn, child = context.Pipe()
        lifeline_read, self._lifeline = context.Pipe(duplex=False)
        self.process = context.Process(
            target=_worker_main, args=(child, lifeline_read, nice), name="qpi-worker", daemon=True
        )
        with _main_module_hidden():
            self.process.start()
        child.close()
        lifeline_read.close()
        self.job_id: str | None = None

    @property
    def pid(self) -> int | None:
        """The process id."""
        return self.process.pid

    @property
    def busy(self) -> bool:
        """Whether a job was sent and its answer not yet read."""
        return self.job_id is not None

    def send(self, job_id: str, arguments: dict[str, Any]) -> None:
        """Start a job: the worker runs ``executors.run_job`` and encodes what it returns."""
        self.job_id = job_id
        self.conn.send(arguments)

    def receive(self) -> Any:
        """The answer of the running job (call when ``conn`` is readable)."""
        try:
            return self.conn.recv()
        finally:
            self.job_id = None

    def alive(self) -> bool:
        """Whether the process still runs."""
        return self.process.is_alive()

    def kill(self) -> None:
        """End the process now and release its pipes."""
        with contextlib.suppress(OSError, ValueError, AttributeError):
            self.process.kill()
        with contextlib.suppress(OSError, ValueError):
            self.process.join(5)
        for conn in (self.conn, self._lifeline):
            with contextlib.suppress(OSError):
                conn.close()
        with contextlib.suppress(ValueError):
            self.process.close()


# -- in the worker process ----------------------------------------------------------------------


def _worker_main(conn: Connection, lifeline: Connection, nice: int) -> None:
    """The worker's loop: read a job, run it, answer; end when the server is gone."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is for the server
    _die_with_parent()
    threading.Thread(target=_watch_lifeline, args=(lifeline,), daemon=True).start()
    if nice:
        with contextlib.suppress(OSError):
            os.nice(nice)
    from qpi.server import executors, results

    executors.warm_up()
    while True:
        try:
            arguments = conn.recv()
        except (EOFError, OSError):
            return
        # Encoded here, once: the server stores the text as it is.
        run = arguments.pop("run", executors.run_job)
        conn.send(results.run_encoded(run, **arguments))


def _watch_lifeline(lifeline: Connection) -> None:
    """End the process once the server's end of the lifeline is closed (it died)."""
    with contextlib.suppress(EOFError, OSError):
        while True:
            lifeline.recv_bytes()
    os._exit(1)


def _die_with_parent() -> None:
    """Ask Linux to kill this process when its parent dies (no-op elsewhere)."""
    if not sys.platform.startswith("linux"):
        return
    with contextlib.suppress(OSError, AttributeError, TypeError):
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6", use_errno=True)
        parent = os.getppid()
        libc.prctl(_PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
        if os.getppid() != parent:  # the parent died before the request took effect
            os._exit(1)
