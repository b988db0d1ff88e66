"""Reading and validating JSON request bodies, after authentication like the real server.

Handlers take the raw body through the [`read_json`][qpi.server.bodies.read_json] dependency (which
never fails) and
validate it with [`parse_body`][qpi.server.bodies.parse_body] once they have checked the caller, so
an anonymous caller
gets 401 and a broke one 403 before their body is looked at.
[`openapi_body`][qpi.server.bodies.openapi_body] documents
the model in ``/openapi.json`` all the same.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Any, TypeVar

from fastapi import Request
from pydantic import BaseModel, ValidationError

from qpi.server.errors import INVALID_BODY, ErrorResponse, field_error

__all__ = ["RawBody", "openapi_body", "openapi_object", "parse_body", "read_json"]

M = TypeVar("M", bound=BaseModel)


@dataclass(frozen=True)
class RawBody:
    """A request body as read: the decoded JSON, or why it could not be decoded.

    Attributes:
        value: The decoded JSON (``None`` for an empty body).
        error: The decoding error message, if the body was not JSON.
    """

    value: Any = None
    error: str | None = None


#: A ``\u`` escape of a UTF-16 surrogate: the only way JSON text can smuggle in one alone.
_SURROGATE_ESCAPE = re.compile(rb"\\u[dD][89a-fA-F]")


async def read_json(request: Request) -> RawBody:
    """FastAPI dependency: the request body decoded as JSON, whatever its content type."""
    raw = await request.body()
    if not raw.strip():
        return RawBody()
    try:
        value = json.loads(raw)
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        return RawBody(error=f"the body is not valid JSON: {exc}")
    except RecursionError:
        return RawBody(error="the body is not valid JSON: it is nested too deeply")
    if _SURROGATE_ESCAPE.search(raw) and _has_lone_surrogate(value):
        return RawBody(error="the body is not valid JSON: it escapes a lone UTF-16 surrogate")
    return RawBody(value)


def _has_lone_surrogate(value: Any) -> bool:
    """Whether a decoded JSON value holds a string (or key) that is not valid Unicode text."""
    stack = [value]
    while stack:
        item = stack.pop()
        if isinstance(item, dict):
            stack.extend(item.keys())
            stack.extend(item.values())
        elif isinstance(item, list):
            stack.extend(item)
        elif isinstance(item, str):
            try:
                item.encode("utf-8")
            except UnicodeEncodeError:
                return True
    return False


def parse_body(body: RawBody, model: type[M]) -> M:
    """Validate ``body`` against ``model``; an empty body counts as ``{}``.

    Raises:
        ErrorResponse: 400 "Invalid request body." with ``data`` naming the bad fields.
    """
    if body.error is not None:
        raise ErrorResponse(400, INVALID_BODY, {"body": field_error("validation_json", body.error)})
    value = {} if body.value is None else body.value
    if not isinstance(value, dict):
        raise ErrorResponse(
            400,
            INVALID_BODY,
            {"body": field_error("validation_type", "the body must be an object")},
        )
    try:
        return model.model_validate(value)
    except ValidationError as exc:
        data = {}
        for err in exc.errors():
            key = ".".join(str(p) for p in err["loc"]) or "body"
            data.setdefault(key, field_error("validation_" + err["type"], err["msg"]))
        raise ErrorResponse(400, INVALID_BODY, data) from None


def _inline(schema: Any, defs: dict[str, Any]) -> Any:
    # OpenAPI resolves "#/$defs/..." against the whole document, so nested models are inlined.
    if isinstance(schema, dict):
        ref = schema.get("$ref")
        if isinstance(ref, str) and ref.startswith("#/$defs/"):
            return _inline(defs[ref.removeprefix("#/$defs/")], defs)
        return {k: _inline(v, defs) for k, v in schema.items() if k != "$defs"}
    if isinstance(schema, list):
        return [_inline(v, defs) for v in schema]
    return schema


def openapi_body(model: type[BaseModel], *, required: bool = True) -> dict[str, Any]:
    """The ``openapi_extra`` that documents ``model`` as the JSON request body."""
    schema = model.model_json_schema()
    schema = _inline(schema, schema.get("$defs", {}))
    return {
        "requestBody": {
            "required": required,
            "content": {"application/json": {"schema": schema}},
        }
    }


def openapi_object(*, required: bool = False) -> dict[str, Any]:
    """The ``openapi_extra`` that documents a free-form JSON object as the request body."""
    return {
        "requestBody": {
            "required": required,
            "content": {"application/json": {"schema": {"type": "object"}}},
        }
    }
