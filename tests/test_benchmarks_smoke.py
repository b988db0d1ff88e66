"""The benchmark runner works: it lists, runs and reports rows of the agreed shape.

Speed is never asserted here (see CONTRIBUTING.md); only that figures are produced.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from benchmarks import __main__ as runner  # noqa: E402
from benchmarks._common import (  # noqa: E402
    BELL,
    ROW_KEYS,
    WireCounter,
    median,
    percentile,
    ratio,
    row,
)

SIX = {"latency", "sweep", "gradient", "cache", "serialisation", "throughput"}


def test_percentiles_and_ratios():
    samples = [5.0, 1.0, 3.0, 2.0, 4.0]
    assert median(samples) == 3.0
    assert percentile(samples, 0) == 1.0 and percentile(samples, 100) == 5.0
    assert percentile(samples, 95) == pytest.approx(4.8)
    assert ratio(2.0, 10.0) == 5.0
    assert ratio(200.0, 100.0, better="higher") == 2.0
    assert ratio(0, 3) is None and ratio(1.0, None) is None
    r = row("x", 1.0, 2.0, "them", unit="s", target="ahead", passed=True, extra=1)
    assert set(ROW_KEYS) <= set(r) and r["ratio"] == 2.0 and r["extra"] == 1


def test_every_benchmark_is_listed():
    names = {name for name, _, _ in runner.discover()}
    assert names >= SIX
    assert [m for _, m, _ in runner.select(["serialisation"])] == [
        "bench_qasm3",
        "bench_qiskit_dumps",
    ]
    with pytest.raises(SystemExit, match="no benchmark named"):
        runner.select(["nonsense"])


def test_the_command_lists_the_benchmarks():
    out = subprocess.run(
        [sys.executable, "-m", "benchmarks", "--list"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    ).stdout
    assert all(name in out for name in SIX)


def test_wire_counter_sees_every_request_and_its_bytes():
    from qpi import QPIClient
    from qpi.server import LocalServer

    with LocalServer(seed=1) as server, WireCounter(server.url) as wire:
        client = QPIClient(wire.url, api_token=server.api_token, cache=False, cache_mode="off")
        with client:
            target = client.resolve_qpu("mock")
            wire.reset()
            job_id = client.submit_job([{"circuit": BELL}], shots=64, qpu_target=target)
            client.wait_for_job(job_id, timeout=60)
        seen = wire.requests()
        assert seen[0].method == "POST" and seen[0].path == "/api/jobs"
        assert seen[0].body > len(BELL) and seen[0].size > seen[0].body
        # The wait asks once whether the server offers its long-poll, then reads the job.
        reads = [r for r in seen[1:] if r.path != "/api/health"]
        assert len(seen) - 1 - len(reads) <= 1
        assert reads and all(r.method == "GET" and job_id in r.path for r in reads)
        assert all(r.status in (200, 201) and r.answered >= r.started for r in seen)
        assert wire.count("POST") == 1 and wire.bytes_sent() == sum(r.size for r in seen)


@pytest.mark.slow
def test_a_quick_run_produces_rows_of_the_agreed_shape(tmp_path, capsys):
    out = tmp_path / "figures.json"
    code = runner.main(["--quick", "--only", "cache", "serialisation", "--json", str(out)])
    assert code == 0
    report = json.loads(out.read_text())
    assert report["machine"]["cpus"] and report["command"].startswith("python -m benchmarks")
    modules = {entry["module"] for entry in report["benchmarks"]}
    assert modules == {"bench_cache", "bench_qasm3", "bench_qiskit_dumps"}
    for entry in report["benchmarks"]:
        assert "error" not in entry and entry["rows"]
        for r in entry["rows"]:
            assert set(ROW_KEYS) <= set(r)
            assert r["qpi"] is not None
    targeted = [r for e in report["benchmarks"] for r in e["rows"] if "target" in r]
    assert targeted and all(isinstance(r["passed"], bool) for r in targeted)
    assert "Summary" in capsys.readouterr().out
