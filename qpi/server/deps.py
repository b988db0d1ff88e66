"""FastAPI dependencies: the server context and the caller, with the real server's refusals.

They are coroutines on purpose: FastAPI runs a plain ``def`` dependency in a worker thread,
one thread hop per dependency per request, which costs more than the microseconds these
take (a JWT check or one indexed token lookup).
"""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request

from qpi.server.auth import Identity
from qpi.server.bodies import RawBody, read_json
from qpi.server.context import ServerContext
from qpi.server.errors import ErrorResponse

__all__ = [
    "Admin",
    "Body",
    "Caller",
    "Ctx",
    "MaybeCaller",
    "caller",
    "context",
    "optional_caller",
    "require_admin",
]


async def context(request: Request) -> ServerContext:
    """The running server's [`ServerContext`][qpi.server.context.ServerContext]."""
    return request.app.state.ctx


async def optional_caller(request: Request) -> Identity | None:
    """The caller, or ``None`` when anonymous (PocketBase ignores bad tokens the same way)."""
    ctx: ServerContext = request.app.state.ctx
    return ctx.auth.resolve(request.headers)


async def caller(request: Request) -> Identity:
    """The caller of a user route.

    Raises:
        ErrorResponse: 401 "Authentication required." for an anonymous caller.
    """
    identity = await optional_caller(request)
    if identity is None:
        raise ErrorResponse(401, "Authentication required.")
    return identity


async def require_admin(request: Request) -> Identity:
    """The caller of an admin route: a superuser JWT, nothing else.

    Raises:
        ErrorResponse: 403 "Admin access required." for anyone else, anonymous included.
    """
    identity = await optional_caller(request)
    if identity is None or not identity.is_superuser:
        raise ErrorResponse(403, "Admin access required.")
    return identity


#: Route parameter types: the dependency travels in the annotation.
Ctx = Annotated[ServerContext, Depends(context)]
Caller = Annotated[Identity, Depends(caller)]
MaybeCaller = Annotated[Identity | None, Depends(optional_caller)]
Admin = Annotated[Identity, Depends(require_admin)]
Body = Annotated[RawBody, Depends(read_json)]
