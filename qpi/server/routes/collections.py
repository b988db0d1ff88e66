"""The PocketBase-style records API and password auth (reference §8.1, §2.1).

``/api/collections/{c}/records[/{id}]`` for the collections of
[`qpi.server.records`][qpi.server.records],
and ``/api/collections/{users,_superusers}/auth-with-password``. Unlike the real server,
API tokens are accepted here too, so a client holding only a token can use every helper.
"""

from __future__ import annotations

import json
import math
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import Response
from pydantic import BaseModel, ConfigDict

from qpi.server.auth import Identity, normalize_email, session_key, verify_password
from qpi.server.bodies import RawBody, openapi_body, openapi_object, parse_body
from qpi.server.context import ServerContext
from qpi.server.deps import Body, Ctx, MaybeCaller
from qpi.server.errors import NOT_FOUND, ErrorResponse, json_response
from qpi.server.listing import (
    SQL_INT_MAX,
    Comparison,
    ListQueryError,
    lenient_int,
    order_by,
    parse_filter,
    parse_sort,
)
from qpi.server.picker import Selection, pick
from qpi.server.records import COLLECTIONS, SUPERUSERS_ONLY, Collection
from qpi.server.responses import (
    bounded_array,
    json_text_response,
    picked_response,
    requested_fields,
)
from qpi.server.store import BOOL_COLUMNS
from qpi.server.views import record_json, superuser_record

__all__ = ["PasswordAuth", "router"]

router = APIRouter(tags=["collections"])

DEFAULT_PER_PAGE = 30
MAX_PER_PAGE = 1000
#: A dummy hash, so an unknown identity costs as much time as a wrong password.
_DUMMY_HASH = "scrypt$16384$8$1$00$00"


class PasswordAuth(BaseModel):
    """The body of ``auth-with-password``."""

    model_config = ConfigDict(strict=True)

    identity: str
    password: str


def _collection(name: str) -> Collection:
    collection = COLLECTIONS.get(name)
    if collection is None:
        raise ErrorResponse(404, "Missing collection context.")
    return collection


def _body(body: RawBody) -> dict[str, Any]:
    if body.error is not None or not isinstance(body.value, dict | None):
        raise ErrorResponse(400, "Failed to load the submitted data due to invalid formatting.")
    return dict(body.value or {})


def _filter_sql(collection: Collection, comparisons: list[Comparison]) -> tuple[str, list[Any]]:
    parts, params = [], []
    for comparison in comparisons:
        value = comparison.value
        if comparison.field in collection.list_fields:
            if value in (None, ""):
                part = f"json_array_length({comparison.field}) = 0"
            else:
                part = f"EXISTS (SELECT 1 FROM json_each({comparison.field}) WHERE value = ?)"
                params.append(value)
        else:
            if comparison.field in BOOL_COLUMNS and isinstance(value, bool):
                value = int(value)
            part = f"{comparison.field} = ?"
            params.append("" if value is None else value)
        parts.append(f"NOT ({part})" if comparison.negated else part)
    return " AND ".join(parts) or "1", params


@router.get("/api/collections/{name}/records")
def list_records(
    name: str,
    request: Request,
    who: MaybeCaller,
    ctx: Ctx,
) -> Response:
    """A page of the records the caller may see, in PocketBase's list envelope."""
    collection = _collection(name)
    query = request.query_params
    page = lenient_int(query.get("page"), 1, minimum=1)
    per_page = min(lenient_int(query.get("perPage"), DEFAULT_PER_PAGE, minimum=1), MAX_PER_PAGE)
    try:
        keys = parse_sort(query.get("sort"), collection.fields, "") if query.get("sort") else []
        comparisons = parse_filter(query.get("filter"), collection.fields)
    except ListQueryError as exc:
        raise ErrorResponse(
            400, f"Something went wrong while processing your request: {exc}"
        ) from None
    rule, rule_params = collection.visible(who)
    where, where_params = _filter_sql(collection, comparisons)
    sql_where = f"WHERE ({rule}) AND ({where})"
    params = [*rule_params, *where_params]
    offset = min((page - 1) * per_page, SQL_INT_MAX)
    selection = requested_fields(query.get("fields"))
    columns = collection.list_columns(asked=_asked(selection))
    rows = ctx.store.query(
        f"SELECT {columns} FROM {collection.table} {sql_where} {order_by(keys)} LIMIT ? OFFSET ?",  # noqa: S608
        [*params, per_page, offset],
    )
    if query.get("skipTotal") in ("1", "true"):
        total, pages = -1, -1
    else:
        total = ctx.store.scalar(f"SELECT COUNT(*) FROM {collection.table} {sql_where}", params)  # noqa: S608
        pages = math.ceil(total / per_page)
    items = pick([collection.to_json(row, who) for row in rows], selection)
    texts = (json.dumps(item, separators=(",", ":"), ensure_ascii=False) for item in items)
    body = bounded_array(texts, ctx.config.max_response_bytes, "records")
    head = json.dumps({"page": page, "perPage": per_page, "totalItems": total})
    return json_text_response(f'{head[:-1]},"totalPages":{pages},"items":{body}}}')


def _asked(selection: Selection | None) -> frozenset[str]:
    """The root fields a ``fields`` selection names (``{"*"}`` for all of them)."""
    if selection is None:
        return frozenset()
    roots = selection.roots()
    return frozenset({"*"}) if roots is None else roots


def _visible_row(
    ctx: ServerContext, collection: Collection, who: Identity | None, record_id: str
) -> dict:
    rule, params = collection.visible(who)
    rows = ctx.store.query(
        f"SELECT * FROM {collection.table} WHERE id = ? AND ({rule})",  # noqa: S608
        [record_id, *params],
    )
    if not rows:
        raise ErrorResponse(404, NOT_FOUND)
    return rows[0]


def _writable_row(
    ctx: ServerContext,
    collection: Collection,
    who: Identity | None,
    record_id: str,
    *,
    delete: bool,
) -> dict[str, Any]:
    row = ctx.store.get(collection.table, record_id)
    if row is None:
        raise ErrorResponse(404, NOT_FOUND)
    superusers_only = (
        collection.delete_superusers_only if delete else collection.update_superusers_only
    )
    is_super = who is not None and who.is_superuser
    if superusers_only and not is_super:
        raise ErrorResponse(403, SUPERUSERS_ONLY)
    if not collection.writable(who, row):
        raise ErrorResponse(404, NOT_FOUND)
    return row


@router.get("/api/collections/{name}/records/{record_id}")
def view_record(
    name: str,
    record_id: str,
    request: Request,
    who: MaybeCaller,
    ctx: Ctx,
) -> Response:
    """One record, if the caller may see it (404 otherwise)."""
    collection = _collection(name)
    selection = requested_fields(request.query_params.get("fields"))
    row = _visible_row(ctx, collection, who, record_id)
    return picked_response(collection.to_json(row, who), selection)


@router.post("/api/collections/{name}/records", openapi_extra=openapi_object())
def create_record(
    name: str,
    request: Request,
    who: MaybeCaller,
    body: Body,
    ctx: Ctx,
) -> Response:
    """Create a record (200, like PocketBase)."""
    collection = _collection(name)
    selection = requested_fields(request.query_params.get("fields"))
    row = collection.create(ctx, who, _body(body))
    return picked_response(collection.to_json(row, who), selection)


@router.patch(
    "/api/collections/{name}/records/{record_id}",
    openapi_extra=openapi_object(),
)
def update_record(
    name: str,
    record_id: str,
    request: Request,
    who: MaybeCaller,
    body: Body,
    ctx: Ctx,
) -> Response:
    """Update a record."""
    collection = _collection(name)
    selection = requested_fields(request.query_params.get("fields"))
    row = _writable_row(ctx, collection, who, record_id, delete=False)
    row = collection.update(ctx, who, row, _body(body))
    return picked_response(collection.to_json(row, who), selection)


@router.delete("/api/collections/{name}/records/{record_id}", status_code=204)
def delete_record(
    name: str,
    record_id: str,
    who: MaybeCaller,
    ctx: Ctx,
) -> Response:
    """Delete a record (204, empty body)."""
    collection = _collection(name)
    row = _writable_row(ctx, collection, who, record_id, delete=True)
    collection.delete(ctx, who, row)
    return Response(status_code=204)


@router.post("/api/collections/{name}/auth-with-password", openapi_extra=openapi_body(PasswordAuth))
async def auth_with_password(
    name: str,
    request: Request,
    body: Body,
    ctx: Ctx,
) -> Response:
    """Log in a user or a superuser: ``{"token": <JWT>, "record": {...}}``.

    Failures are limited per client address and identity; the password hash runs on the
    login gate's own threads, so a flood of logins never slows the other routes.
    """
    if name not in ("users", "_superusers"):
        raise ErrorResponse(404, "Missing or invalid auth collection context.")
    login = parse_body(body, PasswordAuth)
    address = request.client.host if request.client else ""
    identity = f"{name}:{normalize_email(login.identity)}"
    ctx.limiter.check(address, identity)
    table = "users" if name == "users" else "superusers"
    found = ctx.store.find(table, email=login.identity.strip())
    stored = found[0]["password_hash"] if found and found[0]["password_hash"] else _DUMMY_HASH
    matches = await ctx.password_gate.run(lambda: verify_password(login.password, stored))
    if not matches or not found:
        ctx.limiter.failed(address, identity)
        raise ErrorResponse(400, "Failed to authenticate.")
    ctx.limiter.succeeded(address, identity)
    row = found[0]
    token = ctx.signer.issue(row["id"], name, session_key(row))
    record = record_json("users", row) if name == "users" else superuser_record(row)
    return json_response({"token": token, "record": record})
