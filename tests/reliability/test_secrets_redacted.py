"""Secrets that once leaked (issue 16, item 12): URL passwords, tokens on errors, `ps` output.

A password in the URL (``http://alice:pw@host``) showed in ``repr(QPIClient)``, in
``ConnectionError`` messages and in ``qpi config``; an error's ``response.request.headers``
carried the API token; ``qpi login --token`` put the token in the process arguments.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from click.testing import CliRunner

from qpi import QPIClient, errors
from qpi.cli import main
from qpi.transport import RetryPolicy
from tests.reliability.helpers import free_port

PASSWORD = "hunter2-in-the-url"


def _url(port: int) -> str:
    return f"http://alice:{PASSWORD}@127.0.0.1:{port}"


def test_a_url_password_never_shows_in_reprs_or_connection_errors():
    url = _url(free_port())  # nothing listens: every call fails to connect
    with QPIClient(url, cache=False, profile=False, retry=RetryPolicy(attempts=2)) as client:
        assert PASSWORD not in repr(client) and "alice" not in repr(client)
        with pytest.raises(errors.ConnectionError) as info:
            client.list_qpus()
    shown = f"{info.value} {info.value!r} {info.value.url}"
    assert PASSWORD not in shown and "alice" not in shown
    assert "***@127.0.0.1" in str(info.value)


def test_qpi_config_never_shows_a_url_password(tmp_path, monkeypatch):
    monkeypatch.setenv("QPI_CONFIG", str(tmp_path / "config.toml"))
    url = _url(8090)
    for args in (["--url", url, "config"], ["--url", url, "--json", "config"]):
        result = CliRunner().invoke(main, args)
        assert result.exit_code == 0, result.output
        assert PASSWORD not in result.output and "127.0.0.1:8090" in result.output


def test_an_error_carries_no_credential_on_its_request(server):
    with QPIClient(server.url, api_token=server.api_token, cache=False, profile=False) as client:
        with pytest.raises(errors.NotFoundError) as info:
            client.get_job("no-such-job")
        client.auth_with_password(server.user_email, server.user_password)
        with pytest.raises(errors.NotFoundError) as again:
            client.get_job("no-such-job")
    for error in (info.value, again.value):
        headers = error.response.request.headers
        assert headers["X-API-Token"] == "<redacted>"
        assert server.api_token not in str(dict(headers))
    assert again.value.response.request.headers["Authorization"] == "<redacted>"


def _login(args: list[str], tmp_path, input: str | None = None):
    env = {"QPI_CONFIG": str(tmp_path / "config.toml"), "QPI_API_TOKEN": "", "QPI_PASSWORD": ""}
    return CliRunner().invoke(main, args, input=input, env=env)


def test_qpi_login_reads_secrets_from_stdin_and_warns_about_arguments(server, tmp_path):
    piped = _login(
        ["--url", server.url, "login", "--token-stdin"], tmp_path, server.api_token + "\n"
    )
    assert piped.exit_code == 0, piped.output
    assert "Warning" not in piped.output and server.api_token not in piped.output
    argued = _login(["--url", server.url, "--token", server.api_token, "login"], tmp_path)
    assert argued.exit_code == 0, argued.output
    assert "process arguments" in argued.output  # still works, with a warning
    email = ["--url", server.url, "login", "--email", server.user_email, "--password-stdin"]
    by_password = _login(email, tmp_path, server.user_password + "\n")
    assert by_password.exit_code == 0, by_password.output
    assert "Warning" not in by_password.output


def test_the_docs_never_suggest_a_secret_in_the_arguments():
    root = Path(__file__).resolve().parents[2]
    pages = [root / "README.md", *sorted((root / "docs").rglob("*.md"))]
    for page in pages:
        for line in page.read_text(encoding="utf-8").splitlines():
            if "qpi login" in line or "qpi --token" in line:
                assert not re.search(r"--(token|password)[ =]", line), (page, line)
