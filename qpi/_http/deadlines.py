"""The overall deadline of the call in progress, so nested requests never outlive it.

A public call with a timeout (``wait_for_job(timeout=5)``) runs its requests inside
[`within`][qpi._http.deadlines.within]; the transport reads
[`current`][qpi._http.deadlines.current] and never waits, sleeps or reads past it.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar

__all__ = ["current", "remaining", "within"]

#: The innermost deadline (a ``time.monotonic()`` instant) of this thread or task, if any.
_DEADLINE: ContextVar[float | None] = ContextVar("qpi_deadline", default=None)


@contextmanager
def within(deadline: float | None) -> Iterator[None]:
    """Run the block under ``deadline`` (monotonic seconds; ``None``: no new bound).

    Nested scopes keep the earlier of the two deadlines.
    """
    outer = _DEADLINE.get()
    if deadline is None or (outer is not None and outer <= deadline):
        yield
        return
    token = _DEADLINE.set(deadline)
    try:
        yield
    finally:
        _DEADLINE.reset(token)


def current() -> float | None:
    """The deadline in force, or ``None``."""
    return _DEADLINE.get()


def remaining(deadline: float | None) -> float | None:
    """Seconds left until ``deadline`` (never negative), or ``None`` for no deadline."""
    return None if deadline is None else max(0.0, deadline - time.monotonic())
