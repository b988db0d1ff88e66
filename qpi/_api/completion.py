"""Pushed completion, client side: whether a server offers the ``?wait=`` long-poll, and how long.

The local orchestrator (``qpi serve``) holds ``GET /api/jobs/{id}?wait=S`` until the job is
final or ``S`` seconds pass, and says so in ``GET /api/health`` (``data.jobWait``, the longest
wait it accepts). The job endpoints read that once per client (`offered_wait`), and
the wait loop then asks for the job with a wait again and again: the answer arrives the
moment the job finishes, with no polling interval to sit out. A server that does not
advertise it (a real QPI server, an older ``qpi serve``) is polled.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

__all__ = ["LONG_POLL_SECONDS", "long_poll_seconds", "offered_wait"]

#: The longest one long-poll request asks the server to hold.
LONG_POLL_SECONDS = 25.0
#: Time left for the answer to travel once the server lets go (below the read timeout).
READ_MARGIN = 2.0


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


def long_poll_seconds(offered: float, read_timeout: float) -> float:
    """The wait one request asks for: within the server's offer and the read timeout.

    Returns:
        Seconds, or 0 when the read timeout is too short for a long-poll to be worth it.
    """
    seconds = min(LONG_POLL_SECONDS, offered, read_timeout - READ_MARGIN)
    return seconds if seconds >= 1.0 else 0.0
