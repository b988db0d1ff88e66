"""Issue 16, item 4: orphans. Workers die with their server, and a restart charges once.

``qpi serve`` is killed with ``SIGKILL`` on its own pid only (never its process group, which
would hide orphans): its fork server and workers must end by themselves within
``ORPHAN_GRACE`` seconds, even mid-simulation. The job they were running runs again after a
restart, and is charged once: a job is charged only in the transaction that stores its result,
and the killed run stored nothing.
"""

from __future__ import annotations

import json
import os
import signal
import sys
import time

import pytest

from tests.reliability.helpers import ORPHAN_GRACE, Serve, process_group, wait_for
from tests.reliability.test_bombs import WHILE_FOREVER
from tests.reliability.test_crash_recovery import ROW_VALUES, SHOTS, slow_circuit
from tests.server.helpers import admin_session, session

#: The default user's QPU seconds on a fresh data dir (``ServerConfig.default_user_seconds``).
START_BALANCE = 1_000_000.0
#: Parameter rows of the interrupted job: enough to be mid-simulation when the server dies.
ROWS = 4

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc"),
]


def running(user, job_id: str) -> bool:
    return user.get(f"/api/jobs/{job_id}").json()["status"] == "running"


def test_workers_die_with_a_killed_server_mid_simulation(tmp_path):
    serve = Serve(tmp_path / "data", extra=("--workers", "1")).wait_ready()
    try:
        user = session(serve.url, {"X-API-Token": serve.token})
        aer = user.get("/api/qpus/qiskit_aer").json()["id"]
        job = user.submit(WHILE_FOREVER, qpu_target=aer, shots=1)
        wait_for(lambda: running(user, job["id"]), timeout=60)
        helpers = [pid for pid in process_group(serve.proc.pid) if pid != serve.proc.pid]
        assert len(helpers) >= 3  # the fork server, a general and a short-lane worker
        os.kill(serve.proc.pid, signal.SIGKILL)  # the server only, not its group
        serve.proc.wait(30)
        assert serve.group_members(wait=ORPHAN_GRACE) == []
    finally:
        serve.kill()


def test_a_job_interrupted_by_a_kill_runs_again_and_is_charged_once(tmp_path):
    data = tmp_path / "data"
    first = Serve(data, extra=("--workers", "1", "--seed", "4")).wait_ready()
    try:
        user = session(first.url, {"X-API-Token": first.token})
        mock = user.get("/api/qpus/mock").json()["id"]
        circuit = [{"circuit": slow_circuit("orphan"), "parameter_values": ROW_VALUES[:ROWS]}]
        job = user.submit(circuit, qpu_target=mock, shots=SHOTS)
        wait_for(lambda: running(user, job["id"]), timeout=60)
        time.sleep(0.5)  # mid-simulation
    finally:
        first.kill()  # asserts that nothing was left behind
    again = Serve(data, port=first.port, extra=("--workers", "1", "--seed", "4")).wait_ready()
    try:
        credentials = json.loads((data / "credentials.json").read_text())
        admin = admin_session(again.url, credentials["admin_email"], credentials["admin_password"])
        user = session(again.url, {"X-API-Token": again.token})
        final = user.wait(job["id"], timeout=120)
        assert final["status"] == "completed", final["results"]
        assert len(final["results"]["circuit_results"]) == ROWS
        mine = {"filter": "email='user@qpi.local'"}
        me = admin.get("/api/collections/users/records", params=mine)
        balance = me.json()["items"][0]["qpu_seconds"]
        # Charged once, for the run that finished: the killed run was never charged.
        assert START_BALANCE - balance == pytest.approx(final["duration"], abs=1e-6)
    finally:
        again.kill()
