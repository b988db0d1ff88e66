"""A job's results as stored: JSON text, encoded once, checked against the result cap.

The simulator process encodes what it produced
([`run_encoded`][qpi.server.results.run_encoded]), so the server process neither encodes it nor
decodes it again: the text goes into SQLite and from there into every answer as it is. Results
larger than the cap, or holding a number JSON cannot carry, are replaced by an ``{"error":
...}`` that says so, and the job fails.

The cap defaults to the real server's: PocketBase stores at most 1 MiB in a JSON field, and
QPI's ``results`` is one (``qpi-ui``'s ``quantum_jobs`` collection sets no larger
``maxSize``), so a job whose results a real installation could not store fails here too.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from qpi.server.store import RawJSON

__all__ = ["REAL_SERVER_CAP", "StoredResult", "encode_result", "format_size", "run_encoded"]

#: The real server's limit on one JSON field (PocketBase's ``DefaultJSONFieldMaxSize``).
REAL_SERVER_CAP = 1024 * 1024


class StoredResult(RawJSON):
    """Results encoded as JSON text; `failed` says whether they are an error."""

    __slots__ = ("failed",)
    failed: bool

    def __new__(cls, text: str, failed: bool) -> StoredResult:  # noqa: D102
        self = super().__new__(cls, text)
        self.failed = failed
        return self

    def __reduce__(self) -> tuple[Any, ...]:
        # Crosses the process boundary as what it is (a str subclass with a slot).
        return (StoredResult, (str(self), self.failed))


def format_size(size: int) -> str:
    """A byte count for a message: ``"1 MiB"``, ``"27.5 MiB"``, ``"64 KiB"``, ``"900 bytes"``."""
    for unit, scale in (("GiB", 2**30), ("MiB", 2**20), ("KiB", 2**10)):
        if size >= scale:
            return f"{size / scale:.1f}".removesuffix(".0") + f" {unit}"
    return f"{size} bytes"


def _error(message: str) -> StoredResult:
    return StoredResult(json.dumps({"error": message}, separators=(",", ":")), True)


def encode_result(result: Any, max_bytes: int) -> StoredResult:
    """``result`` as the JSON text to store, or the error that replaces it.

    Args:
        result: What the executor returned (``{"error": ...}`` for a failed job).
        max_bytes: The largest JSON text accepted, in bytes.
    """
    try:
        text = json.dumps(result, separators=(",", ":"), allow_nan=False)
    except (TypeError, ValueError) as exc:
        return _error(f"The results could not be stored as JSON ({exc}).")
    size = len(text)  # ASCII: json.dumps escapes everything else
    if size > max_bytes:
        return _error(
            f"The results are {format_size(size)} of JSON, over this server's limit of "
            f"{format_size(max_bytes)} per job (a real QPI server stores at most 1 MiB of results, "
            "PocketBase's limit on a JSON field). Ask for fewer shots, circuits or parameter "
            "rows per job, or split the job."
        )
    failed = isinstance(result, dict) and "error" in result
    return StoredResult(text, failed)


def run_encoded(
    run: Callable[..., Any], *args: Any, max_result_bytes: int = REAL_SERVER_CAP, **kwargs: Any
) -> StoredResult:
    """Run ``run(*args, **kwargs)`` (in a simulator process) and encode what it returns."""
    return encode_result(run(*args, **kwargs), max_result_bytes)
