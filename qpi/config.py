"""Where settings come from: arguments, then environment, then a profile, then defaults.

The client, the plugins and the CLI resolve their settings the same way:

1. an explicit argument (``QPIClient(base_url=..., api_token=...)``, ``--url``);
2. the environment: ``QPI_URL``, ``QPI_API_TOKEN``, ``QPI_QPU``, ``QPI_CACHE_DIR``,
   ``QPI_CACHE_MODE``;
3. a named profile of the user config file (``QPI_PROFILE``, else its ``default_profile``);
4. the defaults (``http://localhost:8090``, no token, the user cache directory, ``reuse``).

The config file is TOML at ``$QPI_CONFIG`` or ``<user config dir>/qpi/config.toml``::

    default_profile = "lab"

    [profiles.lab]
    url = "https://qpi.lab.example"
    api_token = "qpi_..."
    qpu = "qpu_sim_01"
    cache_mode = "reuse"

``qpi login --email`` also keeps a renewable session there (``email`` and ``session_token``,
never the password), which a real QPI server needs to return results.

[`save_profile`][qpi.config.save_profile] (behind ``qpi login``) writes it atomically, readable by
its owner only
(mode 0600, in a directory it creates with mode 0700), because profiles hold API tokens.
"""

from __future__ import annotations

import contextlib
import os
import re
import tempfile
import tomllib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from qpi._http.redact import redact_url
from qpi.errors import ValidationError
from qpi.jobs.mode import CacheMode

__all__ = [
    "CACHE_MODES",
    "DEFAULT_URL",
    "PROFILE_KEYS",
    "Settings",
    "config_path",
    "delete_profile",
    "load_profiles",
    "resolve",
    "save_profile",
]

DEFAULT_URL = "http://localhost:8090"
"""The server URL used when no argument, environment variable or profile gives one."""
CACHE_MODES: tuple[str, ...] = tuple(mode.value for mode in CacheMode)
"""The cache modes (see [`CacheMode`][qpi.jobs.CacheMode]); ``reuse`` is the default."""
PROFILE_KEYS: tuple[str, ...] = (
    "url",
    "api_token",
    "qpu",
    "email",
    "session_token",
    "cache_dir",
    "cache_mode",
)
"""The keys a profile of the config file may hold."""

_PROFILE_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]*")


@dataclass(frozen=True)
class Settings:
    """Resolved connection and cache settings.

    Attributes:
        url: The server's root URL.
        api_token: The API token, if any.
        cache_dir: The cache directory, or ``None`` for the default location.
        cache_mode: One of [`CACHE_MODES`][qpi.config.CACHE_MODES].
        profile: The profile the settings came from, if any.
        qpu: The default QPU (name or record id), if one is configured.
        session_token: A saved user session (from ``qpi login --email``), if any.
    """

    url: str
    api_token: str | None
    cache_dir: str | None
    cache_mode: str
    profile: str | None = None
    qpu: str | None = None
    session_token: str | None = None

    def __repr__(self) -> str:
        token = "<set>" if self.api_token else None
        session = "<set>" if self.session_token else None
        return (
            f"Settings(url={redact_url(self.url)!r}, api_token={token}, "
            f"cache_dir={self.cache_dir!r}, cache_mode={self.cache_mode!r}, "
            f"profile={self.profile!r}, qpu={self.qpu!r}, session_token={session})"
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


def _profile(profile: str | bool | None) -> tuple[str | None, dict[str, Any]]:
    if profile is False:
        return None, {}
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
    profile: str | bool | None = None,
) -> Settings:
    """Resolve settings from arguments, environment, profile and defaults, in that order.

    Args:
        base_url: The server URL (else ``$QPI_URL``, the profile's ``url``, the default).
        api_token: The API token (else ``$QPI_API_TOKEN``, the profile's ``api_token``).
        cache_dir: The cache directory (else ``$QPI_CACHE_DIR``, the profile's
            ``cache_dir``, ``None`` for the user cache directory).
        cache_mode: The cache mode (else ``$QPI_CACHE_MODE``, the profile's ``cache_mode``,
            ``"reuse"``).
        profile: The profile to read (else ``$QPI_PROFILE``, the file's
            ``default_profile``). ``False`` reads no profile and not the config file at all.

    Returns:
        The resolved settings.

    Raises:
        ValidationError: If the URL is not an ``http(s)://`` URL with a host, the cache mode
            is unknown, or a named profile does not exist.
    """
    env = os.environ
    name, prof = _profile(profile)
    url = base_url or env.get("QPI_URL") or prof.get("url") or DEFAULT_URL
    if not _is_http_url(str(url)):
        source = (
            "the URL given (--url or base_url)"
            if base_url
            else "$QPI_URL"
            if env.get("QPI_URL")
            else f"the url of profile {name!r} in {config_path()}"
        )
        raise ValidationError(
            f"{source} must be an http:// or https:// URL with a host, such as "
            f"{DEFAULT_URL}; got {str(url)!r}"
        )
    token = api_token or env.get("QPI_API_TOKEN") or prof.get("api_token") or None
    cdir = cache_dir or env.get("QPI_CACHE_DIR") or prof.get("cache_dir") or None
    mode = (cache_mode or env.get("QPI_CACHE_MODE") or prof.get("cache_mode") or "reuse").lower()
    if mode not in CACHE_MODES:
        raise ValidationError(f"cache mode must be one of {CACHE_MODES}, got {mode!r}")
    # A saved session belongs to the server it was made on.
    session = prof.get("session_token") if str(url) == str(prof.get("url", url)) else None
    return Settings(
        url=str(url).rstrip("/"),
        api_token=token,
        cache_dir=str(cdir) if cdir is not None else None,
        cache_mode=mode,
        profile=name,
        qpu=env.get("QPI_QPU") or prof.get("qpu") or None,
        session_token=session or None,
    )


def _is_http_url(url: str) -> bool:
    try:
        parts = urlsplit(url)
        _ = parts.port  # raises ValueError for a port that is not a number in 0-65535
    except ValueError:
        return False
    return parts.scheme in ("http", "https") and bool(parts.hostname)


def save_profile(
    name: str,
    values: Mapping[str, Any],
    *,
    make_default: bool = False,
    path: Path | None = None,
) -> Path:
    """Add or update a profile of the config file, written atomically with mode 0600.

    Keys of ``values`` that are ``None`` are left as they were; the other profiles and keys
    of the file are kept. The first profile saved to a file also becomes its
    ``default_profile``. The directory is created with mode 0700 if it does not exist, and
    the file is replaced in one step, so a reader never sees half a file.

    Args:
        name: The profile's name (letters, digits, ``_``, ``.`` and ``-``).
        values: Any of [`PROFILE_KEYS`][qpi.config.PROFILE_KEYS] (``url``, ``api_token``,
            ``cache_dir``,
            ``cache_mode``).
        make_default: Make this profile the file's ``default_profile``.
        path: The config file; defaults to [`config_path`][qpi.config.config_path].

    Returns:
        The path of the config file written.

    Raises:
        ValidationError: If the name, a key, the URL or the cache mode is invalid, the existing file
            is not valid TOML, or the file cannot be written.
    """
    if not isinstance(name, str) or not _PROFILE_NAME.fullmatch(name):
        raise ValidationError(
            f"a profile name is letters, digits, '_', '.' and '-' (starting with a letter or "
            f"digit), got {name!r}"
        )
    unknown = sorted(set(values) - set(PROFILE_KEYS))
    if unknown:
        raise ValidationError(f"unknown profile keys {unknown}; a profile holds {PROFILE_KEYS}")
    mode = values.get("cache_mode")
    if mode is not None and str(mode).lower() not in CACHE_MODES:
        raise ValidationError(f"cache mode must be one of {CACHE_MODES}, got {mode!r}")
    url = values.get("url")
    if url is not None and not _is_http_url(str(url)):
        raise ValidationError(f"a profile's url must be an http:// or https:// URL, got {url!r}")
    path = path or config_path()
    data = load_profiles(path)
    profiles = data.setdefault("profiles", {})
    if not isinstance(profiles, dict):
        raise ValidationError(f"'profiles' in the qpi config file {path} is not a table")
    profile = dict(profiles.get(name) or {})
    profile.update({key: str(value) for key, value in values.items() if value is not None})
    if "cache_mode" in profile:
        profile["cache_mode"] = profile["cache_mode"].lower()
    profiles[name] = profile
    if make_default or not data.get("default_profile"):
        data["default_profile"] = name

    import tomli_w

    _write_private(path, tomli_w.dumps(data))
    return path


def delete_profile(
    name: str, *, keys: Sequence[str] | None = None, path: Path | None = None
) -> bool:
    """Remove a profile from the config file, or only some of its keys.

    Removing the whole profile that is the file's ``default_profile`` clears that too.

    Args:
        name: The profile's name.
        keys: Remove only these keys (e.g. ``["api_token"]`` to log out); ``None`` removes the
            profile.
        path: The config file; defaults to [`config_path`][qpi.config.config_path].

    Returns:
        Whether anything was removed.

    Raises:
        ValidationError: If the file is not valid TOML or cannot be written.
    """
    path = path or config_path()
    data = load_profiles(path)
    profiles = data.get("profiles")
    if not isinstance(profiles, dict) or not isinstance(profiles.get(name), dict):
        return False
    if keys is None:
        del profiles[name]
        if data.get("default_profile") == name:
            del data["default_profile"]
    else:
        removed = [key for key in keys if profiles[name].pop(key, None) is not None]
        if not removed:
            return False
    import tomli_w

    _write_private(path, tomli_w.dumps(data))
    return True


def _write_private(path: Path, text: str) -> None:
    """Write ``text`` to ``path`` atomically, readable and writable by its owner only."""
    temp: str | None = None
    try:
        path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        fd, temp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)  # mode 0600
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(text)
            handle.flush()
            os.fsync(handle.fileno())
        os.chmod(temp, 0o600)
        os.replace(temp, path)
    except OSError as exc:
        if temp is not None:
            with contextlib.suppress(OSError):
                os.unlink(temp)
        raise ValidationError(
            f"cannot write the qpi config file {path}: {exc.strerror or exc}; set QPI_CONFIG "
            "to a writable path"
        ) from exc
