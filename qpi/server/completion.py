"""Pushed completion: requests that wait for a job answer as soon as its status changes.

``GET /api/jobs/{id}?wait=S`` (a local-server extension) holds its answer until the job is final
or ``S`` seconds pass. The store tells [`JobWatch`][qpi.server.completion.JobWatch] about every
committed change of a job's status
([`Store.on_job_change`][qpi.server.store.Store.on_job_change]), from whichever thread made it:
the scheduler's, a request's. The watch wakes the waiting requests on the event loop, which read
the job again. A waiter also reads the job every `RECHECK_SECONDS`, so a change made without a
notification is still seen (late, not never).
"""

from __future__ import annotations

import asyncio
import contextlib
import threading
from collections.abc import Awaitable, Callable
from typing import TypeVar

__all__ = ["MAX_WAIT_SECONDS", "RECHECK_SECONDS", "JobWatch"]

#: The longest one waiting request is held; a longer ``wait`` is cut to this.
MAX_WAIT_SECONDS = 60.0
#: How often a waiting request reads its job even without a notification.
RECHECK_SECONDS = 0.25

T = TypeVar("T")


def _wake(future: asyncio.Future[None]) -> None:
    if not future.done():
        future.set_result(None)


def _wake_soon(future: asyncio.Future[None]) -> None:
    """Wake ``future`` from any thread; a loop already closed has nobody left to wake."""
    with contextlib.suppress(RuntimeError):
        future.get_loop().call_soon_threadsafe(_wake, future)


class JobWatch:
    """Waiting requests, by job id; `notify` wakes those of one job (thread-safe)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._waiters: dict[str, set[asyncio.Future[None]]] = {}
        self._closed = False

    def notify(self, job_id: str) -> None:
        """Wake the requests waiting for ``job_id`` (callable from any thread)."""
        with self._lock:
            waiters = self._waiters.pop(job_id, ())
        for future in waiters:
            _wake_soon(future)

    def close(self) -> None:
        """Wake every waiting request and make later waits return at once (server stopping)."""
        with self._lock:
            self._closed = True
            waiters = [f for group in self._waiters.values() for f in group]
            self._waiters.clear()
        for future in waiters:
            _wake_soon(future)

    def waiting(self) -> int:
        """How many requests are waiting now."""
        with self._lock:
            return sum(len(group) for group in self._waiters.values())

    def _register(self, job_id: str) -> asyncio.Future[None]:
        future: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        with self._lock:
            if self._closed:
                future.set_result(None)
            else:
                self._waiters.setdefault(job_id, set()).add(future)
        return future

    def _unregister(self, job_id: str, future: asyncio.Future[None]) -> None:
        with self._lock:
            group = self._waiters.get(job_id)
            if group is not None:
                group.discard(future)
                if not group:
                    del self._waiters[job_id]

    async def wait_until(
        self,
        job_id: str,
        seconds: float,
        read: Callable[[], T],
        done: Callable[[T], bool],
        gone: Callable[[], Awaitable[bool]] | None = None,
    ) -> T:
        """Read the job until ``done(value)``, ``seconds`` pass, or the asker has gone.

        The waiter is registered before each read, so a change between the read and the wait
        still wakes it.

        Args:
            job_id: The job to watch.
            seconds: The longest wait.
            read: Reads the job (its exceptions, e.g. a 404, propagate).
            done: Whether a read value ends the wait.
            gone: Whether the client has disconnected (checked at each recheck).

        Returns:
            The last value read.
        """
        loop = asyncio.get_running_loop()
        deadline = loop.time() + seconds
        while True:
            future = self._register(job_id)
            try:
                value = read()
                remaining = deadline - loop.time()
                if done(value) or remaining <= 0 or self._closed:
                    return value
                await asyncio.wait([future], timeout=min(remaining, RECHECK_SECONDS))
                if not future.done() and gone is not None and await gone():
                    return value
            finally:
                self._unregister(job_id, future)
