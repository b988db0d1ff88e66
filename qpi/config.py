"""Where settings come from: arguments, then environment, then a profile, then defaults.

The client, the plugins and the CLI resolve their settings the same way:

1. an explicit argument (``QPIClient(base_url=..., api_token=...)``, ``--url``);
2. the environment: ``QPI_URL``, ``QPI_API_TOKEN``, ``QPI_CACHE_DIR``, ``QPI_CACHE_MODE``;
3. a named profile of the user config file (``QPI_PROFILE``, else its ``default_profile``);
4. the defaults (``http://localhost:8090``, no token, the user cache directory, ``reuse``).

The config file is TOML at ``$QPI_CONFIG`` or ``<user config dir>/qpi/config.toml``::

    default_profile = "lab"

    [profiles.lab]
    url = "https://qpi.lab.example"
    api_token = "qpi_..."
    cache_mode = "reuse"
"""

from __future__ import annotations

import os
import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from qpi.errors import ValidationError

__all__ = [
    "CACHE_MODES",
    "DEFAULT_URL",
    "Settings",
    "config_path",
    "load_profiles",
    "resolve",
]

DEFAULT_URL = "http://localhost:8090"
#: The cache modes, see :mod:`qpi.cache`.
CACHE_MODES: tuple[str, ...] = ("reuse", "record", "replay", "off")


@dataclass(frozen=True)
class Settings:
    """Resolved connection and cache settings.

    Attributes:
        url: The server's root URL.
        api_token: The API token, if any.
        cache_dir: The cache directory, or ``None`` for the default location.
        cache_mode: One of :data:`CACHE_MODES`.
        profile: The profile the settings came from, if any.
    """

    url: str
    api_token: str | None
    cache_dir: str | None
    cache_mode: str
    profile: str | None = None

    def __repr__(self) -> str:
        token = "<set>" if self.api_token else None
        return (
            f"Settings(url={self.url!r}, api_token={token}, cache_dir={self.cache_dir!r}, "
            f"cache_mode={self.cache_mode!r}, profile={self.profile!r})"
        )


def config_path() -> Path:
    """The user config file: ``$QPI_CONFIG`` or ``<user config dir>/qpi/config.toml``."""
    explicit = os.environ.get("QPI_CONFIG")
    if explicit:
        return Path(explicit).expanduser()
    from platformdirs import user_config_path

    return user_config_path("qpi", appauthor=False) / "config.toml"


def load_profiles(path: Path | None = None) -> dict[str, Any]:
    """Read the config file; an absent file reads as empty.

    Raises:
        ValidationError: If the file exists but is not valid TOML.
    """
    path = path or config_path()
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return {}
    except OSError as exc:
        raise ValidationError(f"cannot read the qpi config file {path}: {exc}") from exc
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ValidationError(f"the qpi config file {path} is not valid TOML: {exc}") from exc


def _profile(profile: str | None) -> tuple[str | None, dict[str, Any]]:
    name = profile or os.environ.get("QPI_PROFILE") or None
    data = load_profiles()
    profiles = data.get("profiles", {})
    if name is None:
        name = data.get("default_profile")
        if name is None:
            return None, {}
    if name not in profiles:
        if profile or os.environ.get("QPI_PROFILE"):
            known = ", ".join(sorted(profiles)) or "none"
            raise ValidationError(
                f"no qpi profile named {name!r} in {config_path()} (profiles: {known}); "
                "create one with `qpi login`"
            )
        return None, {}
    return name, dict(profiles[name])


def resolve(
    base_url: str | None = None,
    api_token: str | None = None,
    *,
    cache_dir: str | os.PathLike[str] | None = None,
    cache_mode: str | None = None,
    profile: str | None = None,
) -> Settings:
    """Resolve settings from arguments, environment, profile and defaults, in that order.

    Raises:
        ValidationError: If the cache mode is unknown or a named profile does not exist.
    """
    env = os.environ
    name, prof = _profile(profile)
    url = base_url or env.get("QPI_URL") or prof.get("url") or DEFAULT_URL
    token = api_token or env.get("QPI_API_TOKEN") or prof.get("api_token") or None
    cdir = cache_dir or env.get("QPI_CACHE_DIR") or prof.get("cache_dir") or None
    mode = (cache_mode or env.get("QPI_CACHE_MODE") or prof.get("cache_mode") or "reuse").lower()
    if mode not in CACHE_MODES:
        raise ValidationError(f"cache mode must be one of {CACHE_MODES}, got {mode!r}")
    return Settings(
        url=str(url).rstrip("/"),
        api_token=token,
        cache_dir=str(cdir) if cdir is not None else None,
        cache_mode=mode,
        profile=name,
    )
