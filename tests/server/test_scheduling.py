"""Scheduling: short jobs pass long ones, users share fairly, limits and cancels free workers.

Long jobs here are endless (a ``while`` loop on a measurement that always reads 1, on the
``qiskit_aer`` QPU), so the tests never depend on how fast the machine is: a job either got a
worker or it did not.
"""

from __future__ import annotations

import time
from collections.abc import Iterator

import pytest

from qpi.server import LocalServer
from tests.server.helpers import BELL, Session, admin_session, make_account

ENDLESS = (
    'OPENQASM 3.0;\ninclude "stdgates.inc";\nqubit[1] q;\nbit[1] c;\nx q[0];\n'
    "c[0] = measure q[0];\nwhile (c == 1) { c[0] = measure q[0]; }\n"
)


def status(user: Session, job_id: str) -> str:
    return user.get(f"/api/jobs/{job_id}").json()["status"]


def wait_status(user: Session, job_id: str, wanted: str, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while status(user, job_id) != wanted:
        assert time.monotonic() < deadline, f"job {job_id} never became {wanted}"
        time.sleep(0.01)


@pytest.fixture(scope="module")
def server() -> Iterator[LocalServer]:
    # Two general workers, one short-lane worker; jobs on qiskit_aer end after 20 s at most.
    with LocalServer(seed=3, workers=2, time_limits={"qiskit_aer": 20.0}) as srv:
        yield srv


@pytest.fixture(scope="module")
def admin(server: LocalServer) -> Session:
    return admin_session(server.url, server.admin_email, server.admin_password)


@pytest.fixture()
def user(server: LocalServer, admin: Session) -> Session:
    return make_account(server.url, admin).api


def aer_id(user: Session) -> str:
    return user.get("/api/qpus/qiskit_aer").json()["id"]


def test_a_short_job_completes_while_long_ones_hold_every_general_worker(user):
    long_jobs = [user.submit(ENDLESS + f"// {k}\n", qpu_target=aer_id(user))["id"] for k in (1, 2)]
    try:
        for job_id in long_jobs:
            wait_status(user, job_id, "running")
        bell = user.run(BELL, shots=100)
        assert bell["status"] == "completed"
        assert [status(user, job_id) for job_id in long_jobs] == ["running", "running"]
    finally:
        for job_id in long_jobs:
            user.post(f"/api/jobs/{job_id}/cancel")


def test_a_long_job_never_takes_the_short_lane(user):
    jobs = [
        user.submit(ENDLESS + f"// lane {k}\n", qpu_target=aer_id(user))["id"] for k in range(3)
    ]
    try:
        wait_status(user, jobs[0], "running")
        wait_status(user, jobs[1], "running")
        time.sleep(0.5)
        assert status(user, jobs[2]) == "pending"  # the short-lane worker stays free
    finally:
        for job_id in jobs:
            user.post(f"/api/jobs/{job_id}/cancel")


def test_users_share_the_workers_fairly(server, admin):
    alice, bob = make_account(server.url, admin).api, make_account(server.url, admin).api
    target = aer_id(alice)
    first = [alice.submit(ENDLESS + f"// alice {k}\n", qpu_target=target)["id"] for k in range(3)]
    try:
        wait_status(alice, first[0], "running")
        wait_status(alice, first[1], "running")
        later = bob.submit(ENDLESS + "// bob\n", qpu_target=target)["id"]
        alice.post(f"/api/jobs/{first[0]}/cancel")
        # Alice still runs one job, Bob none: Bob's job goes before Alice's older one.
        wait_status(bob, later, "running")
        assert status(alice, first[2]) == "pending"
        bob.post(f"/api/jobs/{later}/cancel")
    finally:
        for job_id in first:
            alice.post(f"/api/jobs/{job_id}/cancel")


def test_cancelling_a_running_job_ends_its_worker_process(user):
    job = user.submit(ENDLESS + "// cancel\n", qpu_target=aer_id(user))["id"]
    wait_status(user, job, "running")
    assert user.post(f"/api/jobs/{job}/cancel").status_code == 200
    assert user.wait(job)["status"] == "cancelled"
    # The freed worker takes the next long job at once (the other general worker is free too).
    others = [
        user.submit(ENDLESS + f"// after {k}\n", qpu_target=aer_id(user))["id"] for k in (1, 2)
    ]
    try:
        for job_id in others:
            wait_status(user, job_id, "running", timeout=10)
    finally:
        for job_id in others:
            user.post(f"/api/jobs/{job_id}/cancel")


@pytest.mark.slow
def test_the_time_limit_is_per_qpu(user):
    started = time.monotonic()
    job = user.submit(ENDLESS + "// limit\n", qpu_target=aer_id(user))["id"]
    final = user.wait(job, timeout=60)
    assert final["status"] == "failed"
    assert "time limit of 20 s of QPU 'qiskit_aer'" in final["results"]["error"]
    assert 20 <= time.monotonic() - started < 45
