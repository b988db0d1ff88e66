"""Crashes: ``qpi serve`` SIGKILLed mid-job and restarted on the same data dir and port.

The job that was running when the server died runs again after the restart, and a client
that was waiting on it all along gets its result. A client *process* killed mid-wait and
started again re-attaches to its job through the cache: that case alone is
``tests/test_cache_integration.py::test_process_killed_while_waiting_reattaches_to_its_job``;
here both sides die at once.
"""

from __future__ import annotations

import json
import os
import signal
import sys
import textwrap
import threading
import time

import pytest

from qpi import QPIClient
from tests.reliability.helpers import Serve, report, serving, wait_for
from tests.server.helpers import session
from tests.test_cache_integration import Script

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(sys.platform == "win32", reason="needs POSIX signals"),
]

#: A job that keeps a simulator busy for a few seconds, whatever the seed: 18 qubits, 4
#: layers of gates, 16 parameter rows (each row is a fresh statevector simulation).
QUBITS, LAYERS, ROWS, SHOTS = 18, 4, 16, 500


def slow_circuit(tag: str) -> str:
    lines = ["OPENQASM 3.0;", 'include "stdgates.inc";', "input float[64] theta;"]
    lines += [f"bit[{QUBITS}] c;", f"qubit[{QUBITS}] q;"]
    for _ in range(LAYERS):
        lines += [f"h q[{i}];" for i in range(QUBITS)]
        lines += [f"cx q[{i}], q[{i + 1}];" for i in range(QUBITS - 1)]
        lines += [f"rx(theta) q[{i}];" for i in range(QUBITS)]
    lines += ["c = measure q;", f"// {tag}"]
    return "\n".join(lines) + "\n"


ROW_VALUES = [[0.05 * r] for r in range(ROWS)]


def job_status(url: str, token: str, job_id: str) -> str | None:
    answer = session(url, {"X-API-Token": token}).get(f"/api/jobs/{job_id}", timeout=5)
    return answer.json().get("status") if answer.status_code == 200 else None


def check_result(record: dict) -> None:
    assert record["status"] == "completed", record.get("results")
    entries = record["results"]["circuit_results"]
    assert len(entries) == ROWS
    for entry in entries:
        assert sum(entry["counts"].values()) == SHOTS
        assert all(len(key) == QUBITS for key in entry["counts"])


def test_server_killed_mid_job_finishes_it_after_restart_for_the_waiting_client(tmp_path):
    data = tmp_path / "data"
    first = Serve(data, extra=("--workers", "1", "--seed", "3")).wait_ready()
    try:
        url, token, port = first.url, first.token, first.port
        with QPIClient(url, api_token=token, cache=False) as client:
            mock = client.get_qpu("mock")["id"]
            job_id = client.submit_job(
                [{"circuit": slow_circuit("crash"), "parameter_values": ROW_VALUES}],
                shots=SHOTS,
                qpu_target=mock,
            )
        outcome: dict = {}

        def wait() -> None:
            with QPIClient(url, api_token=token, cache=tmp_path / "cache") as waiter:
                try:
                    outcome["record"] = waiter.wait_for_job(job_id, timeout=300, max_interval=0.5)
                except Exception as exc:  # reported below
                    outcome["error"] = exc

        waiter = threading.Thread(target=wait)
        waiter.start()
        wait_for(lambda: job_status(url, token, job_id) == "running", timeout=60)
        time.sleep(0.3)  # well inside a run that takes seconds
        assert job_status(url, token, job_id) == "running"
        killed_at = time.monotonic()
        first.kill()
        assert first.proc.returncode == -signal.SIGKILL
    finally:
        first.kill()

    time.sleep(1.0)  # the waiting client meets a closed port for a while
    with serving(data, port=port, extra=("--workers", "1", "--seed", "3")) as second:
        assert second.url == url and second.token == token  # same data dir, same credentials
        waiter.join(300)
        assert not waiter.is_alive()
        assert "error" not in outcome, outcome.get("error")
        check_result(outcome["record"])
        jobs = session(url, {"X-API-Token": token}).get("/api/jobs").json()
        assert [job["id"] for job in jobs] == [job_id]  # run again, never submitted again
    report(
        "server SIGKILL mid-job, restart on the same data dir",
        job="completed",
        jobs_on_server=1,
        seconds_from_kill_to_result=round(time.monotonic() - killed_at, 1),
    )


CLIENT_SCRIPT = textwrap.dedent(
    """
    import json, sys
    from qpi import QPIClient

    url, circuit_file, rows = sys.argv[1], sys.argv[2], json.loads(sys.argv[3])
    client = QPIClient(url)  # token and cache directory come from the environment
    job = client.run(open(circuit_file).read(), shots=int(sys.argv[4]),
                     parameter_values=rows, qpu="mock")
    print("job", job.id, flush=True)
    result = job.result(timeout=300)
    print("done", result.job_id, result.from_cache, len(result.experiments), flush=True)
    """
)


def test_client_and_server_killed_together_reattach_after_restart(tmp_path):
    data = tmp_path / "data"
    circuit = tmp_path / "slow.qasm"
    circuit.write_text(slow_circuit("both"))
    script = tmp_path / "client.py"
    script.write_text(CLIENT_SCRIPT)
    first = Serve(data, extra=("--workers", "1", "--seed", "4")).wait_ready()
    url, token, port = first.url, first.token, first.port
    env = {
        **os.environ,
        "QPI_API_TOKEN": token,
        "QPI_CACHE_DIR": str(tmp_path / "cache"),
        "QPI_CACHE_MODE": "reuse",
    }
    command = [sys.executable, str(script), url, str(circuit), json.dumps(ROW_VALUES), str(SHOTS)]
    try:
        client = Script(command, env)
        _, job_id = client.expect("job", timeout=120)
        wait_for(lambda: job_status(url, token, job_id) == "running", timeout=60)
        client.proc.send_signal(signal.SIGKILL)
        first.kill()
        assert client.proc.wait(30) == -signal.SIGKILL
    finally:
        first.kill()

    with serving(data, port=port, extra=("--workers", "1", "--seed", "4")):
        again = Script(command, env)
        try:
            _, reattached = again.expect("job", timeout=120)
            assert reattached == job_id  # from the cache's record of the submission
            _, done_id, from_cache, experiments = again.expect("done", timeout=300)
            assert again.proc.wait(60) == 0
        finally:
            if again.proc.poll() is None:
                again.proc.kill()
        assert (done_id, from_cache, experiments) == (job_id, "False", str(ROWS))
        # A list leaves results out unless fields= asks for them.
        jobs = session(url, {"X-API-Token": token}).get("/api/jobs?fields=*").json()
        assert [job["id"] for job in jobs] == [job_id]
        check_result(jobs[0])
    report("client and server SIGKILLed together", reattached=True, jobs_on_server=1)
