"""``qpi config``: the settings in effect, and where each one came from."""

from __future__ import annotations

import click

from qpi._http.redact import redact_url
from qpi.cli.context import (
    SETTING_SOURCES,
    connection_options,
    emit_json,
    options_of,
    setting_source,
    settings_from,
)
from qpi.config import config_path, load_profiles

__all__ = ["config"]


@click.command()
@connection_options
@click.pass_context
def config(ctx: click.Context) -> None:
    """Show the settings in effect and where each came from.

    Settings are resolved in this order: the options, then the environment (QPI_URL,
    QPI_API_TOKEN, QPI_CACHE_DIR, QPI_CACHE_MODE), then the profile (--profile, QPI_PROFILE,
    or the config file's default_profile), then the defaults. The token is never shown.

    \b
    Examples:
      qpi config
      qpi --profile lab config --json
    """
    settings = settings_from(ctx)
    opts = options_of(ctx)
    path = config_path()
    data = load_profiles(path)
    profiles = data.get("profiles") if isinstance(data.get("profiles"), dict) else {}
    values = dict(profiles.get(settings.profile) or {}) if settings.profile else {}
    shown = {
        "url": redact_url(settings.url),  # a password in the URL is never shown
        "api_token": "<set>" if settings.api_token else None,
        "cache_dir": settings.cache_dir,
        "cache_mode": settings.cache_mode,
    }
    sources = {
        name: setting_source(name, opts, settings.profile, values) for name in SETTING_SOURCES
    }
    if opts.json:
        emit_json(
            {
                "config_file": str(path),
                "config_exists": path.exists(),
                "profiles": sorted(profiles),
                "default_profile": data.get("default_profile"),
                "profile": settings.profile,
                "settings": shown,
                "sources": sources,
            }
        )
        return
    names = ", ".join(sorted(profiles)) or "none"
    state = f"profiles: {names}" if path.exists() else "does not exist yet; `qpi login` writes it"
    click.echo(f"config file  {path} ({state})")
    click.echo(f"profile      {settings.profile or '-'}")
    for name, value in shown.items():
        text = "-" if value is None else str(value)
        if name == "cache_dir" and value is None:
            text = "(the user cache directory)"
        click.echo(f"{name:<12} {text}  [{sources[name]}]")
