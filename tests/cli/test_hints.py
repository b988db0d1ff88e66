"""The `qpi` command's answers to a newcomer's mistakes, and its profile commands (issue 18)."""

from __future__ import annotations

from pathlib import Path

import pytest

from qpi.cli.progress import still_running_on_interrupt
from qpi.cli.render import bar_chart
from tests.cli.conftest import BELL, one_error_line


def test_a_mistyped_command_suggests_the_right_one(qpi) -> None:
    result = qpi("job", "list")
    assert result.exit_code == 2
    assert "No such command 'job'. Did you mean 'jobs'?" in result.stderr
    result = qpi("jobs", "lst")
    assert result.exit_code == 2
    assert "Did you mean 'list'?" in result.stderr


def test_a_url_ending_in_api_is_diagnosed(qpi, server) -> None:
    result = qpi("jobs", "list", "--url", server.url + "/api", "--token", server.api_token)
    assert result.exit_code == 3
    line = one_error_line(result)
    assert "ends in /api" in line and "root URL" in line


def test_https_against_an_http_server_fails_once_with_a_whole_message(qpi, server) -> None:
    https = server.url.replace("http://", "https://")
    result = qpi("jobs", "list", "--url", https, "--token", server.api_token)
    assert result.exit_code == 5
    line = one_error_line(result)
    assert "after 1 attempt(s)" in line  # a TLS failure is not retried
    assert line.endswith("use an http:// URL instead of https://."), line


def test_a_refused_token_says_where_it_came_from(qpi, server, monkeypatch) -> None:
    result = qpi("jobs", "list", "--url", server.url, "--token", "qpi_not_a_token")
    assert result.exit_code == 4
    assert "(the token came from --token)" in one_error_line(result)
    monkeypatch.setenv("QPI_API_TOKEN", "qpi_not_a_token")
    result = qpi("jobs", "list", "--url", server.url)
    assert "(the token came from QPI_API_TOKEN)" in one_error_line(result)


def test_a_profile_token_that_is_refused_names_the_profile(qpi, server, home) -> None:
    assert qpi("login", "--url", server.url, "--token", server.api_token).exit_code == 0
    text = (home / "config" / "config.toml").read_text()
    (home / "config" / "config.toml").write_text(text.replace(server.api_token, "qpi_revoked"))
    line = one_error_line(qpi("jobs", "list"))
    assert "the token came from profile default in" in line and "qpi login" in line


def test_an_undefined_gate_is_a_parse_error(qpi, auth, tmp_path: Path) -> None:
    program = tmp_path / "typo.qasm"
    program.write_text(BELL.replace("h q[0];", "hadamard q[0];"))
    result = qpi("run", str(program), *auth)
    assert result.exit_code == 9
    assert "5:1: gate 'hadamard' is not defined" in one_error_line(result)


def test_a_gate_the_program_defines_is_not_an_error(qpi, auth, tmp_path: Path) -> None:
    program = tmp_path / "defined.qasm"
    program.write_text(
        BELL.replace("bit[2] c;", "gate myh a { h a; }\nbit[2] c;").replace("h q[0];", "myh q[0];")
    )
    result = qpi("run", str(program), "-s", "200", *auth)
    assert result.exit_code == 0, result.stderr


def test_profiles_list_logout_and_delete(qpi, server, home) -> None:
    assert qpi("login", "--url", server.url, "--token", server.api_token).exit_code == 0
    assert qpi("login", "--profile", "lab", "--url", server.url, "--token", server.api_token)
    listing = qpi("profiles", "list")
    assert listing.exit_code == 0
    lines = listing.stdout.splitlines()
    assert lines[0].split() == ["profile", "url", "token", "cache", "mode"]
    assert lines[1].split()[:4] == ["*", "default", server.url, "set"]
    assert server.api_token not in listing.stdout

    result = qpi("logout")
    assert result.exit_code == 0 and "Removed the API token of profile 'default'" in result.stdout
    assert (
        server.api_token
        not in (home / "config" / "config.toml").read_text().split("[profiles.lab]")[0]
    )
    assert qpi("jobs", "list").exit_code == 4  # no token left in the default profile
    assert qpi("--profile", "lab", "jobs", "list").exit_code == 0

    assert qpi("profiles", "default", "lab").exit_code == 0
    assert qpi("profiles", "delete", "default").exit_code == 0
    listing = qpi("profiles", "list", "--json")
    assert '"name": "lab"' in listing.stdout and '"name": "default"' not in listing.stdout
    result = qpi("profiles", "delete", "nope")
    assert result.exit_code == 9 and "no qpi profile named 'nope'" in one_error_line(result)


def test_cache_list_names_the_default_qpu_entry(qpi, auth, bell_file) -> None:
    assert qpi("run", str(bell_file), "-s", "100", *auth).exit_code == 0
    listing = qpi("cache", "list", "--kind", "qpu")
    assert listing.exit_code == 0, listing.stderr
    assert '""' not in listing.stdout
    assert "(default QPU)" in listing.stdout


def test_a_wide_chart_shows_the_most_frequent_outcomes_first() -> None:
    counts = {format(i, "022b"): 1 for i in range(1, 500)}
    counts["1" * 22] = 300
    counts["0" * 22] = 200
    lines = bar_chart(counts, width=100, max_rows=8)
    assert lines[0].split()[0] == "1" * 22 and lines[1].split()[0] == "0" * 22
    assert lines[-1].strip().startswith("… 493 more outcome(s)")


def test_ctrl_c_while_waiting_says_the_job_keeps_running(capsys) -> None:
    with pytest.raises(KeyboardInterrupt), still_running_on_interrupt("abc123"):
        raise KeyboardInterrupt
    err = capsys.readouterr().err
    assert "job abc123 keeps running on the server" in err
    assert "qpi jobs wait abc123" in err and "qpi jobs cancel abc123" in err
