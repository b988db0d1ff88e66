"""Password logins under attack: failure limits per address, and hashing kept off other routes.

[`LoginLimiter`][qpi.server.logins.LoginLimiter] counts failed logins in two buckets: one per
client address and identity (10 a minute by default), so guessing one account's password is
slow, and one per address across all identities (five times that), so spraying many accounts
from one address is slow too. There is deliberately no bucket per identity alone: an attacker
elsewhere can then never lock the real owner out of their own account.

[`PasswordGate`][qpi.server.logins.PasswordGate] runs the scrypt hashes of logins on a few
threads of their own and refuses logins beyond a short queue with 429, so a login flood costs
other routes (which share the server's default thread pool) nothing.
"""

from __future__ import annotations

import math
import threading
import time
from collections import deque
from collections.abc import Callable
from typing import TypeVar

import anyio
import anyio.to_thread

from qpi.server.errors import ErrorResponse

__all__ = ["LoginLimiter", "PasswordGate"]

T = TypeVar("T")

#: How many times the per-identity limit one address may fail across all identities.
SPRAY_FACTOR = 5


class LoginLimiter:
    """Refuses logins after too many recent failures (429 + ``Retry-After``).

    Args:
        max_failures: Failures one address may make for one identity within ``window``
            seconds; it may make [`SPRAY_FACTOR`][qpi.server.logins.SPRAY_FACTOR] times as
            many across identities.
        window: The sliding window, in seconds.
    """

    def __init__(self, max_failures: int, window: float) -> None:
        self.max_failures = max_failures
        self.window = window
        self._failures: dict[tuple[str, ...], deque[float]] = {}
        self._lock = threading.Lock()

    def _recent(self, key: tuple[str, ...], now: float) -> deque[float]:
        failures = self._failures.setdefault(key, deque())
        while failures and failures[0] <= now - self.window:
            failures.popleft()
        if not failures:
            del self._failures[key]  # an idle bucket costs no memory
            return deque()
        return failures

    def _buckets(self, address: str, identity: str) -> list[tuple[tuple[str, ...], int]]:
        return [
            (("identity", address, identity), self.max_failures),
            (("address", address), self.max_failures * SPRAY_FACTOR),
        ]

    def check(self, address: str, identity: str) -> None:
        """Raise 429 if ``address`` has used up its failures for ``identity`` or overall.

        Raises:
            ErrorResponse: 429 with a ``Retry-After`` header.
        """
        with self._lock:
            now = time.monotonic()
            wait = 0
            for key, limit in self._buckets(address, identity):
                failures = self._recent(key, now)
                if len(failures) >= limit:
                    wait = max(wait, math.ceil(failures[-limit] + self.window - now))
        if wait:
            wait = max(1, wait)
            raise ErrorResponse(
                429,
                f"Too many failed login attempts; try again in {wait} seconds",
                headers={"Retry-After": str(wait)},
            )

    def failed(self, address: str, identity: str) -> None:
        """Record a failed attempt of ``address`` for ``identity``."""
        with self._lock:
            now = time.monotonic()
            for key, _ in self._buckets(address, identity):
                self._failures.setdefault(key, deque()).append(now)
                self._recent(key, now)

    def succeeded(self, address: str, identity: str) -> None:
        """Forget the failures of ``address`` for ``identity`` after a successful login."""
        with self._lock:
            self._failures.pop(("identity", address, identity), None)


class PasswordGate:
    """Runs password hashes of logins on a bounded number of threads, with a bounded queue.

    Args:
        threads: Hashes computed at once (each scrypt takes ~16 MiB and tens of ms).
        queue: Logins allowed to wait for a thread; more get 429 at once.
    """

    def __init__(self, threads: int = 2, queue: int = 32) -> None:
        self.threads = threads
        self.queue = queue
        self._limiter: anyio.CapacityLimiter | None = None
        self._waiting = 0

    async def run(self, work: Callable[[], T]) -> T:
        """Run ``work`` (a password check) on the gate's threads.

        Raises:
            ErrorResponse: 429 with ``Retry-After: 1`` when too many logins are in progress.
        """
        if self._limiter is None:  # made on the event loop, where it is used
            self._limiter = anyio.CapacityLimiter(self.threads)
        if self._waiting >= self.threads + self.queue:
            raise ErrorResponse(
                429,
                "Too many logins in progress; try again in a second",
                headers={"Retry-After": "1"},
            )
        self._waiting += 1  # only the event loop thread touches the count
        try:
            return await anyio.to_thread.run_sync(work, limiter=self._limiter)
        finally:
            self._waiting -= 1
