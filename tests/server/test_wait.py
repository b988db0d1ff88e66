"""``GET /api/jobs/{id}?wait=S``: the answer comes as soon as the job is final, or after S.

Jobs are parked on a QPU that is offline (created disabled through the records API), so they
stay pending until the test finishes them: by a cancel, by an admin's PATCH, or not at all.
That makes every timing here a property of the server, not of the simulator's speed.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from typing import Any

import pytest

from qpi.server import LocalServer
from qpi.server.completion import MAX_WAIT_SECONDS
from tests.server.helpers import BELL, Session, admin_session, error, session

#: Generous bound on "at once" for a loaded 2-core machine (the wait itself is the point).
PROMPT = 1.0


@pytest.fixture(scope="module")
def server() -> Iterator[LocalServer]:
    with LocalServer(seed=5) as srv:
        yield srv


@pytest.fixture(scope="module")
def admin(server: LocalServer) -> Session:
    return admin_session(server.url, server.admin_email, server.admin_password)


@pytest.fixture(scope="module")
def user(server: LocalServer) -> Session:
    return session(server.url, {"X-API-Token": server.api_token})


@pytest.fixture(scope="module")
def parked(admin: Session) -> str:
    """The id of an offline QPU: jobs sent to it stay pending."""
    answer = admin.post("/api/collections/qpus/records", json={"name": "parked", "num_qubits": 4})
    assert answer.status_code == 200, answer.text
    return answer.json()["id"]


class Waiter(threading.Thread):
    """A ``GET ?wait=`` in the background, timed."""

    def __init__(self, user: Session, job_id: str, wait: float, fields: str = "") -> None:
        super().__init__(daemon=True)
        self.user, self.job_id, self.wait = user, job_id, wait
        self.params: dict[str, Any] = {"wait": wait, **({"fields": fields} if fields else {})}
        self.answer: Any = None
        self.returned = 0.0

    def run(self) -> None:
        http = session(self.user.url, dict(self.user.http.headers))  # its own connection
        self.answer = http.get(f"/api/jobs/{self.job_id}", params=self.params, timeout=120)
        self.returned = time.monotonic()


def test_health_advertises_the_wait(user):
    assert user.get("/api/health").json()["data"]["jobWait"] == MAX_WAIT_SECONDS


def test_a_wait_ends_when_the_job_is_cancelled(user, parked):
    job = user.submit(BELL, qpu_target=parked)
    waiter = Waiter(user, job["id"], 30, fields="id,status")
    waiter.start()
    time.sleep(0.5)
    assert waiter.is_alive()  # still waiting: the job is pending
    cancelled = time.monotonic()
    assert user.post(f"/api/jobs/{job['id']}/cancel").status_code == 200
    waiter.join(10)
    assert waiter.answer.status_code == 200
    assert waiter.answer.json() == {"id": job["id"], "status": "cancelled"}
    assert waiter.returned - cancelled < PROMPT


def test_a_wait_ends_when_an_admin_finishes_the_job(user, admin, parked):
    job = user.submit(BELL, qpu_target=parked)
    waiter = Waiter(user, job["id"], 30)
    waiter.start()
    time.sleep(0.3)
    results = {"circuit_results": [{"counts": {"00": 3, "11": 1}, "shots": 4}]}
    finished = time.monotonic()
    patched = admin.patch(
        f"/api/collections/quantum_jobs/records/{job['id']}",
        json={"status": "completed", "results": results},
    )
    assert patched.status_code == 200, patched.text
    waiter.join(10)
    record = waiter.answer.json()
    assert record["status"] == "completed" and record["results"] == results
    assert waiter.returned - finished < PROMPT


def test_a_wait_answers_the_pending_job_when_its_time_is_up(user, parked):
    job = user.submit(BELL, qpu_target=parked)
    began = time.monotonic()
    answer = user.get(f"/api/jobs/{job['id']}", params={"wait": 0.6, "fields": "status"})
    took = time.monotonic() - began
    assert answer.json() == {"status": "pending"}
    assert 0.6 <= took < 0.6 + PROMPT


def test_a_finished_job_is_answered_without_waiting(user, mock_id):
    job = user.run(BELL, shots=16, qpu_target=mock_id)
    began = time.monotonic()
    again = user.get(f"/api/jobs/{job['id']}", params={"wait": 30}).json()
    assert again == job
    assert time.monotonic() - began < PROMPT


def test_a_running_job_is_answered_when_it_completes(user, mock_id):
    job = user.submit(BELL, shots=16, qpu_target=mock_id)
    record = user.get(f"/api/jobs/{job['id']}", params={"wait": 30}).json()
    assert record["status"] == "completed"
    assert sum(record["results"]["circuit_results"][0]["counts"].values()) == 16


@pytest.fixture(scope="module")
def mock_id(user: Session) -> str:
    return next(q["id"] for q in user.get("/api/qpus").json() if q["name"] == "mock")


@pytest.mark.parametrize("value", ["abc", "-1", "nan", "inf"])
def test_a_bad_wait_is_a_400(user, parked, value):
    job = user.submit(BELL, qpu_target=parked)
    body = error(user.get(f"/api/jobs/{job['id']}", params={"wait": value}), 400)
    assert "wait" in body["message"]


def test_a_wait_on_someone_elses_job_is_a_404_at_once(server, admin, user, parked):
    job = user.submit(BELL, qpu_target=parked)
    began = time.monotonic()
    error(admin.get(f"/api/jobs/{job['id']}", params={"wait": 30}), 404, "Job not found.")
    assert time.monotonic() - began < PROMPT


def test_stopping_the_server_ends_the_waits_at_once():
    with LocalServer(seed=6) as srv:
        admin = admin_session(srv.url, srv.admin_email, srv.admin_password)
        parked = admin.post("/api/collections/qpus/records", json={"name": "p"}).json()["id"]
        user = session(srv.url, {"X-API-Token": srv.api_token})
        job = user.submit(BELL, qpu_target=parked)
        waiter = Waiter(user, job["id"], 60)
        waiter.start()
        time.sleep(0.3)
        began = time.monotonic()
        srv.stop()
        stopped = time.monotonic() - began
    waiter.join(10)
    assert stopped < 4.0  # not the 60 s of the wait, nor uvicorn's 5 s graceful timeout
    assert waiter.answer is not None and waiter.answer.json()["status"] == "pending"


def test_a_server_that_does_not_offer_the_wait_answers_at_once():
    with LocalServer(seed=7, offer_wait=False) as srv:
        admin = admin_session(srv.url, srv.admin_email, srv.admin_password)
        parked = admin.post("/api/collections/qpus/records", json={"name": "p"}).json()["id"]
        user = session(srv.url, {"X-API-Token": srv.api_token})
        assert user.get("/api/health").json()["data"] == {}  # as a real server's
        job = user.submit(BELL, qpu_target=parked)
        began = time.monotonic()
        answer = user.get(f"/api/jobs/{job['id']}", params={"wait": 5, "fields": "status"})
        assert answer.json() == {"status": "pending"}
        assert time.monotonic() - began < PROMPT
