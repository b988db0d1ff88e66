"""A click group that answers a mistyped command with the command it probably meant."""

from __future__ import annotations

import difflib

import click

__all__ = ["SuggestingGroup"]


class SuggestingGroup(click.Group):
    """``qpi job list`` says "No such command 'job'. Did you mean 'jobs'?"."""

    def resolve_command(
        self, ctx: click.Context, args: list[str]
    ) -> tuple[str | None, click.Command | None, list[str]]:
        """Resolve as click does, suggesting the closest command name for an unknown one."""
        name = args[0] if args else ""
        if name and not name.startswith("-") and self.get_command(ctx, name) is None:
            close = difflib.get_close_matches(name, self.list_commands(ctx), n=1, cutoff=0.6)
            if close:
                ctx.fail(f"No such command {name!r}. Did you mean {close[0]!r}?")
        return super().resolve_command(ctx, args)
