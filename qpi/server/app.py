"""The FastAPI application: routers, error handlers, and the start-up/shut-down of its state."""

from __future__ import annotations

import os
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

from fastapi import FastAPI
from starlette.concurrency import run_in_threadpool

from qpi.errors import ValidationError
from qpi.server import strict
from qpi.server.auth import Authenticator, TokenSigner, load_or_create_secret
from qpi.server.bootstrap import bootstrap
from qpi.server.config import ServerConfig
from qpi.server.context import ServerContext
from qpi.server.errors import GuardMiddleware, install_handlers
from qpi.server.logins import LoginLimiter, PasswordGate
from qpi.server.pages import install_pages
from qpi.server.routes import collections, jobs, meta, notifications, qpus, session, tokens
from qpi.server.scheduler import Scheduler
from qpi.server.store import Store

__all__ = ["DATABASE_FILE", "create_app", "open_context", "server_url"]

DATABASE_FILE = "qpi.sqlite3"


def server_url(host: str, port: int) -> str:
    """The URL clients use for a server listening on ``host:port``."""
    if host in ("", "0.0.0.0", "::"):
        host = "127.0.0.1"  # a wildcard bind is reachable on loopback
    if ":" in host:
        host = f"[{host}]"
    return f"http://{host}:{port}"


def open_context(config: ServerConfig) -> ServerContext:
    """Open the data dir (created if needed), bootstrap it, and build the server's state."""
    if config.data_dir is None:
        raise ValidationError("ServerConfig.data_dir is required to serve")
    data_dir = Path(config.data_dir)
    data_dir.mkdir(parents=True, exist_ok=True)
    os.chmod(data_dir, 0o700)  # it holds the JWT secret and the credentials
    store = Store(data_dir / DATABASE_FILE, config.max_database_bytes)
    try:
        signer = TokenSigner(load_or_create_secret(data_dir), config.token_ttl)
        credentials = bootstrap(store, config, server_url(config.host, config.port))
    except BaseException:
        store.close()
        raise
    return ServerContext(
        config=config,
        store=store,
        signer=signer,
        auth=Authenticator(store, signer),
        limiter=LoginLimiter(config.login_max_failures, config.login_window),
        password_gate=PasswordGate(config.login_threads, config.login_queue),
        scheduler=_scheduler_class(config)(store, config),
        credentials=credentials,
    )


def _scheduler_class(config: ServerConfig) -> type[Scheduler]:
    if config.strict:
        from qpi.server.strict.scheduler import StrictScheduler

        return StrictScheduler
    return Scheduler


def _close_context(ctx: ServerContext) -> None:
    try:
        ctx.scheduler.stop()
    finally:
        ctx.store.close()


def create_app(config: ServerConfig) -> FastAPI:
    """The orchestrator as an ASGI app; its state is opened at start-up and closed at shut-down.

    Args:
        config: The server's settings; ``data_dir`` is required.

    Returns:
        The FastAPI application (``app.state.ctx`` holds the
        [`ServerContext`][qpi.server.context.ServerContext] while it
        runs).
    """
    if config.strict:
        config = strict.strict_config(config)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        # Bootstrapping hashes passwords and touches the disk: keep it off the event loop.
        try:
            ctx = await run_in_threadpool(open_context, config)
        except Exception as exc:
            app.state.startup_error = exc  # LocalServer chains it into its own error
            raise
        app.state.ctx = ctx
        ctx.scheduler.start()
        try:
            yield
        finally:
            await run_in_threadpool(_close_context, ctx)

    app = FastAPI(
        title="QPI local orchestrator",
        version=meta.SERVER_VERSION,
        description="The QPI REST API, served by `qpi serve` with built-in simulator QPUs.",
        lifespan=lifespan,
        redoc_url=None,
        docs_url=None,  # served by install_pages, from local files
    )
    install_handlers(app)
    if config.strict:
        strict.install(app)  # its routes first, its middleware inside the guard
    app.add_middleware(GuardMiddleware, max_body_bytes=config.max_body_bytes)
    for module in (jobs, tokens, qpus, notifications, collections, session, meta):
        app.include_router(module.router)
    install_pages(app)
    return app
