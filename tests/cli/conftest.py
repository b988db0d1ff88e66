"""Fixtures for the `qpi` command tests: one seeded local orchestrator, an isolated user."""

from __future__ import annotations

import socket
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from qpi import QPIClient
from qpi.cli import main
from qpi.server import LocalServer

BELL = (
    'OPENQASM 3.0;\ninclude "stdgates.inc";\nbit[2] c;\nqubit[2] q;\n'
    "h q[0];\ncx q[0], q[1];\nc = measure q;\n"
)
# Two inputs, declared out of sorted order: rows bind as (phi, theta).
RX_RZ = (
    'OPENQASM 3.0;\ninclude "stdgates.inc";\ninput float[64] theta;\ninput float[64] phi;\n'
    "bit[1] c;\nqubit[1] q;\nrx(theta) q[0];\nrz(phi) q[0];\nc[0] = measure q[0];\n"
)
# More qubits than the simulator QPUs have: the job fails on the server.
#: Accepted at submission (a gate definition: the client sends it as it is), failed by the
#: simulator (the gate it calls is defined nowhere).
FAILS_ON_THE_QPU = (
    'OPENQASM 3.0;\ninclude "stdgates.inc";\ngate g a { notagate a; }\nbit[1] c;\nqubit[1] q;\n'
    "g q[0];\nc[0] = measure q[0];\n"
)

_USER_ENV = (
    *("QPI_URL", "QPI_API_TOKEN", "QPI_PROFILE", "QPI_CACHE_MODE", "QPI_DEBUG"),
    *("XDG_CONFIG_HOME", "XDG_CACHE_HOME", "XDG_DATA_HOME"),
)

Invoke = Callable[..., Result]


@pytest.fixture(scope="session")
def server() -> Iterator[LocalServer]:
    with LocalServer(seed=11) as srv:
        yield srv


@pytest.fixture(scope="session")
def parked_qpu(server: LocalServer) -> str:
    """A QPU that is disabled: jobs sent to it stay pending until cancelled."""
    with QPIClient(server.url, cache=False, profile=False) as admin:
        admin.auth_with_password(server.admin_email, server.admin_password, superuser=True)
        name = f"parked-{uuid.uuid4().hex[:6]}"
        admin.create_qpu(name, enabled=False)
    return name


@pytest.fixture
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A fresh user: own home, config file and cache, no QPI_* settings in the environment."""
    for key in _USER_ENV:
        monkeypatch.delenv(key, raising=False)
    monkeypatch.setenv("HOME", str(tmp_path))
    monkeypatch.setenv("QPI_CONFIG", str(tmp_path / "config" / "config.toml"))
    monkeypatch.setenv("QPI_CACHE_DIR", str(tmp_path / "cache"))
    return tmp_path


@pytest.fixture
def qpi(home: Path) -> Invoke:
    """Run `qpi ARGS...` in-process; returns click's Result (stdout and stderr apart)."""
    runner = CliRunner()

    def invoke(*args: str, input: str | None = None, catch: bool = False) -> Result:
        return runner.invoke(main, list(args), input=input, catch_exceptions=catch)

    return invoke


@pytest.fixture
def auth(server: LocalServer) -> list[str]:
    """The options that point a command at the test server."""
    return ["--url", server.url, "--token", server.api_token]


@pytest.fixture
def bell_file(tmp_path: Path) -> Path:
    path = tmp_path / "bell.qasm"
    path.write_text(BELL)
    return path


@pytest.fixture
def rx_file(tmp_path: Path) -> Path:
    path = tmp_path / "rx.qasm"
    path.write_text(RX_RZ)
    return path


@pytest.fixture
def dead_url() -> str:
    """A loopback URL nothing listens on."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    return f"http://127.0.0.1:{port}"


def one_error_line(result: Result) -> str:
    """The single `Error: ...` line a failed command prints on stderr (and no traceback)."""
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert "Traceback" not in result.stderr
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("Error: ")
    return lines[0]
