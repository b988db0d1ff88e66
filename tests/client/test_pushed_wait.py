"""The client waits with the server's ``?wait=`` long-poll where offered, and polls elsewhere.

Jobs are parked on an offline QPU and finished by a cancel from another thread, so the
moment a job becomes final is known, whatever the simulator's speed.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator

import pytest

from qpi import errors
from qpi.server import LocalServer
from tests.server.helpers import BELL, admin_session

#: Generous bound on "at once" for a loaded 2-core machine (polling would take its interval).
PROMPT = 1.0


def _parked(server: LocalServer) -> str:
    admin = admin_session(server.url, server.admin_email, server.admin_password)
    answer = admin.post("/api/collections/qpus/records", json={"name": "parked"})
    assert answer.status_code == 200, answer.text
    return answer.json()["id"]


@pytest.fixture(scope="module", params=[True, False], ids=["pushed", "polled"])
def served(request: pytest.FixtureRequest) -> Iterator[tuple[LocalServer, str, bool]]:
    with LocalServer(seed=4, offer_wait=request.param) as server:
        yield server, _parked(server), request.param


def _cancel_later(client, job_id: str, seconds: float) -> list[float]:
    when: list[float] = []

    def cancel() -> None:
        time.sleep(seconds)
        when.append(time.monotonic())
        client.cancel_job(job_id)

    threading.Thread(target=cancel, daemon=True).start()
    return when


def test_wait_for_job_returns_when_the_job_ends(served):
    server, parked, pushed = served
    with server.client(cache=False) as client, server.client(cache=False) as other:
        job_id = client.submit_job([{"circuit": BELL}], shots=10, qpu_target=parked)
        answers: list[str] = []
        cancelled = _cancel_later(other, job_id, 1.5)
        with pytest.raises(errors.JobCancelledError):
            client.wait_for_job(
                job_id, timeout=60, callback=lambda r, _: answers.append(r["status"])
            )
        returned = time.monotonic()
    assert answers[-1] == "cancelled"
    if pushed:
        # One long-poll held across the whole wait: answered the moment the job ended.
        assert returned - cancelled[0] < PROMPT
        assert len(answers) <= 2, answers
    else:
        assert len(answers) >= 3, answers  # polled: several answers while it was pending


def test_wait_for_job_times_out_on_time(served):
    server, parked, _ = served
    with server.client(cache=False) as client:
        job_id = client.submit_job([{"circuit": BELL}], shots=10, qpu_target=parked)
        began = time.monotonic()
        with pytest.raises(errors.JobTimeoutError):
            client.wait_for_job(job_id, timeout=0.8)
        took = time.monotonic() - began
    assert 0.8 <= took < 0.8 + PROMPT


def test_a_finished_job_comes_back_with_its_results(served):
    server, _, _ = served
    with server.client(cache=False) as client:
        target = client.resolve_qpu("mock")
        job_id = client.submit_job([{"circuit": BELL}], shots=32, qpu_target=target)
        record = client.wait_for_job(job_id, timeout=60)
    assert record["status"] == "completed"
    assert sum(record["results"]["circuit_results"][0]["counts"].values()) == 32
