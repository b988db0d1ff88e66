"""Pushed completion, client side: wait with the server's long-poll where it offers one.

The local orchestrator (``qpi serve``) holds ``GET /api/jobs/{id}?wait=S`` until the job is
final or ``S`` seconds pass, and says so in ``GET /api/health`` (``data.jobWait``, the longest
wait it accepts). `offered_wait` reads that once per server; `wait_pushed` then
asks for the job with a wait, again and again, until it is final: the answer arrives the
moment the job finishes, with no polling interval to sit out. A server that does not
advertise the extension (a real QPI server, an older ``qpi serve``) is polled instead.
"""

from __future__ import annotations

import math
import random
import time
from collections.abc import Callable, Mapping
from typing import Any

from qpi import errors

__all__ = ["LONG_POLL_SECONDS", "Reader", "offered_wait", "wait_pushed"]

#: The longest one long-poll request asks the server to hold (the read timeout must exceed it).
LONG_POLL_SECONDS = 25.0
#: The pause after a failed long-poll, doubled each time up to the cap (server restarting).
RETRY_PAUSE = 0.05
RETRY_PAUSE_CAP = 1.0
_FINAL = frozenset({"completed", "failed", "cancelled"})

#: ``read(job_id, seconds)``: ``GET /api/jobs/{job_id}?wait=seconds``, the decoded record.
Reader = Callable[[str, float], Mapping[str, Any]]


def offered_wait(health: Any) -> float:
    """The longest ``?wait=`` a server offers, from its ``GET /api/health`` answer (0: none).

    Args:
        health: The decoded health answer (anything: a real server's has no ``jobWait``).
    """
    data = health.get("data") if isinstance(health, Mapping) else None
    value = data.get("jobWait") if isinstance(data, Mapping) else None
    if isinstance(value, bool) or not isinstance(value, int | float):
        return 0.0
    return float(value) if math.isfinite(value) and value > 0 else 0.0


def wait_pushed(
    read: Reader,
    job_id: str,
    timeout: float | None = None,
    *,
    longest: float = LONG_POLL_SECONDS,
    callback: Callable[[dict[str, Any], float], None] | None = None,
) -> dict[str, Any]:
    """Long-poll ``read`` until the job is final; return its final record.

    Connection failures and server errors are retried (with a short, growing pause) until the
    deadline, so a wait survives a server restart.

    Args:
        read: Sends one long-poll (a `Reader`).
        job_id: The job to wait for.
        timeout: Seconds to wait at most; ``None`` waits for ever.
        longest: The longest wait one request asks for (below the transport's read timeout
            and the server's advertised limit).
        callback: Called as ``callback(record, elapsed_seconds)`` after every answer.

    Raises:
        JobTimeoutError: If the job is not final within ``timeout`` (it keeps running).
    """
    start = time.monotonic()
    deadline = None if timeout is None else start + max(0.0, timeout)
    pause, rng = RETRY_PAUSE, random.Random()
    record: dict[str, Any] = {}
    while True:
        now = time.monotonic()
        seconds = longest if deadline is None else max(0.0, min(longest, deadline - now))
        try:
            record = dict(read(job_id, seconds))
        except (errors.ConnectionError, errors.ServerError, errors.RateLimitError):
            if deadline is not None and time.monotonic() >= deadline:
                raise
            wait = pause * rng.uniform(0.8, 1.2)
            if deadline is not None:
                wait = min(wait, max(0.0, deadline - time.monotonic()))
            time.sleep(wait)
            pause = min(RETRY_PAUSE_CAP, pause * 2)
            continue
        pause = RETRY_PAUSE
        if callback is not None:
            callback(record, time.monotonic() - start)
        if record.get("status") in _FINAL:
            return record
        if deadline is not None and time.monotonic() >= deadline:
            raise errors.JobTimeoutError(
                f"job {job_id} did not finish within {timeout:g} s (last status: "
                f"{record.get('status', 'unknown')}); it keeps running on the server, so "
                "wait again with the same job id to collect it",
                job_id=job_id,
                timeout=timeout,
            )
