"""``/api/tokens``: the caller's API tokens (reference §4.5-§4.9).

The raw token is returned once, by ``POST``; only its SHA-256 is stored.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter
from fastapi.responses import Response
from pydantic import BaseModel, ConfigDict, Field

from qpi.server import dates
from qpi.server.auth import Identity
from qpi.server.bodies import openapi_body, parse_body
from qpi.server.context import ServerContext
from qpi.server.deps import Body, Caller, Ctx
from qpi.server.errors import INVALID_BODY, ErrorResponse, field_error, json_response
from qpi.server.ids import hash_token, new_id, new_secret_token
from qpi.server.routes import list_rows
from qpi.server.views import token_json

__all__ = ["TokenCreate", "TokenUpdate", "router"]

router = APIRouter(tags=["tokens"])

TOKEN_SORT_FIELDS = frozenset({"id", "name", "expires_at", "created"})


class TokenCreate(BaseModel):
    """The body of ``POST /api/tokens`` (optional)."""

    model_config = ConfigDict(strict=True)

    name: str = Field(default="", max_length=5000)
    expires_at: str | None = Field(default=None, description="RFC 3339; empty: never.")


class TokenUpdate(BaseModel):
    """The body of ``PATCH /api/tokens/{id}``: only the keys present are written."""

    model_config = ConfigDict(strict=True)

    name: str | None = Field(default=None, max_length=5000)
    expires_at: str | None = Field(default=None, description='RFC 3339; "" clears it.')


def _expiry(value: str | None) -> str:
    """A stored expiry: ``''`` for none. Unparsable dates are refused, not dropped silently."""
    if value is None or not value.strip():
        return ""
    try:
        return dates.format_date(dates.parse_date(value))
    except ValueError:
        message = f"expires_at must be an RFC 3339 date, got {value!r}"
        raise ErrorResponse(
            400, INVALID_BODY, {"expires_at": field_error("validation_invalid_date", message)}
        ) from None


def _token(ctx: ServerContext, identity: Identity, token_id: str) -> dict[str, Any]:
    token = ctx.store.get("api_tokens", token_id)
    # Superusers reach any token by id (reference §2.3); users only their own.
    if token is None or (token["user"] != identity.user_id and not identity.is_superuser):
        raise ErrorResponse(404, "Token not found.")
    return token


@router.post(
    "/api/tokens", status_code=201, openapi_extra=openapi_body(TokenCreate, required=False)
)
def create_token(
    identity: Caller,
    body: Body,
    ctx: Ctx,
) -> Response:
    """Create an API token for the caller; the answer is the only place the token appears."""
    request = parse_body(body, TokenCreate)
    raw = new_secret_token()
    token = ctx.store.insert(
        "api_tokens",
        {
            "id": new_id(),
            "token": hash_token(raw),
            "user": identity.user_id,
            "name": request.name,
            "expires_at": _expiry(request.expires_at),
            "created": dates.now(),
        },
    )
    return json_response(token_json(token, raw), 201)


@router.get("/api/tokens")
def list_tokens(
    identity: Caller,
    ctx: Ctx,
    skip: str | None = None,
    limit: str | None = None,
    sort: str | None = None,
) -> Response:
    """The caller's tokens (never the token values)."""
    rows = list_rows(
        ctx,
        "tokens",
        "SELECT * FROM api_tokens WHERE user = ?",
        (identity.user_id,),
        sort=sort,
        fields=TOKEN_SORT_FIELDS,
        default_sort="-created",
        skip=skip,
        limit=limit,
    )
    return json_response([token_json(row) for row in rows])


@router.get("/api/tokens/{token_id}")
def get_token(
    token_id: str,
    identity: Caller,
    ctx: Ctx,
) -> Response:
    """One token (owner, or any for a superuser)."""
    return json_response(token_json(_token(ctx, identity, token_id)))


@router.patch("/api/tokens/{token_id}", openapi_extra=openapi_body(TokenUpdate, required=False))
def update_token(
    token_id: str,
    identity: Caller,
    body: Body,
    ctx: Ctx,
) -> Response:
    """Rename a token or change its expiry; an empty body changes nothing."""
    request = parse_body(body, TokenUpdate)
    token = _token(ctx, identity, token_id)
    changes: dict[str, Any] = {}
    if request.name is not None:
        changes["name"] = request.name
    if "expires_at" in request.model_fields_set:
        changes["expires_at"] = _expiry(request.expires_at)
    token = ctx.store.update("api_tokens", token["id"], changes)
    return json_response(token_json(token))


@router.delete("/api/tokens/{token_id}")
def delete_token(
    token_id: str,
    identity: Caller,
    ctx: Ctx,
) -> Response:
    """Delete a token; it stops working at once."""
    token = _token(ctx, identity, token_id)
    ctx.store.delete("api_tokens", token["id"])
    return json_response({"status": "deleted"})
