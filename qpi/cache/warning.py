"""The warning the cache gives when it carries on without itself, and the helper that gives it."""

from __future__ import annotations

import warnings

__all__ = ["CacheWarning"]


class CacheWarning(UserWarning):
    """The cache could not be read or written, or was damaged and rebuilt.

    The operation that triggered it went on without the cache; the message says what happened
    and where.
    """


def _warn(message: str) -> None:
    warnings.warn(f"qpi cache: {message}", CacheWarning, stacklevel=3)
