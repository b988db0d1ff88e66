"""The ``qpi`` command. Each subcommand lives in its own module and is imported only when run.

To add a command, write ``qpi/cli/<name>.py`` with a click command and list it in
:data:`COMMANDS`; ``qpi --help`` stays fast because nothing is imported until a command runs.
"""

from __future__ import annotations

import importlib

import click

__all__ = ["COMMANDS", "main"]

#: Subcommand name -> ``"module:attribute"`` of its click command.
COMMANDS: dict[str, str] = {
    "serve": "qpi.cli.serve:serve",
}


class _LazyGroup(click.Group):
    """A click group whose subcommands are imported on first use."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted({*super().list_commands(ctx), *COMMANDS})

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        target = COMMANDS.get(cmd_name)
        if target is None:
            return super().get_command(ctx, cmd_name)
        module, _, attribute = target.partition(":")
        return getattr(importlib.import_module(module), attribute)


@click.group(cls=_LazyGroup)
@click.version_option(package_name="qpi-sdk", prog_name="qpi")
def main() -> None:
    """QPI: run circuits on QPI quantum processors, or on a local orchestrator."""
