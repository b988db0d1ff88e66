"""The request surface every endpoint group uses, declared once.

Each endpoint group derives from ``ClientBase`` and reaches the
network only through the request helpers below, which go through the client's
[`Transport`][qpi.transport.Transport]. The groups are thin: dicts in, dicts out; no cache,
no hooks, no cache mode (that is the job runner's, in [`qpi.jobs`][qpi.jobs]).
"""

from __future__ import annotations

import threading
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from qpi._api.records import (
    MAX_PAGES,
    PAGE_SIZE,
    is_pb_envelope,
    new_items,
    record_path,
    unwrap_list,
)

if TYPE_CHECKING:
    from qpi.transport import Credentials, Transport

__all__ = ["ClientBase"]


class ClientBase:
    """What the endpoint groups may use.

    The attributes are set by ``QPIClient.__init__`` (they carry comments, not docstrings, so
    they stay out of the API reference). A group that needs state of its own (the QPU memo, the
    logged-in user) declares it in its own class, and ``QPIClient.__init__`` initialises it.
    """

    base_url: str  # the server's root URL (error messages name it)
    _transport: Transport  # sends every request: timeouts, retries, typed errors
    _credentials: Credentials  # the API token, and the session token after a password login
    _lock: threading.Lock  # guards the memos the groups keep

    if TYPE_CHECKING:
        # Provided by the users group.
        def _own_id(self) -> str | None: ...

    def _request(self, method: str, path: str, **kwargs: Any) -> Any:
        """Send one request through the transport and return the decoded JSON body."""
        return self._transport.request(method, path, **kwargs)

    def _paged(
        self,
        path: str,
        key: str | None = None,
        *,
        limit: int | None = None,
        params: Mapping[str, Any] | None = None,
    ) -> list[dict[str, Any]]:
        """Every item of a list route (at most ``limit``), following ``skip``/``limit`` pages.

        Paging stops at a short or empty page, at a page that brings nothing new (a server
        that ignores ``skip``), and after [`MAX_PAGES`][qpi._api.records.MAX_PAGES] pages.
        """
        items: list[dict[str, Any]] = []
        seen: set[str] = set()
        for _ in range(MAX_PAGES):
            if limit is not None and len(items) >= limit:
                break
            size = PAGE_SIZE if limit is None else min(PAGE_SIZE, limit - len(items))
            body = self._request(
                "GET", path, params={"skip": len(items), "limit": size, **(params or {})}
            )
            page = unwrap_list(body, key)
            fresh = new_items(page, seen)
            items.extend(fresh[:size])
            if len(page) < size or not fresh or is_pb_envelope(body):
                break
        return items

    def _records(self, collection: str, **params: Any) -> list[dict[str, Any]]:
        """Every record of a PocketBase-style collection, following its pages (bounded)."""
        items: list[dict[str, Any]] = []
        seen: set[str] = set()
        for page in range(1, MAX_PAGES + 1):
            body = self._request(
                "GET",
                record_path(collection),
                params={"page": page, "perPage": PAGE_SIZE, **params},
            )
            fresh = new_items(unwrap_list(body, None), seen)
            items.extend(fresh)
            if not isinstance(body, Mapping) or not fresh:
                break
            if page >= _int_or(body.get("totalPages"), 1):
                break
        return items


def _int_or(value: Any, default: int) -> int:
    try:
        return int(value)
    except (TypeError, ValueError):
        return default
