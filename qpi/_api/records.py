"""The shapes of what the server lists and what we send it.

The QPI API answers a list as a bare list, as ``{"jobs": [...]}`` or as a PocketBase
``{"items": [...], "totalPages": n}`` envelope; `unwrap_list` accepts them all.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from qpi import errors
from qpi.transport import quote_segment

#: Page size used when following paginated lists.
PAGE_SIZE = 500
#: Most pages one listing follows (5 million items at the page size): a server announcing
#: ``totalPages: 10**9`` is not believed.
MAX_PAGES = 10_000


def unwrap_list(body: Any, key: str | None) -> list[dict[str, Any]]:
    """Accept a bare list, ``{key: [...]}`` or a PocketBase ``{"items": [...]}`` envelope."""
    if body is None:
        return []
    if isinstance(body, list):
        return body
    if isinstance(body, Mapping):
        for k in (key, "items", "jobs", "data"):
            if k and isinstance(body.get(k), list):
                return body[k]
    raise errors.ServerError(f"expected a list from the server, got {type(body).__name__}")


def new_items(page: list[Any], seen: set[str]) -> list[Any]:
    """The items of ``page`` not seen on earlier pages (by ``id``); ``seen`` is updated.

    A server that ignores the page it was asked for sends the same items again: finding
    nothing new is how paging knows to stop.
    """
    fresh = []
    for item in page:
        ident = item.get("id") if isinstance(item, Mapping) else None
        key = str(ident) if ident is not None else json.dumps(item, sort_keys=True, default=str)
        if key not in seen:
            seen.add(key)
            fresh.append(item)
    return fresh


def is_pb_envelope(body: Any) -> bool:
    """Whether ``body`` is a PocketBase page (which ignores ``skip``/``limit``)."""
    return isinstance(body, Mapping) and "totalPages" in body


def record_path(collection: str, record_id: str | None = None) -> str:
    """The path of a PocketBase-style collection's records, or of one of its records."""
    path = f"/api/collections/{collection}/records"
    return path if record_id is None else f"{path}/{quote_segment(record_id)}"


def given(**fields: Any) -> dict[str, Any]:
    """The fields that are not ``None``, in order: the optional part of a request body."""
    return {name: value for name, value in fields.items() if value is not None}
