"""``qpi profiles`` (list, delete, make one the default) and ``qpi logout``."""

from __future__ import annotations

import os

import click

from qpi.cli.context import connection_options, emit_json, options_of
from qpi.cli.groups import SuggestingGroup
from qpi.cli.render import table
from qpi.config import config_path, delete_profile, load_profiles, save_profile
from qpi.errors import ValidationError

__all__ = ["logout", "profiles"]


def _profiles() -> tuple[dict[str, dict], str | None]:
    data = load_profiles()
    found = data.get("profiles")
    return (found if isinstance(found, dict) else {}), data.get("default_profile")


def _known(name: str) -> None:
    found, _ = _profiles()
    if name not in found:
        known = ", ".join(sorted(found)) or "none"
        raise ValidationError(
            f"no qpi profile named {name!r} in {config_path()} (profiles: {known})"
        )


@click.command()
@connection_options
@click.pass_context
def logout(ctx: click.Context) -> None:
    """Remove the API token from a profile (--profile, QPI_PROFILE, else the default one).

    The profile keeps its URL and cache settings, so `qpi login` with it asks only for a new
    token. The token itself stays valid on the server: revoke it there (the dashboard's
    Tokens page, or `client.delete_token`) if it may have leaked.

    \b
    Examples:
      qpi logout
      qpi logout --profile lab
    """
    opts = options_of(ctx)
    found, default = _profiles()
    name = opts.profile or os.environ.get("QPI_PROFILE") or default
    if name is None:
        raise ValidationError(f"no profile to log out of: {config_path()} has no default profile")
    _known(name)
    removed = delete_profile(name, keys=["api_token"])
    if opts.json:
        emit_json({"profile": name, "logged_out": removed})
    elif removed:
        click.echo(f"Removed the API token of profile {name!r} from {config_path()}.")
    else:
        click.echo(f"Profile {name!r} holds no API token; nothing to do.")


@click.group(cls=SuggestingGroup)
def profiles() -> None:
    """List the saved profiles, delete one, or make one the default."""


@profiles.command("list")
@connection_options
@click.pass_context
def list_profiles(ctx: click.Context) -> None:
    """List the profiles of the config file (tokens are never shown)."""
    found, default = _profiles()
    rows = [
        {
            "name": name,
            "default": name == default,
            "url": values.get("url"),
            "api_token": "<set>" if values.get("api_token") else None,
            "cache_mode": values.get("cache_mode"),
        }
        for name, values in sorted(found.items())
    ]
    if options_of(ctx).json:
        emit_json({"config_file": str(config_path()), "profiles": rows})
        return
    if not rows:
        click.echo(f"No profiles in {config_path()}; `qpi login` saves one.")
        return
    header = ("", "profile", "url", "token", "cache mode")
    body = [
        (
            "*" if row["default"] else "",
            row["name"],
            row["url"] or "-",
            "set" if row["api_token"] else "-",
            row["cache_mode"] or "-",
        )
        for row in rows
    ]
    for line in table(header, body):
        click.echo(line)


@profiles.command("delete")
@click.argument("name")
@connection_options
@click.pass_context
def delete(ctx: click.Context, name: str) -> None:
    """Delete the profile NAME from the config file."""
    _known(name)
    delete_profile(name)
    if options_of(ctx).json:
        emit_json({"profile": name, "deleted": True})
    else:
        click.echo(f"Deleted profile {name!r} from {config_path()}.")


@profiles.command("default")
@click.argument("name")
@connection_options
@click.pass_context
def make_default(ctx: click.Context, name: str) -> None:
    """Make the profile NAME the default one."""
    _known(name)
    save_profile(name, {}, make_default=True)
    if options_of(ctx).json:
        emit_json({"profile": name, "default": True})
    else:
        click.echo(f"{name!r} is now the default profile.")
