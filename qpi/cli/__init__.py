"""The ``qpi`` command. Each subcommand lives in its own module and is imported only when run.

To add a command, write ``qpi/cli/<name>.py`` with a click command and list it in
[`COMMANDS`][qpi.cli.COMMANDS]. Command modules import only click at module level (frameworks and
the
server are imported inside the commands), so ``qpi --help`` stays fast.

Errors of the SDK end a command with one line on stderr (the error's message, which says what
to fix) and the exit status of [`qpi.cli.exitcodes`][qpi.cli.exitcodes]; ``QPI_DEBUG=1`` shows the
traceback
instead.
"""

from __future__ import annotations

import importlib
import os
import warnings
from typing import Any

import click

from qpi.cli.context import connection_options, options_of, token_source
from qpi.cli.exitcodes import EXIT_CODES_HELP, ExitCode, exit_code_for
from qpi.cli.groups import SuggestingGroup
from qpi.errors import AuthenticationError, QPIError

__all__ = ["COMMANDS", "main"]

COMMANDS: dict[str, str] = {
    "cache": "qpi.cli.cache:cache",
    "config": "qpi.cli.config:config",
    "demo": "qpi.cli.demo:demo",
    "jobs": "qpi.cli.jobs:jobs",
    "login": "qpi.cli.login:login",
    "logout": "qpi.cli.profiles:logout",
    "profiles": "qpi.cli.profiles:profiles",
    "qpus": "qpi.cli.qpus:qpus",
    "run": "qpi.cli.run:run",
    "serve": "qpi.cli.serve:serve",
}
"""Subcommand name -> ``"module:attribute"`` of its click command."""


def _debug() -> bool:
    return os.environ.get("QPI_DEBUG", "").strip().lower() in ("1", "true", "yes")


def _show_warning(message: Any, category: Any, *args: Any, **kwargs: Any) -> None:
    click.echo(f"Warning: {message}", err=True)


class _LazyGroup(SuggestingGroup):
    """A click group whose subcommands are imported on first use, and whose errors are short."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted({*super().list_commands(ctx), *COMMANDS})

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        target = COMMANDS.get(cmd_name)
        if target is None:
            return super().get_command(ctx, cmd_name)
        module, _, attribute = target.partition(":")
        return getattr(importlib.import_module(module), attribute)

    def invoke(self, ctx: click.Context) -> Any:
        options_of(ctx)  # one options object for the group and its commands (error hints read it)
        with warnings.catch_warnings():
            if not _debug():
                warnings.showwarning = _show_warning
            try:
                return super().invoke(ctx)
            except QPIError as exc:
                if _debug():
                    raise
                message = str(exc)
                if isinstance(exc, AuthenticationError) and exc.status_code == 401:
                    message += f" ({token_source(ctx)})"
                click.echo(f"Error: {message}", err=True)
                ctx.exit(exit_code_for(exc))
            except (KeyboardInterrupt, click.Abort):
                click.echo("Interrupted.", err=True)
                ctx.exit(ExitCode.INTERRUPTED)


@click.group(cls=_LazyGroup, epilog=EXIT_CODES_HELP)
@connection_options
@click.version_option(package_name="qpi-sdk", prog_name="qpi")
def main() -> None:
    """QPI: run circuits on QPI quantum processors, or on a local orchestrator.

    Start with `qpi demo`. Settings come from the options, then the environment (QPI_URL,
    QPI_API_TOKEN, QPI_PROFILE, QPI_CACHE_DIR, QPI_CACHE_MODE), then the profile saved by
    `qpi login`, then the defaults. The options below are also accepted after the command.
    """
