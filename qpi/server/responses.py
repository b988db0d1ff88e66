"""What the routes answer with: ``?fields=`` applied, and every response size bounded.

The routes parse ``fields`` with [`requested_fields`][qpi.server.responses.requested_fields] (a
bad value is a 400 naming the problem), answer with
[`picked_response`][qpi.server.responses.picked_response], and build list bodies with
[`bounded_array`][qpi.server.responses.bounded_array], which refuses a page that would exceed
the server's response limit with a message saying how to ask for less.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from fastapi.responses import Response

from qpi.server.errors import ErrorResponse, json_response
from qpi.server.picker import FieldsError, Selection, parse_fields, pick
from qpi.server.results import format_size

__all__ = ["bounded_array", "json_text_response", "picked_response", "requested_fields"]


def requested_fields(text: str | None) -> Selection | None:
    """The request's ``fields`` selection (``None``: everything).

    Raises:
        ErrorResponse: 400 for a value the picker refuses.
    """
    try:
        return parse_fields(text)
    except FieldsError as exc:
        raise ErrorResponse(400, f"Invalid fields parameter: {exc}") from None


def picked_response(content: Any, selection: Selection | None, status: int = 200) -> Response:
    """``content`` as JSON with only the selected fields."""
    return json_response(pick(content, selection), status)


def json_text_response(text: str, status: int = 200) -> Response:
    """A response whose body is JSON text built already."""
    return Response(text, status_code=status, media_type="application/json")


def bounded_array(items: Iterable[str], limit: int, what: str) -> str:
    """A JSON array of already-encoded items, refused when it would exceed ``limit`` bytes.

    Args:
        items: Each item's JSON text.
        limit: The largest body allowed, in bytes (counted as characters, a lower bound).
        what: What is listed, for the message ("jobs", "records").

    Raises:
        ErrorResponse: 400 naming the limit and how to ask for a smaller page.
    """
    parts, size = [], 2
    for item in items:
        size += len(item) + 1
        if size > limit:
            raise ErrorResponse(
                400,
                f"This page of {what} would be larger than {format_size(limit)}, the server's "
                f"limit on one response; ask for fewer {what} per page (limit= or perPage=) or "
                "for fewer fields (fields=id,status)",
            )
        parts.append(item)
    return "[" + ",".join(parts) + "]"
