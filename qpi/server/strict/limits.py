"""The real server's numbers that strict mode reproduces (reference §1.5, §5.4, §10)."""

from __future__ import annotations

from typing import Any

__all__ = ["BODY_MAX_BYTES", "JSON_FIELD_MAX_BYTES", "OVERSIZED", "is_oversized"]

#: PocketBase's default cap on one JSON field (a job's ``payload`` or ``results``).
JSON_FIELD_MAX_BYTES = 1024 * 1024
#: PocketBase's default cap on a request body.
BODY_MAX_BYTES = 32 * 1024 * 1024
#: What the strict driver returns for results the server could not store.
OVERSIZED: dict[str, Any] = {"__qpi_strict_oversized__": True}
_MARKER_TEXT = '{"__qpi_strict_oversized__"'


def is_oversized(result: Any) -> bool:
    """Whether a worker's result cannot be saved by the real server.

    ``result`` is what the executor returned (a dict) or its JSON text: either the
    [`OVERSIZED`][qpi.server.strict.limits.OVERSIZED] marker, or text over 1 MiB.
    """
    if isinstance(result, str):
        return len(result) > JSON_FIELD_MAX_BYTES or result.startswith(_MARKER_TEXT)
    return isinstance(result, dict) and result.get("__qpi_strict_oversized__") is True
