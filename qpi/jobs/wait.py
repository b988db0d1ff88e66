"""Waiting for a job: the server's long-poll where offered, else status-only polls with backoff.

Both are bounded by the wait's deadline.
"""

from __future__ import annotations

import logging
import random
import time
from collections.abc import Callable
from typing import Any

from qpi import errors
from qpi._http import deadlines
from qpi.jobs.status import FINAL_STATUSES

__all__ = ["Progress", "poll_until_final"]

#: Each poll of a wait is logged here at DEBUG.
_LOG = logging.getLogger("qpi.jobs")

#: ``callback(record, elapsed_seconds)``, called after every poll (progress displays).
Progress = Callable[[dict[str, Any], float], None]
#: The first pause between polls: a 50 ms job is seen final in well under 200 ms.
FIRST_INTERVAL = 0.02
BACKOFF = 1.5


def poll_until_final(
    read_status: Callable[..., dict[str, Any]],
    job_id: str,
    timeout: float | None = None,
    *,
    max_interval: float = 3.0,
    callback: Progress | None = None,
    long_poll: float = 0.0,
) -> dict[str, Any]:
    """Poll ``read_status(job_id)`` until the job is final; return the last answer.

    Polling starts after 20 ms and backs off by 1.5x (with jitter) to ``max_interval``.
    Connection failures and server errors while waiting are retried until the deadline: the
    wait resumes when the server comes back.

    Args:
        read_status: Reads the job's status record (``fields=`` asks only for the status).
        job_id: The job to wait for.
        timeout: Seconds to wait at most; ``None`` waits for ever.
        max_interval: The cap of the polling interval, in seconds.
        callback: Called as ``callback(record, elapsed_seconds)`` after every poll.
        long_poll: Where the server offers its ``?wait=`` long-poll, the seconds one read
            asks it to hold the answer: ``read_status(job_id, wait=seconds)`` then answers
            the moment the job is final, and the next read follows at once. ``0``: poll.

    Raises:
        JobTimeoutError: If the job is not final within ``timeout`` (it keeps running).
    """
    start = time.monotonic()
    deadline = None if timeout is None else start + max(0.0, timeout)
    interval, rng = FIRST_INTERVAL, random.Random()
    record: dict[str, Any] = {}
    while True:
        try:
            with deadlines.within(deadline):  # no request outlives the wait's deadline
                asked = time.monotonic()
                if long_poll > 0:
                    wait = long_poll if deadline is None else min(long_poll, deadline - asked)
                    record = read_status(job_id, wait=max(0.0, wait))
                else:
                    record = read_status(job_id)
        except (errors.ConnectionError, errors.ServerError, errors.RateLimitError) as exc:
            # Retried until the deadline, which then raises JobTimeoutError below.
            _LOG.debug("job %s: poll failed (%s); polling on", job_id, exc)
        else:
            _LOG.debug(
                "job %s: %s after %.2f s", job_id, record.get("status"), time.monotonic() - start
            )
            if callback is not None:
                callback(record, time.monotonic() - start)
            if record.get("status") in FINAL_STATUSES:
                return record
        now = time.monotonic()
        if deadline is not None and now >= deadline:
            raise errors.JobTimeoutError(
                f"job {job_id} did not finish within {timeout:g} s (last status: "
                f"{record.get('status', 'unknown')}); it keeps running on the server, so "
                "wait again with the same job id to collect it",
                job_id=job_id,
                timeout=timeout,
            )
        if long_poll > 0 and now - asked >= min(long_poll, 0.5):
            continue  # the server held the read: ask again at once
        pause = interval * rng.uniform(0.9, 1.1)
        if deadline is not None:
            pause = min(pause, deadline - now)
        time.sleep(max(0.0, pause))
        interval = min(max_interval, interval * BACKOFF)
