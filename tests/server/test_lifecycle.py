"""Server life: credentials, restarts, recovery, reproducibility, scheduling, worker crashes."""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import stat
import time
from pathlib import Path

import pytest

from qpi.server import LocalServer
from tests.server.helpers import BELL, BELL_QASM2, RX, login, session

pytestmark = pytest.mark.skipif(not Path("/proc").is_dir(), reason="needs /proc")


def _children(pid: int) -> set[int]:
    found = set()
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            if int(fields[1]) == pid:
                found.add(int(entry.name))
    return found


def _workers() -> set[int]:
    """Live processes forked by this test process's fork server."""
    workers = set()
    for child in _children(os.getpid()):
        try:
            cmdline = Path(f"/proc/{child}/cmdline").read_bytes()
        except OSError:
            continue
        if b"multiprocessing.forkserver" in cmdline:
            workers |= _children(child)
    return workers


def _admin(srv: LocalServer):
    token = login(srv.url, srv.admin_email, srv.admin_password, "_superusers")
    return session(srv.url, {"Authorization": token})


def _mock_id(srv: LocalServer) -> str:
    return session(srv.url).get("/api/qpus/mock").json()["id"]


def test_local_server_basics(tmp_path):
    srv = LocalServer(workers=1)
    assert "stopped" in repr(srv)
    srv.start()
    assert srv.start() is srv  # idempotent
    data_dir = srv.data_dir
    creds_file = data_dir / "credentials.json"
    assert stat.S_IMODE(creds_file.stat().st_mode) == 0o600
    assert stat.S_IMODE((data_dir / "jwt-secret").stat().st_mode) == 0o600
    creds = json.loads(creds_file.read_text())
    assert creds == {
        "url": srv.url,
        "admin_email": "admin@qpi.local",
        "admin_password": srv.admin_password,
        "user_email": "user@qpi.local",
        "user_password": srv.user_password,
        "api_token": srv.api_token,
    }
    for secret in (srv.api_token, srv.admin_password, srv.user_password):
        assert secret not in repr(srv)
    srv.stop()
    srv.stop()  # idempotent
    assert not data_dir.exists()  # a temporary data dir goes away


def test_stop_leaves_no_workers_behind():
    before = _workers()
    with LocalServer(workers=2) as srv:
        user = session(srv.url, {"X-API-Token": srv.api_token})
        assert user.run(BELL, shots=10)["status"] == "completed"
        assert len(_workers() - before) == 3  # two general workers and one short-lane
    assert _workers() <= before


def test_restart_reuses_credentials_and_recovers_jobs(tmp_path):
    with LocalServer(data_dir=tmp_path, workers=1) as first:
        creds = (first.api_token, first.admin_password, first.user_password)
        admin = _admin(first)
        mock = _mock_id(first)
        assert admin.post("/api/op/qpu/toggle", json={"id": mock, "enabled": False}).ok
        user = session(first.url, {"X-API-Token": first.api_token})
        waiting = user.submit(BELL, qpu_target=mock, shots=20)
        interrupted = user.submit(BELL, qpu_target=mock, shots=30)
    # A crash leaves a job "running" in the database: simulate one.
    with sqlite3.connect(tmp_path / "qpi.sqlite3") as db:
        db.execute("UPDATE quantum_jobs SET status = 'running' WHERE id = ?", (interrupted["id"],))
    with LocalServer(data_dir=tmp_path, workers=1) as second:
        assert (second.api_token, second.admin_password, second.user_password) == creds
        user = session(second.url, {"X-API-Token": second.api_token})
        assert user.get(f"/api/jobs/{interrupted['id']}").json()["status"] == "pending"
        assert _admin(second).post("/api/op/qpu/toggle", json={"id": mock, "enabled": True}).ok
        assert user.wait(waiting["id"])["status"] == "completed"
        assert user.wait(interrupted["id"])["results"]["shots"] == 30
    assert tmp_path.exists()  # a given data dir is kept


def test_same_seed_same_counts():
    circuits = [
        {"circuit": BELL},
        {"circuit": BELL_QASM2, "shots": 100},
        {"circuit": RX, "parameter_values": [[0.3], [1.9]]},
    ]
    runs = []
    for _ in range(2):
        with LocalServer(seed=5, workers=1) as srv:
            user = session(srv.url, {"X-API-Token": srv.api_token})
            aer = user.get("/api/qpus/qiskit_aer").json()["id"]
            mock_job = user.run(circuits, qpu_target=_mock_id(srv), shots=500)
            aer_job = user.run(circuits, qpu_target=aer, shots=500)
            runs.append(
                [
                    e["counts"]
                    for job in (mock_job, aer_job)
                    for e in job["results"]["circuit_results"]
                ]
            )
    assert runs[0] == runs[1]


def test_booking_holder_goes_first_then_keeps_the_qpu_idle(tmp_path):
    with LocalServer(workers=1, idle_threshold=0.6) as srv:
        admin = _admin(srv)
        mock = _mock_id(srv)
        booker_email, password = "booker@example.com", "booker-password"
        record = admin.post(
            "/api/collections/users/records",
            json={
                "email": booker_email,
                "password": password,
                "passwordConfirm": password,
                "qpu_seconds": 100,
            },
        ).json()
        booker = session(srv.url, {"Authorization": login(srv.url, booker_email, password)})
        other = session(srv.url, {"X-API-Token": srv.api_token})
        slot = admin.post(
            "/api/collections/time_slots/records",
            json={
                "start_time": "2000-01-01T00:00:00Z",
                "end_time": "2999-01-01T00:00:00Z",
                "booked_by": record["id"],
            },
        )
        assert slot.status_code == 200, slot.text
        admin.post("/api/op/qpu/toggle", json={"id": mock, "enabled": False})
        early = [other.submit(BELL, qpu_target=mock, shots=5)["id"] for _ in range(2)]
        booked = booker.submit(BELL, qpu_target=mock, shots=5)["id"]
        admin.post("/api/op/qpu/toggle", json={"id": mock, "enabled": True})
        finished = {job_id: _finished_at(booker, other, job_id) for job_id in [*early, booked]}
        first_other = min(finished[j] for j in early)
        assert finished[booked] < first_other
        # The holder's idle grace: others waited about idle_threshold after the booked job.
        gap = _seconds(first_other) - _seconds(finished[booked])
        assert gap >= 0.4


def _finished_at(booker, other, job_id):
    for who in (booker, other):
        answer = who.get(f"/api/jobs/{job_id}")
        if answer.status_code == 200:
            return who.wait(job_id)["finished_at"]
    raise AssertionError(job_id)


def _seconds(stamp: str) -> float:
    from qpi.server.dates import parse_date

    return parse_date(stamp).timestamp()


def test_a_killed_worker_requeues_its_job_then_fails_it_after_three_crashes():
    # A mid-circuit measurement keeps the job on our own (slower) kernel rather than Aer, so it
    # runs long enough for the worker to be killed while it runs.
    heavy = (
        'OPENQASM 3.0;\ninclude "stdgates.inc";\nqubit[22] q;\nbit[22] c;\nc[0] = measure q[0];\n'
        + "".join(f"h q[{i}];\nrx(0.1) q[{i}];\n" for i in range(22)) * 4
        + "c = measure q;\n"
    )
    before = _workers()
    with LocalServer(workers=1) as srv:
        user = session(srv.url, {"X-API-Token": srv.api_token})
        job = user.submit(heavy, qpu_target=_mock_id(srv), shots=10)
        for _attempt in range(3):
            deadline = time.monotonic() + 30
            while user.get(f"/api/jobs/{job['id']}").json()["status"] != "running":
                assert time.monotonic() < deadline
                time.sleep(0.01)
            time.sleep(0.05)
            for pid in _workers() - before:
                os.kill(pid, signal.SIGKILL)
            time.sleep(0.2)
        final = user.wait(job["id"], timeout=60)
        assert final["status"] == "failed"
        assert "crashed 3 times" in final["results"]["error"]
        assert user.run(BELL, shots=5)["status"] == "completed"  # the pool was replaced


def test_start_failure_is_reported(tmp_path):
    from qpi.errors import QPIError

    blocker = tmp_path / "not-a-dir"
    blocker.write_text("x")
    with pytest.raises(QPIError, match="did not start"):
        LocalServer(data_dir=blocker, workers=1).start()


def test_qpi_serve_runs_until_interrupted(tmp_path):
    import subprocess
    import sys

    command = [sys.executable, "-m", "qpi.cli", "serve", "--port", "0", "--data-dir",
               str(tmp_path), "--workers", "1"]  # fmt: skip
    process = subprocess.Popen(
        command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=tmp_path
    )
    try:
        lines = []
        while not lines or "Ctrl-C" not in lines[-1]:
            line = process.stdout.readline()
            assert line, process.stderr.read()
            lines.append(line)
        url = lines[0].split()[-1]
        token = next(line.split()[-1] for line in lines if "API token" in line)
        assert str(tmp_path / "credentials.json") in "".join(lines)
        user = session(url, {"X-API-Token": token})
        assert user.run(BELL, shots=5)["status"] == "completed"
        process.send_signal(signal.SIGINT)
        assert process.wait(30) == 0
        assert "Traceback" not in process.stderr.read()
    finally:
        if process.poll() is None:
            process.kill()
