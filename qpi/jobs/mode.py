"""The cache modes: how the job runner uses the store (it is the only code that reads them)."""

from __future__ import annotations

import enum

from qpi import errors

__all__ = ["CacheMode"]


class CacheMode(enum.StrEnum):
    """How a client uses its cache (see the cache guide for examples).

    The members are strings, so ``CacheMode.REUSE == "reuse"`` and a plain string works
    wherever a mode is asked for.

    Attributes:
        REUSE: The default. The k-th identical submission of a client is answered by the k-th
            result stored for that payload; past what is stored, a job is submitted and its
            result stored. A rerun of a script costs nothing and sees the same sequence,
            while repeated calls inside a run are fresh samples.
        MEMO: Same payload, same answer: every identical submission is answered by the first
            stored result (shot noise is frozen; for demos and deterministic notebooks).
        RECORD: Always submit, always store (the k-th result replaces the stored k-th).
        REPLAY: Never touch the network; a submission the cache cannot answer raises
            [`CacheMissError`][qpi.errors.CacheMissError] naming its fingerprint.
        OFF: No cache at all.
    """

    REUSE = "reuse"
    MEMO = "memo"
    RECORD = "record"
    REPLAY = "replay"
    OFF = "off"

    @classmethod
    def coerce(cls, value: CacheMode | str | None) -> CacheMode:
        """The mode named by ``value`` (``None``: ``reuse``).

        Raises:
            ValidationError: If ``value`` names no mode.
        """
        if value is None:
            return cls.REUSE
        try:
            return cls(str(value).strip().lower())
        except ValueError:
            names = ", ".join(repr(m.value) for m in cls)
            raise errors.ValidationError(
                f"cache_mode must be one of {names}, got {value!r}"
            ) from None
