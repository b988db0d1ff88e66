"""The HTTP routes of the local orchestrator, one module per area."""

from __future__ import annotations

from collections.abc import Collection
from typing import Any

from qpi.server.context import ServerContext
from qpi.server.errors import ErrorResponse
from qpi.server.listing import ListQueryError, lenient_int, order_by, parse_sort

__all__ = ["list_rows"]


def list_rows(
    ctx: ServerContext,
    what: str,
    query: str,
    args: tuple[Any, ...],
    *,
    sort: str | None,
    fields: Collection[str],
    default_sort: str,
    skip: str | None,
    limit: str | None,
    tiebreak: str = "rowid",
    raw: bool = False,
) -> list[Any]:
    """One page of a custom list route (``skip``/``limit``/``sort``, as the real server).

    Args:
        ctx: The server's context.
        what: What is listed, for the error message ("jobs", "tokens", "QPUs").
        query: ``SELECT ... WHERE ...`` without ordering or paging.
        args: The query's arguments.
        sort: The request's sort string.
        fields: The fields it may sort on.
        default_sort: The sort when none is given.
        skip: The request's offset (unparsable: 0).
        limit: The request's page size (0 or unparsable: no limit).
        tiebreak: The column that orders ties (insertion order).
        raw: Return the rows as stored (JSON columns as text) instead of decoded dicts.

    Raises:
        ErrorResponse: 400 for a sort the server cannot run.
    """
    try:
        keys = parse_sort(sort, fields, default_sort)
    except ListQueryError as exc:
        raise ErrorResponse(400, f"Failed to query {what}: {exc}") from None
    run = ctx.store.raw_rows if raw else ctx.store.query
    return run(
        f"{query} {order_by(keys, tiebreak)} LIMIT ? OFFSET ?",
        (*args, lenient_int(limit, 0) or -1, lenient_int(skip, 0)),
    )
