"""Every failure ends with its documented exit status and one line on stderr."""

from __future__ import annotations

import gzip
import json
import sys
from pathlib import Path

import pytest

from qpi.cli.exitcodes import ExitCode, exit_code_for
from qpi.errors import (
    AuthenticationError,
    BadRequestError,
    CacheError,
    CacheMissError,
    ConnectionError,
    JobCancelledError,
    JobFailedError,
    JobTimeoutError,
    NotFoundError,
    PluginError,
    QPIError,
    ServerError,
    ValidationError,
)

from .conftest import FAILS_ON_THE_QPU, one_error_line


@pytest.mark.parametrize(
    ("error", "code"),
    [
        (JobFailedError("x"), 1),
        (NotFoundError("x"), 3),
        (AuthenticationError("x"), 4),
        (ConnectionError("x"), 5),
        (JobTimeoutError("x"), 6),
        (JobCancelledError("x"), 7),
        (CacheMissError("x"), 8),
        (ValidationError("x"), 9),
        (BadRequestError("x"), 9),
        (CacheError("x"), 9),
        (ServerError("x"), 10),
        (PluginError("x"), 10),
        (QPIError("x"), 10),
    ],
)
def test_mapping(error: Exception, code: int) -> None:
    assert exit_code_for(error) == code


def test_no_server_is_5(qpi, dead_url) -> None:
    result = qpi("jobs", "list", "--url", dead_url, "--token", "qpi_x")
    assert result.exit_code == ExitCode.CONNECTION
    assert "connection refused" in one_error_line(result)
    assert result.stdout == ""


def test_bad_token_is_4(qpi, server) -> None:
    result = qpi("jobs", "list", "--url", server.url, "--token", "qpi_" + "0" * 64)
    assert result.exit_code == ExitCode.AUTHENTICATION
    assert "401" in one_error_line(result)


@pytest.mark.parametrize("command", [["show"], ["wait"], ["cancel"]])
def test_unknown_job_is_3(qpi, auth, command) -> None:
    result = qpi("jobs", *command, "nosuchjob000000", *auth)
    assert result.exit_code == ExitCode.NOT_FOUND
    assert "nosuchjob000000" in one_error_line(result)


def test_unknown_qpu_is_3(qpi, auth, bell_file) -> None:
    result = qpi("run", str(bell_file), "--qpu", "no-such-qpu", *auth)
    assert result.exit_code == ExitCode.NOT_FOUND
    assert "no-such-qpu" in one_error_line(result)


def test_failed_job_is_1(qpi, auth, tmp_path) -> None:
    program = tmp_path / "broken.qasm"
    program.write_text(FAILS_ON_THE_QPU)
    result = qpi("run", str(program), "--shots", "10", *auth)
    assert result.exit_code == ExitCode.JOB_FAILED
    assert "notagate" in one_error_line(result)


def test_cancelled_job_is_7_and_timeout_is_6(qpi, auth, bell_file, parked_qpu) -> None:
    job_id = qpi("run", str(bell_file), "--qpu", parked_qpu, "--no-wait", *auth).stdout.strip()
    waited = qpi("jobs", "wait", job_id, "--timeout", "0.3", *auth)
    assert waited.exit_code == ExitCode.TIMEOUT
    assert "did not finish within" in one_error_line(waited)
    assert qpi("jobs", "cancel", job_id, *auth).exit_code == 0
    cancelled = qpi("jobs", "wait", job_id, *auth)
    assert cancelled.exit_code == ExitCode.CANCELLED
    assert "cancelled" in one_error_line(cancelled)


def test_replay_miss_is_8(qpi, auth, bell_file) -> None:
    result = qpi("run", str(bell_file), "--cache-mode", "replay", *auth)
    assert result.exit_code == ExitCode.CACHE_MISS
    assert "cache" in one_error_line(result)


def test_replay_of_unknown_job_is_8(qpi, auth) -> None:
    result = qpi("jobs", "show", "notcached000000", "--cache-mode", "replay", *auth)
    assert result.exit_code == ExitCode.CACHE_MISS


def _export(qpi, auth, bell_file, path: Path) -> bytes:
    assert qpi("run", str(bell_file), "--shots", "64", *auth).exit_code == 0
    assert qpi("cache", "export", str(path)).exit_code == 0
    return path.read_bytes()


def test_truncated_export_is_9(qpi, auth, bell_file, tmp_path) -> None:
    data = _export(qpi, auth, bell_file, tmp_path / "good.gz")
    broken = tmp_path / "truncated.gz"
    broken.write_bytes(data[: len(data) // 2])
    result = qpi("cache", "import", str(broken))
    assert result.exit_code == ExitCode.BAD_INPUT
    assert "truncated" in one_error_line(result)


def test_tampered_export_is_9(qpi, auth, bell_file, tmp_path) -> None:
    data = _export(qpi, auth, bell_file, tmp_path / "good.gz")
    document = json.loads(gzip.decompress(data))
    document["entries"][0]["stored"] = 0.0
    tampered = tmp_path / "tampered.gz"
    tampered.write_bytes(gzip.compress(json.dumps(document).encode()))
    result = qpi("cache", "import", str(tampered))
    assert result.exit_code == ExitCode.BAD_INPUT
    assert "digest" in one_error_line(result)


def test_garbage_export_is_9(qpi, tmp_path) -> None:
    garbage = tmp_path / "garbage.gz"
    garbage.write_bytes(b"definitely not a cache export")
    assert qpi("cache", "import", str(garbage)).exit_code == ExitCode.BAD_INPUT


def test_qasm_syntax_error_is_9(qpi, auth, tmp_path) -> None:
    program = tmp_path / "broken.qasm"
    program.write_text('OPENQASM 3.0;\ninclude "stdgates.inc";\nqubit[2] q;\nh q[0]\ncx q;\n')
    result = qpi("run", str(program), *auth)
    assert result.exit_code == ExitCode.BAD_INPUT
    assert "broken.qasm:5:1: expected" in one_error_line(result)


def test_unknown_profile_is_9(qpi) -> None:
    result = qpi("jobs", "list", "--profile", "nope")
    assert result.exit_code == ExitCode.BAD_INPUT
    assert "qpi login" in one_error_line(result)


def test_a_url_that_is_not_http_is_9_at_once(qpi) -> None:
    result = qpi("jobs", "list", "--url", "localhost:8090", "--token", "qpi_x")
    assert result.exit_code == ExitCode.BAD_INPUT
    assert "must be an http:// or https:// URL" in one_error_line(result)


def test_usage_error_is_2(qpi) -> None:
    assert qpi("jobs", "list", "--no-such-option").exit_code == ExitCode.USAGE
    assert qpi("run").exit_code == ExitCode.USAGE
    assert qpi("no-such-command").exit_code == ExitCode.USAGE


def test_debug_shows_the_traceback(qpi, dead_url, monkeypatch) -> None:
    monkeypatch.setenv("QPI_DEBUG", "1")
    result = qpi("jobs", "list", "--url", dead_url, catch=True)
    assert isinstance(result.exception, ConnectionError)


def test_cannot_listen_is_10(qpi, server, tmp_path) -> None:
    port = server.url.rsplit(":", 1)[1]
    result = qpi("serve", "--port", port, "--data-dir", str(tmp_path / "data"))
    assert result.exit_code == ExitCode.OTHER
    assert "pick another --port" in result.stderr


@pytest.mark.parametrize("command", [["serve", "--port", "0"], ["demo"]])
def test_missing_server_extra_is_10(qpi, monkeypatch, command) -> None:
    monkeypatch.setitem(sys.modules, "qpi.server.local", None)  # as if uvicorn were absent
    result = qpi(*command)
    assert result.exit_code == ExitCode.OTHER
    assert "pip install 'qpi-sdk[server]'" in one_error_line(result)
