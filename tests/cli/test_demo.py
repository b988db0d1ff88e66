"""`qpi demo`: the flow with a stand-in framework (fast), and the real three (slow)."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from qpi.cli import frameworks
from qpi.cli.frameworks import Framework
from qpi.errors import JobFailedError


def _ghz_qasm(client, qubits: int, shots: int) -> dict[str, int]:
    """A stand-in framework: plain OpenQASM through the core client."""
    lines = ["OPENQASM 3.0;", 'include "stdgates.inc";', f"bit[{qubits}] c;", f"qubit[{qubits}] q;"]
    lines += ["h q[0];"] + [f"cx q[{i}], q[{i + 1}];" for i in range(qubits - 1)]
    lines += ["c = measure q;", ""]
    return client.run("\n".join(lines), shots=shots, qpu="mock").result().get_counts()


def _fails(client, qubits: int, shots: int) -> dict[str, int]:
    raise JobFailedError("job x failed: the stand-in always fails", job_id="x")


STAND_IN = Framework("Plain", "json", "json", "none", "click", _ghz_qasm)
ABSENT = Framework("Absent", "no_such_framework_qpi", "no_such_plugin", "absent", "x", _ghz_qasm)


def test_demo_flow(qpi, monkeypatch) -> None:
    monkeypatch.setattr(frameworks, "FRAMEWORKS", (STAND_IN, ABSENT))
    result = qpi("demo", "--shots", "200", "--qubits", "3", "--json")
    assert result.exit_code == 0, result.stderr
    data = json.loads(result.stdout)
    assert data["skipped"] == {
        "Absent": "no_such_framework_qpi is not installed (pip install 'qpi-sdk[absent]')"
    }
    (server,), (cached,), (replayed,) = (data["runs"][k] for k in ("server", "cache", "replay"))
    assert server["from_cache"] is False and len(server["job_ids"]) == 1
    assert sum(server["counts"].values()) == 200
    assert set(server["counts"]) <= {"000", "111"}
    for again in (cached, replayed):
        assert again["from_cache"] is True
        assert again["job_ids"] == server["job_ids"]
        assert again["counts"] == server["counts"]
    assert data["server_jobs"]["before"] == data["server_jobs"]["after"]
    assert data["replay_identical"] is True
    assert data["cache_dir"] is None


def test_demo_text(qpi, monkeypatch) -> None:
    monkeypatch.setattr(frameworks, "FRAMEWORKS", (STAND_IN, ABSENT))
    result = qpi("demo", "--shots", "100", "--keep-cache")
    assert result.exit_code == 0, result.stderr
    out = result.stdout
    assert "Absent skipped: no_such_framework_qpi is not installed" in out
    assert "run 2 submitted nothing" in out
    assert out.count("identical ✓") == 2
    assert "█" in out and "What just happened" in out
    kept = Path(out.split("look inside with")[1].split("--cache-dir")[1].split()[0])
    try:
        assert kept.is_dir()
        assert qpi("cache", "info", "--cache-dir", str(kept), "--json").exit_code == 0
    finally:
        shutil.rmtree(kept.parent, ignore_errors=True)


def test_demo_reports_a_failing_framework(qpi, monkeypatch) -> None:
    failing = Framework("Failing", "json", "json", "none", "click", _fails)
    monkeypatch.setattr(frameworks, "FRAMEWORKS", (failing, STAND_IN))
    result = qpi("demo", "--shots", "10")
    assert result.exit_code == 1
    assert "the stand-in always fails" in result.stdout  # in its row of the table
    assert result.stderr.startswith("Error: Failing failed: JobFailedError")
    assert "identical ✓" in result.stdout  # the other framework still ran


@pytest.mark.slow
@pytest.mark.timeout(180)
def test_demo_end_to_end(tmp_path) -> None:
    user_cache = tmp_path / "user-cache"
    env = {**os.environ, "HOME": str(tmp_path), "QPI_CACHE_DIR": str(user_cache)}
    proc = subprocess.run(
        [sys.executable, "-m", "qpi.cli", "demo", "--json", "--shots", "500"],
        capture_output=True,
        text=True,
        timeout=170,
        env=env,
    )
    assert proc.returncode == 0, proc.stderr
    data = json.loads(proc.stdout)
    assert data["skipped"] == {}
    runs = data["runs"]
    assert [o["framework"] for o in runs["server"]] == ["Qiskit", "PennyLane", "Cirq"]
    for first, cached, replayed in zip(runs["server"], runs["cache"], runs["replay"]):
        assert first["error"] is None and first["from_cache"] is False
        assert len(first["job_ids"]) == 1  # one job per framework
        assert sum(first["counts"].values()) == 500
        assert set(first["counts"]) <= {"00", "11"}
        for again in (cached, replayed):
            assert again["from_cache"] is True
            assert again["job_ids"] == first["job_ids"]
            assert again["counts"] == first["counts"]
    assert data["server_jobs"]["before"] == data["server_jobs"]["after"] == 3
    assert data["replay_identical"] is True
    assert not user_cache.exists()  # the user's cache is never touched


@pytest.mark.slow
def test_demo_text_end_to_end(qpi) -> None:
    result = qpi("demo", "--shots", "300")
    assert result.exit_code == 0, result.stderr
    for name in ("Qiskit", "PennyLane", "Cirq"):
        assert name in result.stdout
    assert result.stdout.count("identical ✓") == 6
    assert "skipped" not in result.stdout
