"""`qpi login`, the profile file it writes, and the order settings are resolved in."""

from __future__ import annotations

import json
import os
import stat
import tomllib

import pytest

from qpi.config import load_profiles, resolve, save_profile
from qpi.errors import ValidationError


def _mode(path) -> int:
    return stat.S_IMODE(os.stat(path).st_mode)


def test_login_with_a_token_writes_a_private_profile(qpi, server, home) -> None:
    result = qpi("login", "--url", server.url, "--token", server.api_token, "--profile", "lab")
    assert result.exit_code == 0, result.stderr
    assert server.api_token not in result.stdout + result.stderr
    config = home / "config" / "config.toml"
    assert _mode(config) == 0o600
    assert _mode(config.parent) == 0o700
    data = tomllib.loads(config.read_text())
    assert data["default_profile"] == "lab"  # the first profile saved
    assert data["profiles"]["lab"] == {"url": server.url, "api_token": server.api_token}

    # The next command needs no option: the default profile is used.
    listed = qpi("jobs", "list", "--json")
    assert listed.exit_code == 0, listed.stderr
    assert isinstance(json.loads(listed.stdout), list)


def test_login_with_email_and_password_creates_a_token(qpi, server, home) -> None:
    result = qpi(
        "login",
        "--url",
        server.url,
        "--email",
        server.user_email,
        "--password",
        server.user_password,
        "--json",
    )
    assert result.exit_code == 0, result.stderr
    answer = json.loads(result.stdout)
    assert answer == {
        "profile": "default",
        "url": server.url,
        "config_file": str(home / "config" / "config.toml"),
        "default": True,
    }
    token = load_profiles()["profiles"]["default"]["api_token"]
    assert token.startswith("qpi_") and token != server.api_token
    assert token not in result.stdout
    assert qpi("jobs", "list").exit_code == 0


def test_login_prompts_for_the_token_without_echo(qpi, server, home) -> None:
    result = qpi("login", "--url", server.url, input=server.api_token + "\n")
    assert result.exit_code == 0, result.stderr
    assert server.api_token not in result.output
    assert load_profiles()["profiles"]["default"]["api_token"] == server.api_token


def test_login_prompts_for_the_password(qpi, server) -> None:
    result = qpi(
        "login",
        "--url",
        server.url,
        "--email",
        server.user_email,
        input=server.user_password + "\n",
    )
    assert result.exit_code == 0, result.stderr
    assert server.user_password not in result.output


def test_bad_token_is_4_and_writes_nothing(qpi, server, home) -> None:
    result = qpi("login", "--url", server.url, "--token", "qpi_" + "1" * 64)
    assert result.exit_code == 4
    assert not (home / "config" / "config.toml").exists()


def test_bad_password_is_4(qpi, server, home) -> None:
    result = qpi("login", "--url", server.url, "--email", server.user_email, "--password", "no")
    assert result.exit_code == 4
    assert "Check the email and password" in result.stderr
    assert not (home / "config" / "config.toml").exists()


def test_login_usage_errors(qpi, server) -> None:
    both = qpi("login", "--url", server.url, "--token", "x", "--email", "a@b.c")
    assert both.exit_code == 2
    assert qpi("login", "--url", server.url, "--password", "x").exit_code == 2


def test_default_flag_and_other_profiles_are_kept(qpi, server) -> None:
    token = server.api_token
    assert qpi("login", "--url", server.url, "--token", token, "--profile", "a").exit_code == 0
    assert qpi("login", "--url", server.url, "--token", token, "--profile", "b").exit_code == 0
    data = load_profiles()
    assert data["default_profile"] == "a" and set(data["profiles"]) == {"a", "b"}
    flagged = qpi("login", "--url", server.url, "--token", token, "--profile", "b", "--default")
    assert "'b' is the default profile" in flagged.stdout
    assert load_profiles()["default_profile"] == "b"


def test_login_to_the_profile_named_by_qpi_profile(qpi, server, monkeypatch) -> None:
    monkeypatch.setenv("QPI_PROFILE", "fresh")  # does not exist yet: login creates it
    result = qpi("login", "--url", server.url, "--token", server.api_token)
    assert result.exit_code == 0, result.stderr
    assert "fresh" in load_profiles()["profiles"]
    assert qpi("qpus").exit_code == 0


def test_precedence_option_over_environment_over_profile(
    qpi, server, dead_url, monkeypatch
) -> None:
    qpi("login", "--url", server.url, "--token", server.api_token)
    assert qpi("jobs", "list").exit_code == 0  # the profile

    monkeypatch.setenv("QPI_URL", dead_url)  # the environment beats the profile
    assert qpi("jobs", "list").exit_code == 5
    shown = json.loads(qpi("config", "--json").stdout)
    assert shown["settings"]["url"] == dead_url and shown["sources"]["url"] == "QPI_URL"
    assert shown["sources"]["api_token"] == "profile default"
    assert shown["settings"]["api_token"] == "<set>"

    assert qpi("jobs", "list", "--url", server.url).exit_code == 0  # the option beats both
    shown = json.loads(qpi("config", "--url", server.url, "--json").stdout)
    assert shown["sources"]["url"] == "--url"

    monkeypatch.setenv("QPI_API_TOKEN", "qpi_" + "2" * 64)  # a wrong token in the environment
    assert qpi("jobs", "list", "--url", server.url).exit_code == 4
    assert qpi("jobs", "list", "--url", server.url, "--token", server.api_token).exit_code == 0


def test_config_text_never_shows_the_token(qpi, server) -> None:
    qpi("login", "--url", server.url, "--token", server.api_token, "--profile", "p")
    text = qpi("config").stdout
    assert server.api_token not in text
    assert "profile      p" in text
    assert "[profile p]" in text


def test_cache_mode_in_a_profile(qpi, server, bell_file) -> None:
    save_profile(
        "offline", {"url": server.url, "api_token": server.api_token, "cache_mode": "REPLAY"}
    )
    assert load_profiles()["profiles"]["offline"]["cache_mode"] == "replay"
    assert qpi("run", str(bell_file), "--profile", "offline").exit_code == 8


def test_save_profile_checks_its_input(home) -> None:
    with pytest.raises(ValidationError, match="profile name"):
        save_profile("no spaces", {"url": "http://x"})
    with pytest.raises(ValidationError, match="unknown profile keys"):
        save_profile("ok", {"password": "x"})
    with pytest.raises(ValidationError, match="cache mode"):
        save_profile("ok", {"cache_mode": "sometimes"})
    with pytest.raises(ValidationError, match="http:// or https://"):
        save_profile("ok", {"url": "localhost:8090"})


@pytest.mark.parametrize(
    "url", ["notaurl", "ftp://host", "http://", "http://h:99999", "http://h:x"]
)
def test_a_url_that_is_not_http_is_refused_before_any_request(home, monkeypatch, url) -> None:
    with pytest.raises(ValidationError, match="URL given .* got"):
        resolve(url)
    monkeypatch.setenv("QPI_URL", url)
    with pytest.raises(ValidationError, match=r"\$QPI_URL must be an http"):
        resolve()
    monkeypatch.delenv("QPI_URL")
    (home / "config").mkdir()
    (home / "config" / "config.toml").write_text(f'[profiles.lab]\nurl = "{url}"\n')
    with pytest.raises(ValidationError, match="url of profile 'lab'"):
        resolve(profile="lab")


def test_save_profile_updates_in_place(home) -> None:
    path = save_profile("lab", {"url": "http://a", "api_token": "t1"})
    save_profile("lab", {"url": "http://b", "api_token": None})
    assert load_profiles(path)["profiles"]["lab"] == {"url": "http://b", "api_token": "t1"}
    assert _mode(path) == 0o600


def test_resolve_without_profile(home, monkeypatch) -> None:
    save_profile("lab", {"url": "http://lab"})
    assert resolve().url == "http://lab"
    assert resolve(profile=False).url == "http://localhost:8090"
    monkeypatch.setenv("QPI_PROFILE", "missing")
    assert resolve(profile=False).profile is None
    with pytest.raises(ValidationError):
        resolve()


def test_unwritable_config_is_9(qpi, server, home, monkeypatch) -> None:
    blocker = home / "blocker"
    blocker.write_text("x")
    monkeypatch.setenv("QPI_CONFIG", str(blocker / "config.toml"))
    result = qpi("login", "--url", server.url, "--token", server.api_token)
    assert result.exit_code == 9
    assert "the qpi config file" in result.stderr
