"""Rate-limited logging: a flood of one error is a few lines, not hundreds of thousands.

Under attack or resource exhaustion the same failure repeats for every connection (out of
file descriptors, a stream of garbled requests): logging each with its traceback fills the
disk and costs more CPU than the failure.
[`RateLimitFilter`][qpi.server.logfilter.RateLimitFilter] lets through at most ``burst``
records of one kind (logger, level, message template and exception type) per ``window``
seconds; the first record let through after a suppression says how many were dropped.
[`rate_limited_logging`][qpi.server.logfilter.rate_limited_logging] installs it on the
server's loggers for the life of a server.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager

__all__ = ["SERVER_LOGGERS", "RateLimitFilter", "rate_limited_logging"]

#: The loggers a running server writes to (a filter applies only to its own logger's records).
SERVER_LOGGERS: tuple[str, ...] = (
    "qpi.server",
    "qpi.server.scheduler",
    "qpi.server.protocol",
    "uvicorn.error",
    "asyncio",
)
#: The most distinct kinds of record tracked in one window (bounds the filter's memory).
MAX_KINDS = 1000


class RateLimitFilter(logging.Filter):
    """Let at most ``burst`` records of one kind through per ``window`` seconds.

    Args:
        burst: Records of one kind let through per window.
        window: The window, in seconds.
    """

    def __init__(self, burst: int = 5, window: float = 10.0) -> None:
        super().__init__()
        self.burst = burst
        self.window = window
        self._lock = threading.Lock()
        self._started = time.monotonic()
        self._seen: dict[tuple[object, ...], int] = {}
        self._dropped: dict[tuple[object, ...], int] = {}

    def filter(self, record: logging.LogRecord) -> bool:
        """Whether to emit ``record`` (it may be annotated with a suppression count)."""
        exc_type = record.exc_info[0] if record.exc_info else None
        kind = (record.name, record.levelno, str(record.msg), exc_type)
        with self._lock:
            now = time.monotonic()
            if now - self._started >= self.window:
                self._started, self._seen = now, {}
            count = self._seen.get(kind, 0)
            if count >= self.burst or (count == 0 and len(self._seen) >= MAX_KINDS):
                if len(self._dropped) < MAX_KINDS or kind in self._dropped:
                    self._dropped[kind] = self._dropped.get(kind, 0) + 1
                return False
            self._seen[kind] = count + 1
            dropped = self._dropped.pop(kind, 0)
        if dropped:
            record.msg = f"{record.msg} [{dropped} similar message(s) suppressed before this one]"
        return True


@contextmanager
def rate_limited_logging(
    names: Sequence[str] = SERVER_LOGGERS, burst: int = 5, window: float = 10.0
) -> Iterator[RateLimitFilter]:
    """Install one `RateLimitFilter` on the named loggers for the block's duration."""
    limiter = RateLimitFilter(burst, window)
    loggers = [logging.getLogger(name) for name in names]
    for logger in loggers:
        logger.addFilter(limiter)
    try:
        yield limiter
    finally:
        for logger in loggers:
            logger.removeFilter(limiter)
