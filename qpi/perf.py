"""Helpers for the SDK's few hot loops (serialising, parsing and converting big circuits)."""

from __future__ import annotations

import gc
from collections.abc import Iterator
from contextlib import contextmanager

__all__ = ["gc_paused"]


@contextmanager
def gc_paused() -> Iterator[None]:
    """Pause the cyclic garbage collector for the duration of a block.

    Converting or writing a large circuit allocates hundreds of thousands of small, acyclic
    objects; the collections they would trigger roughly double the time and find nothing to
    free. The caller's setting is restored on exit, exceptions included.
    """
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()
