"""``qpi serve``: run the local QPI orchestrator in the foreground."""

from __future__ import annotations

import logging
import signal
from pathlib import Path
from types import FrameType

import click

from qpi.cli.context import local_server_class
from qpi.cli.exitcodes import ExitCode

__all__ = ["default_data_dir", "exposure_warning", "serve"]

#: Hosts that only this machine can reach.
LOOPBACK_HOSTS = frozenset({"localhost", "::1"})


def default_data_dir() -> Path:
    """``<user data dir>/qpi/server``: kept between runs, so jobs and credentials survive."""
    from platformdirs import user_data_path

    return user_data_path("qpi", appauthor=False) / "server"


def exposure_warning(host: str) -> str | None:
    """The warning to print when ``host`` lets other machines reach the server, else ``None``.

    Sign-up is open (as on the real server): anyone who can reach the port can make an
    account and run jobs on this machine.
    """
    if host in LOOPBACK_HOSTS or host.startswith("127."):
        return None
    return (
        f"Warning: listening on {host}, reachable from other machines, with open sign-up: "
        "anyone who can reach this port can create an account and run jobs here. Bind to "
        "127.0.0.1 (the default) unless you mean it, and keep it behind a firewall."
    )


_LEVELS = ("debug", "info", "warning", "error")


def _log_to_stderr(level: str) -> None:
    """Show the records of the ``qpi`` loggers (uvicorn configures its own)."""
    handler = logging.StreamHandler()
    handler.setFormatter(logging.Formatter("%(levelname)s:     %(name)s: %(message)s"))
    logger = logging.getLogger("qpi")
    logger.addHandler(handler)
    logger.setLevel(level.upper())


def _interrupt(signum: int, frame: FrameType | None) -> None:
    # SIGTERM (e.g. from a service manager) stops as cleanly as Ctrl-C.
    raise KeyboardInterrupt


@click.command()
@click.option("--host", default="127.0.0.1", show_default=True, help="Interface to listen on.")
@click.option("--port", default=8090, show_default=True, type=click.IntRange(0, 65535))
@click.option(
    "--data-dir",
    type=click.Path(file_okay=False, path_type=Path),
    default=None,
    help="Database, credentials and secrets. [default: <user data dir>/qpi/server]",
)
@click.option("--seed", type=int, default=None, help="Make sampling reproducible.")
@click.option("--workers", type=click.IntRange(1), default=None, help="Jobs run at once.")
@click.option(
    "--log-level",
    type=click.Choice(_LEVELS, case_sensitive=False),
    default="info",
    show_default=True,
    help="The server's log on stderr (debug also shows the scheduler's and the SDK's records).",
)
@click.option(
    "--access-log/--no-access-log",
    default=True,
    show_default=True,
    help="One line per request at INFO.",
)
@click.option(
    "--strict",
    is_flag=True,
    help="Behave as a real QPI v0.1.2 installation, bugs included (see the docs).",
)
def serve(
    host: str,
    port: int,
    data_dir: Path | None,
    seed: int | None,
    workers: int | None,
    log_level: str,
    access_log: bool,
    strict: bool,
) -> None:
    """Run the local QPI orchestrator until Ctrl-C (``--strict``: as a real v0.1.2 server).

    The dashboard is at the server's URL, the API's documentation at /docs (both offline).
    """
    LocalServer = local_server_class()
    from qpi.server.routes.meta import SERVER_VERSION

    warning = exposure_warning(host)
    if warning:
        click.echo(warning, err=True)
    _log_to_stderr(log_level)
    options = {"host": host, "strict": strict} | ({"workers": workers} if workers else {})
    server = LocalServer(
        port=port,
        data_dir=data_dir or default_data_dir(),
        seed=seed,
        log_level=log_level,
        access_log=access_log,
        **options,
    )
    try:
        server.start()
    except OSError as exc:
        error = click.ClickException(
            f"cannot listen on {host}:{port} ({exc.strerror or exc}); pick another --port"
        )
        error.exit_code = ExitCode.OTHER
        raise error from None
    signal.signal(signal.SIGTERM, _interrupt)
    try:
        mode = " in strict mode (a real v0.1.2 server's behaviour)" if strict else ""
        click.echo(f"QPI local orchestrator (API {SERVER_VERSION}) listening on {server.url}{mode}")
        click.echo(f"  data dir     {server.data_dir}")
        click.echo(f"  credentials  {server.credentials_path} (admin and user passwords)")
        click.echo(f"  API token    {server.api_token}")
        click.echo(f"  dashboard    {server.url}/  (API docs at {server.url}/docs)")
        click.echo("Press Ctrl-C to stop.")
        while server.wait(1.0):
            pass
    except KeyboardInterrupt:
        click.echo("Stopping...")
    finally:
        server.stop()
