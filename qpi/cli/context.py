"""What every ``qpi`` command shares: the connection options and how a client is built.

The options ``--url``, ``--token``, ``--profile``, ``--cache-dir``, ``--cache-mode`` and
``--json`` are accepted both before the command (``qpi --json jobs list``) and after it
(``qpi jobs list --json``); given twice, the later one wins. Every command that talks to a
server builds its client through [`client_from`][qpi.cli.context.client_from], which resolves the
settings with
[`qpi.config.resolve`][qpi.config.resolve], exactly as ``QPIClient()`` and the plugins do:
arguments, then
the environment, then the profile, then the defaults.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from types import MappingProxyType
from typing import TYPE_CHECKING, Any, TypeVar

import click

from qpi.config import CACHE_MODES, Settings, resolve

if TYPE_CHECKING:
    from qpi.cache import Cache
    from qpi.client import QPIClient
    from qpi.server.local import LocalServer

__all__ = [
    "CLIOptions",
    "cache_from",
    "client_from",
    "connection_options",
    "emit_json",
    "json_option",
    "local_server_class",
    "options_of",
    "setting_source",
    "settings_from",
    "token_source",
]

F = TypeVar("F", bound=Callable[..., Any])


@dataclass
class CLIOptions:
    """The shared options of one ``qpi`` invocation (``None``: not given on the command line).

    Attributes:
        url: ``--url``: the server's root URL.
        token: ``--token``: the API token.
        profile: ``--profile``: a profile of the config file.
        cache_dir: ``--cache-dir``: the cache directory.
        cache_mode: ``--cache-mode``: ``reuse``, ``memo``, ``record``, ``replay`` or ``off``.
        json: ``--json``: print machine-readable JSON on stdout.
    """

    url: str | None = None
    token: str | None = None
    profile: str | None = None
    cache_dir: str | None = None
    cache_mode: str | None = None
    json: bool = False


def options_of(ctx: click.Context) -> CLIOptions:
    """The shared options of this invocation (created empty on first use).

    Args:
        ctx: Any context of the invocation.
    """
    return ctx.ensure_object(CLIOptions)


def _store(ctx: click.Context, param: click.Parameter, value: Any) -> None:
    if value is None or value is False or param.name is None:
        return
    setattr(options_of(ctx), param.name, value)


def _option(*decls: str, **attrs: Any) -> Callable[[F], F]:
    return click.option(*decls, expose_value=False, callback=_store, **attrs)


def json_option(func: F) -> F:
    """Add ``--json`` (print machine-readable JSON on stdout, and nothing else) to a command.

    Args:
        func: The command function.
    """
    return _option(
        "--json", is_flag=True, default=False, help="Print JSON on stdout (for scripts)."
    )(func)


def connection_options(func: F) -> F:
    """Add the shared options (``--url`` ... ``--json``) to a command or group.

    Args:
        func: The command function.
    """
    decorators = (
        _option("--url", metavar="URL", help="Server URL [env QPI_URL]."),
        _option("--token", metavar="TOKEN", help="API token [env QPI_API_TOKEN]."),
        _option("--profile", metavar="NAME", help="Profile of the config file [env QPI_PROFILE]."),
        _option(
            "--cache-dir",
            metavar="DIR",
            type=click.Path(file_okay=False),
            help="Cache directory [env QPI_CACHE_DIR].",
        ),
        _option(
            "--cache-mode",
            type=click.Choice(CACHE_MODES, case_sensitive=False),
            help="How the cache is used [env QPI_CACHE_MODE; default reuse].",
        ),
        json_option,
    )
    for decorator in reversed(decorators):
        func = decorator(func)
    return func


#: Setting -> (its option on CLIOptions, its environment variable, its key in a profile).
SETTING_SOURCES: Mapping[str, tuple[str, str, str]] = MappingProxyType(
    {
        "url": ("url", "QPI_URL", "url"),
        "api_token": ("token", "QPI_API_TOKEN", "api_token"),
        "cache_dir": ("cache_dir", "QPI_CACHE_DIR", "cache_dir"),
        "cache_mode": ("cache_mode", "QPI_CACHE_MODE", "cache_mode"),
    }
)


def setting_source(
    setting: str, options: CLIOptions, profile: str | None, values: Mapping[str, Any]
) -> str:
    """Where a setting came from: ``--token``, ``QPI_API_TOKEN``, ``profile NAME``, ``default``.

    Args:
        setting: A key of ``SETTING_SOURCES``.
        options: The invocation's options.
        profile: The profile in effect, if any.
        values: That profile's values.
    """
    option, env, key = SETTING_SOURCES[setting]
    if getattr(options, option):
        return "--" + option.replace("_", "-")
    if os.environ.get(env):
        return env
    if profile and values.get(key):
        return f"profile {profile}"
    return "default"


def token_source(ctx: click.Context) -> str:
    """Where this invocation's API token came from, for an error message that says so.

    Args:
        ctx: Any context of the invocation.
    """
    from qpi.config import config_path, load_profiles

    try:
        settings = settings_from(ctx)
        profiles = load_profiles().get("profiles") or {}
    except Exception:  # the error being reported matters more than this hint
        return "the token's source could not be determined"
    values = profiles.get(settings.profile) or {} if settings.profile else {}
    source = setting_source("api_token", options_of(ctx), settings.profile, values)
    if source == "default":
        return "no API token was given (--token, QPI_API_TOKEN or `qpi login`)"
    if source.startswith("profile"):
        return f"the token came from {source} in {config_path()}; renew it with `qpi login`"
    return f"the token came from {source}"


def settings_from(ctx: click.Context) -> Settings:
    """Resolve the settings of this invocation: options, environment, profile, defaults.

    Args:
        ctx: The command's context.

    Raises:
        ValidationError: If the cache mode is unknown or the named profile does not exist.
    """
    opts = options_of(ctx)
    return resolve(
        opts.url,
        opts.token,
        cache_dir=opts.cache_dir,
        cache_mode=opts.cache_mode,
        profile=opts.profile,
    )


def client_from(ctx: click.Context) -> QPIClient:
    """A client built from the resolved settings, closed when the command ends.

    Args:
        ctx: The command's context.
    """
    from qpi.client import QPIClient

    settings = settings_from(ctx)
    client = QPIClient(
        settings.url,
        settings.api_token,
        cache=settings.cache_dir,
        cache_mode=settings.cache_mode,
        profile=settings.profile,
    )
    ctx.call_on_close(client.close)
    return client


def cache_from(ctx: click.Context) -> Cache:
    """The cache store the resolved settings point at, closed when the command ends.

    Args:
        ctx: The command's context.

    Raises:
        CacheError: If the directory cannot be used.
    """
    from qpi.cache import Cache

    cache = Cache(settings_from(ctx).cache_dir)
    ctx.call_on_close(cache.close)
    return cache


def local_server_class() -> type[LocalServer]:
    """[`LocalServer`][qpi.server.LocalServer], or a clear error if the ``server`` extra is missing.

    Raises:
        PluginError: If the local orchestrator's dependencies are not installed.
    """
    try:
        from qpi.server.local import LocalServer
    except ImportError as exc:
        from qpi.errors import PluginError

        raise PluginError(
            f"the local orchestrator is not installed ({exc.name or exc} is missing): "
            "pip install 'qpi-sdk[server]'"
        ) from None
    return LocalServer


def emit_json(data: Any) -> None:
    """Print ``data`` as indented JSON on stdout.

    Args:
        data: Anything JSON can hold; other values (paths, dates) are written as text.
    """
    click.echo(json.dumps(data, indent=2, default=str, ensure_ascii=False))
