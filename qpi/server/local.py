"""``LocalServer``: the orchestrator on loopback, in a background thread.

    with LocalServer() as server:
        client = server.client()
        ...

It binds its own socket (so ``port=0`` gets a free port with no race), serves uvicorn in a
thread, and on stop ends the workers, closes the database and removes its temporary data dir.
"""

from __future__ import annotations

import asyncio
import contextlib
import shutil
import socket
import tempfile
import threading
import time
from collections.abc import Callable
from pathlib import Path
from types import TracebackType
from typing import Any

import uvicorn

from qpi.errors import QPIError
from qpi.server.app import create_app
from qpi.server.bootstrap import CREDENTIALS_FILE, Credentials
from qpi.server.config import ServerConfig
from qpi.server.logfilter import rate_limited_logging
from qpi.server.protocol import ConnectionLimits, default_max_connections, protocol_factory

__all__ = ["LocalServer"]

START_TIMEOUT = 60.0
STOP_TIMEOUT = 30.0
#: The largest request line plus headers h11 buffers (a larger one is a 400).
MAX_HEADER_BYTES = 16 * 1024


class _Uvicorn(uvicorn.Server):
    """A uvicorn server that a thread can stop at once, instead of at its next 100 ms tick."""

    _loop: asyncio.AbstractEventLoop | None = None
    _wakeup: asyncio.Event | None = None
    #: Called when shutdown begins, before waiting for busy connections (ends long-polls).
    before_shutdown: Callable[[], None] | None = None

    async def main_loop(self) -> None:
        """Tick like uvicorn, but wake up as soon as `request_exit` is called."""
        self._loop = asyncio.get_running_loop()
        self._wakeup = asyncio.Event()
        counter = 0
        should_exit = await self.on_tick(counter)
        while not should_exit:
            counter = (counter + 1) % 864000
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wakeup.wait(), 0.1)
            should_exit = await self.on_tick(counter)

    async def shutdown(self, sockets: list[socket.socket] | None = None) -> None:
        """Shut down like uvicorn, polling for finished connections instead of a 100 ms nap."""
        for server in self.servers:
            server.close()
        for sock in sockets or []:
            sock.close()
        if self.before_shutdown is not None:
            self.before_shutdown()
        state = self.server_state
        for connection in list(state.connections):
            connection.shutdown()  # idle keep-alive connections close now, busy ones after
        loop = asyncio.get_running_loop()
        deadline = loop.time() + (self.config.timeout_graceful_shutdown or STOP_TIMEOUT)
        while (state.connections or state.tasks) and loop.time() < deadline:
            await asyncio.sleep(0.002)
        for task in list(state.tasks):
            task.cancel()
        await self.lifespan.shutdown()

    def request_exit(self) -> None:
        """Ask the server to shut down (thread-safe)."""
        self.should_exit = True
        loop, wakeup = self._loop, self._wakeup
        if loop is not None and wakeup is not None:
            with contextlib.suppress(RuntimeError):  # the loop may already be closed
                loop.call_soon_threadsafe(wakeup.set)


def _uvicorn_config(
    app: Any, config: ServerConfig, log_level: str, access_log: bool
) -> uvicorn.Config:
    """The settings of uvicorn: every wait bounded, every connection counted."""
    limits = ConnectionLimits(
        header_timeout=config.header_timeout,
        body_timeout=config.body_timeout,
        max_connections=config.max_connections or default_max_connections(),
    )
    return uvicorn.Config(
        app,
        http=protocol_factory(limits),
        log_level=log_level,
        access_log=access_log,
        timeout_graceful_shutdown=5,
        # uvicorn's default (5 s) equals the original client's fixed polling interval, so its
        # polls raced the server closing their connection and failed now and then.
        timeout_keep_alive=config.keep_alive_timeout,  # type: ignore[arg-type]
        # Connections beyond the limit are refused by the protocol; this bounds requests
        # (tasks) in flight on the connections there are.
        limit_concurrency=limits.max_connections + 1,
        h11_max_incomplete_event_size=MAX_HEADER_BYTES,
    )


def _end_waits(app: Any) -> None:
    """Answer the requests waiting for jobs now, so stopping is not held up by them."""
    ctx = getattr(app.state, "ctx", None)
    if ctx is not None:
        ctx.watch.close()


def _bind(host: str, port: int) -> socket.socket:
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    # asyncio sets TCP_NODELAY on accepted connections only when the listening socket says
    # IPPROTO_TCP; without it, Nagle plus delayed ACKs add 40 ms to every keep-alive request.
    sock = socket.socket(family, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    try:
        sock.bind((host, port))
    except OSError:
        sock.close()
        raise
    return sock


class LocalServer:
    """The QPI orchestrator running on this machine, in a background thread.

    Args:
        port: TCP port on 127.0.0.1; ``0`` picks a free one.
        data_dir: Where the database and ``credentials.json`` live. ``None`` makes a temporary
            directory, removed on [`stop`][qpi.server.LocalServer.stop].
        seed: Makes sampling reproducible (see [`ServerConfig`][qpi.server.config.ServerConfig]).
        log_level: The level of the server's log (``"debug"``, ``"info"``, ``"warning"``, ...).
        access_log: Log one line per request (method, path, status) at INFO.
        strict: Behave as a real QPI v0.1.2 installation, bugs included (see
            `qpi.server.strict` and the deviation table in the local orchestrator guide).
        **config: Further [`ServerConfig`][qpi.server.config.ServerConfig] fields (``workers``,
            ``host``, ``idle_threshold``, ...).

    Example:
        ```python
        with LocalServer(seed=1) as server:
            print(server.url, server.admin_email)
            client = server.client()
        ```
    """

    def __init__(
        self,
        port: int = 0,
        data_dir: str | Path | None = None,
        seed: int | None = None,
        strict: bool = False,
        *,
        log_level: str = "warning",
        access_log: bool = False,
        **config: Any,
    ) -> None:
        self._port = port
        self._data_dir = Path(data_dir) if data_dir is not None else None
        self._seed = seed
        self._config = {**config, "strict": strict}
        self._log = (log_level.lower(), access_log)
        self._lock = threading.Lock()
        self._server: _Uvicorn | None = None
        self._thread: threading.Thread | None = None
        self._temp_dir: Path | None = None
        self._credentials: Credentials | None = None
        self._active_dir: Path | None = None

    def __repr__(self) -> str:
        state = f"url={self.url!r}" if self.running else "stopped"
        return f"LocalServer({state}, data_dir={str(self._active_dir or self._data_dir)!r})"

    # -- life cycle ----------------------------------------------------------------------------

    def start(self) -> LocalServer:
        """Start serving; returns once the server answers requests. Idempotent.

        Raises:
            QPIError: If the server could not start (the cause is chained).
        """
        with self._lock:
            if self._server is not None:
                return self
            data_dir = self._data_dir
            if data_dir is None:
                self._temp_dir = data_dir = Path(tempfile.mkdtemp(prefix="qpi-server-"))
            try:
                self._launch(data_dir)
            except BaseException:
                self._cleanup_temp()
                raise
            return self

    def _launch(self, data_dir: Path) -> None:
        host = self._config.get("host", "127.0.0.1")
        options = {k: v for k, v in self._config.items() if k != "host"}
        sock = _bind(host, self._port)
        try:
            config = ServerConfig(
                host=host, port=sock.getsockname()[1], data_dir=data_dir, seed=self._seed, **options
            )
            app = create_app(config)
        except BaseException:
            sock.close()
            raise
        server = _Uvicorn(_uvicorn_config(app, config, *self._log))
        server.before_shutdown = lambda: _end_waits(app)
        thread = threading.Thread(
            target=self._serve, args=(server, sock), name="qpi-local-server", daemon=True
        )
        thread.start()
        deadline = time.monotonic() + START_TIMEOUT
        while not server.started:
            if not thread.is_alive() or time.monotonic() > deadline:
                server.request_exit()
                thread.join(STOP_TIMEOUT)
                error = getattr(app.state, "startup_error", None)
                raise QPIError(
                    f"the local QPI server did not start (data dir {data_dir})"
                ) from error
            time.sleep(0.002)
        self._server, self._thread, self._active_dir = server, thread, data_dir
        self._credentials = app.state.ctx.credentials

    @staticmethod
    def _serve(server: _Uvicorn, sock: socket.socket) -> None:
        # uvicorn exits the "process" when start-up fails; in a thread that is just the end.
        with contextlib.suppress(SystemExit), rate_limited_logging():
            try:
                server.run(sockets=[sock])
            finally:
                sock.close()

    def wait(self, timeout: float | None = None) -> bool:
        """Wait for the server thread to end (or ``timeout`` seconds).

        Returns:
            Whether the server is still serving.
        """
        thread = self._thread
        if thread is not None:
            thread.join(timeout)
        return thread is not None and thread.is_alive()

    def stop(self) -> None:
        """Stop serving, end the worker processes, remove a temporary data dir. Idempotent."""
        with self._lock:
            server, thread = self._server, self._thread
            self._server = self._thread = None
            if server is not None and thread is not None:
                server.request_exit()
                thread.join(STOP_TIMEOUT)
            self._cleanup_temp()

    def _cleanup_temp(self) -> None:
        if self._temp_dir is not None:
            shutil.rmtree(self._temp_dir, ignore_errors=True)
            self._temp_dir = None

    def __enter__(self) -> LocalServer:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    # -- what clients need ---------------------------------------------------------------------

    @property
    def running(self) -> bool:
        """Whether the server is serving."""
        return self._server is not None

    def _creds(self) -> Credentials:
        if self._credentials is None:
            raise QPIError("the local QPI server has not been started; call start() first")
        return self._credentials

    @property
    def url(self) -> str:
        """The server's URL, e.g. ``http://127.0.0.1:54321``."""
        return self._creds().url

    @property
    def api_token(self) -> str:
        """An API token of the default user."""
        return self._creds().api_token

    @property
    def admin_email(self) -> str:
        """The superuser's email."""
        return self._creds().admin_email

    @property
    def admin_password(self) -> str:
        """The superuser's password."""
        return self._creds().admin_password

    @property
    def user_email(self) -> str:
        """The default user's email."""
        return self._creds().user_email

    @property
    def user_password(self) -> str:
        """The default user's password."""
        return self._creds().user_password

    @property
    def data_dir(self) -> Path:
        """The data directory in use (or configured, before start)."""
        path = self._active_dir or self._data_dir
        if path is None:
            raise QPIError("the local QPI server has no data dir until it is started")
        return path

    @property
    def strict(self) -> bool:
        """Whether the server behaves as a real QPI v0.1.2 installation (``strict=True``)."""
        return bool(self._config.get("strict"))

    @property
    def credentials_path(self) -> Path:
        """``<data_dir>/credentials.json``."""
        return self.data_dir / CREDENTIALS_FILE

    def client(self, **kwargs: Any) -> Any:
        """A `qpi.QPIClient` for this server, authenticated with `api_token`.

        Args:
            **kwargs: Passed to ``QPIClient``; ``cache`` defaults to ``<data_dir>/client-cache``.
        """
        from qpi.client import QPIClient

        kwargs.setdefault("cache", str(self.data_dir / "client-cache"))
        return QPIClient(self.url, api_token=self.api_token, **kwargs)
