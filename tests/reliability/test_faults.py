"""The client through a fault-injecting proxy: retries, resumed waits, no duplicate submissions.

``tests/client/test_retries.py`` covers one fault at a time on one call (resets, 502-504, 429,
a lost submission answer). This module adds what it does not: every idempotent call against
every fault kind (stalls longer than the read timeout included), submissions whose answer is
slow or whose request is held up past the client's reconciliation window, a long wait through
a random mix of faults, and many submissions under random faults with the server's job list
as the judge.
"""

from __future__ import annotations

import os
import threading
import uuid
from collections import Counter
from collections.abc import Iterator

import pytest

from qpi import QPIClient
from qpi.transport import RetryPolicy
from tests.faultproxy import FaultProxy, fault_proxy, wait_until
from tests.reliability.helpers import BELL, parked_qpu, report, tagged, wait_for

#: Enough attempts that a 20 % fault rate almost never exhausts them (0.2^8 = 3e-6).
RETRIES = RetryPolicy(attempts=8, backoff=0.01, max_backoff=0.05)
READ_TIMEOUT = 0.5
#: Longer than the read timeout, and than the ~1 s the client spends looking for a lost job.
STALL = 1.6

FAULTS: dict[str, dict] = {
    "reset": {"fault": "reset"},
    "reset-after-answer": {"fault": "reset_after"},
    "502": {"fault": "status", "status": 502},
    "503": {"fault": "status", "status": 503},
    "504": {"fault": "status", "status": 504},
    "429-retry-after": {"fault": "status", "status": 429, "headers": {"Retry-After": "0"}},
    "502-after-answer": {"fault": "status_after", "status": 502},
    "stall-before": {"fault": "stall", "seconds": STALL},
    "stall-answer": {"fault": "stall_after", "seconds": STALL},
}
#: Held up longer than the read timeout plus every look the client takes at its job list
#: (0.5 + about 1.1 s): the client has sent the submission again before this one lands.
HELD_UP = {"fault": "stall", "seconds": 3.0}


@pytest.fixture
def proxy(server) -> Iterator[FaultProxy]:
    with fault_proxy(server.url) as p:
        yield p
        # Held-up requests land late: let them, so the next test starts from a quiet server.
        assert wait_until(lambda: _in_flight(p) == 0, timeout=30)


def _outcomes(proxy: FaultProxy) -> list[str]:
    return [what for _, _, what in list(proxy.seen)]


def _in_flight(proxy: FaultProxy) -> int:
    """Requests held up by a ``stall`` that have not reached the server yet."""
    outcomes = _outcomes(proxy)
    return outcomes.count("stall") - outcomes.count("stalled, then forwarded")


def flaky_client(proxy: FaultProxy, token: str | None, **kwargs) -> QPIClient:
    return QPIClient(
        proxy.url,
        api_token=token,
        cache=False,
        timeout=(5.0, READ_TIMEOUT),
        retry=RETRIES,
        **kwargs,
    )


@pytest.mark.parametrize("fault", list(FAULTS), ids=list(FAULTS))
def test_every_idempotent_call_succeeds_through_the_fault(server, admin, account, proxy, fault):
    user = account()
    parked = parked_qpu(admin)
    direct = user.api
    job_id = direct.submit(BELL, qpu_target=parked, shots=10)["id"]
    token_id = direct.post("/api/tokens", json={"name": "doomed"}).json()["id"]
    calls = {
        "GET /api/qpus": lambda c: {q["name"] for q in c.list_qpus()} >= {"mock"},
        "GET /api/qpus/{id}": lambda c: c.get_qpu("mock")["name"] == "mock",
        "GET /api/jobs/{id}": lambda c: c.get_job(job_id)["status"] == "pending",
        "GET /api/jobs": lambda c: [j["id"] for j in c.list_jobs()] == [job_id],
        "GET /api/tokens": lambda c: token_id in {t["id"] for t in c.list_tokens()},
        "GET /api/collections/time_slots/records": lambda c: isinstance(c.list_time_slots(), list),
        "POST /api/collections/users/auth-with-password": lambda c: bool(
            c.auth_with_password(user.email, user.password)["token"]
        ),
        "POST /api/jobs/{id}/cancel": lambda c: c.cancel_job(job_id)["status"] == "cancelled",
        "DELETE /api/tokens/{id}": lambda c: c.delete_token(token_id) == {"status": "deleted"},
    }
    paths = {
        "GET /api/qpus/{id}": ("GET", "/api/qpus/"),
        "GET /api/jobs/{id}": ("GET", f"/api/jobs/{job_id}"),
        "POST /api/jobs/{id}/cancel": ("POST", f"/api/jobs/{job_id}/cancel"),
        "DELETE /api/tokens/{id}": ("DELETE", f"/api/tokens/{token_id}"),
    }
    with flaky_client(proxy, user.token) as client:
        for name, call in calls.items():
            method, path = paths.get(name, name.split(" ", 1))
            times = 1 if FAULTS[fault]["fault"].startswith("stall") else 2
            proxy.add(method=method, path=path, times=times, **FAULTS[fault])
            assert call(client), name
        with flaky_client(proxy, None) as superuser:
            superuser.auth_with_password(server.admin_email, server.admin_password, superuser=True)
            proxy.add(method="POST", path="/api/op/qpu/toggle", times=2, **FAULTS[fault])
            assert superuser.toggle_qpu(parked, False)["enabled"] is False
    injected = len(proxy.seen) - _outcomes(proxy).count("forwarded")
    assert injected >= len(calls) + 1  # every call met its fault
    # The deleted token is gone and the cancelled job stays cancelled: each was done once.
    assert direct.get(f"/api/tokens/{token_id}").status_code == 404
    assert direct.get(f"/api/jobs/{job_id}").json()["status"] == "cancelled"


@pytest.mark.parametrize(
    "faults",
    [
        ["held-up"],  # lands after the client has sent it again: still one job
        ["stall-answer"],  # accepted, answered too late: adopt it
        ["502-after-answer"],  # a gateway gave up on a server that went on working
        ["503"],
        ["reset", "503", "reset-after-answer"],  # one after another
    ],
    ids=lambda faults: "+".join(faults),
)
def test_a_submission_is_never_duplicated(account, admin, proxy, faults):
    user = account()
    parked = parked_qpu(admin)
    circuit = tagged(BELL)
    chosen = [HELD_UP if name == "held-up" else FAULTS[name] for name in faults]
    rules = [proxy.add(method="POST", path="/api/jobs", **fault) for fault in chosen]
    with flaky_client(proxy, user.token) as client:
        job_id = client.submit_job([{"circuit": circuit}], shots=21, qpu_target=parked)
    assert wait_until(lambda: _in_flight(proxy) == 0, timeout=30)
    jobs = user.api.get("/api/jobs").json()
    assert [job["id"] for job in jobs] == [job_id]
    assert jobs[0]["payload"]["circuits"][0]["circuit"].startswith(circuit)
    assert [rule.times for rule in rules] == [0] * len(faults)  # every fault was met
    if faults == ["held-up"]:  # the client did send it again: the server made one job of two
        assert proxy.count("POST", "/api/jobs", "forwarded") == 1  # the resend
        assert proxy.count("POST", "/api/jobs", "stalled, then forwarded") == 1  # the late one


def test_a_long_wait_survives_a_random_mix_of_faults(server, admin, account, proxy):
    user = account()
    mock = user.api.get("/api/qpus/mock").json()["id"]
    toggle = admin.post("/api/op/qpu/toggle", json={"id": mock, "enabled": False})
    assert toggle.status_code == 200
    try:
        job_id = user.api.submit(tagged(BELL), qpu_target=mock, shots=400)["id"]
        kinds = list(FAULTS)
        proxy.chaos(0.5, [FAULTS[k] for k in kinds], seed=7, path=f"/api/jobs/{job_id}")
        outcome: dict = {}

        def wait() -> None:
            with flaky_client(proxy, user.token) as client:
                try:
                    outcome["record"] = client.wait_for_job(job_id, timeout=180, max_interval=0.1)
                except Exception as exc:  # reported by the assertion below
                    outcome["error"] = exc

        waiter = threading.Thread(target=wait)
        waiter.start()
        # Keep the job pending until the wait has been through every kind of fault.
        wait_for(lambda: len(set(_outcomes(proxy)) & set(_labels(kinds))) == len(kinds), 120)
        polls = proxy.count("GET", f"/api/jobs/{job_id}")
    finally:
        admin.post("/api/op/qpu/toggle", json={"id": mock, "enabled": True})
    waiter.join(180)
    assert not waiter.is_alive()
    assert "error" not in outcome, outcome.get("error")
    record = outcome["record"]
    assert record["id"] == job_id and record["status"] == "completed"
    counts = record["results"]["circuit_results"][0]["counts"]
    assert sum(counts.values()) == 400 and set(counts) <= {"00", "11"}
    report(
        "long wait through random faults",
        polls_while_pending=polls,
        fault_kinds=len(kinds),
        result="completed",
    )


def _labels(kinds: list[str]) -> list[str]:
    labels = {
        "reset": "reset",
        "reset_after": "reset_after",
        "stall": "stall",
        "stall_after": "stall_after",
    }
    out = []
    for kind in kinds:
        fault = FAULTS[kind]
        if fault["fault"] in ("status", "status_after"):
            out.append(f"{fault['fault']} {fault['status']}")
        else:
            out.append(labels[fault["fault"]])
    return out


def submissions_under_random_faults(account, admin, proxy, count: int, seed: int) -> dict:
    """Submit ``count`` distinct jobs one after another through random faults; check the list."""
    user = account()
    parked = parked_qpu(admin)
    faults = list(FAULTS.values())
    proxy.chaos(0.2, faults, seed=seed, method="POST", path="/api/jobs")
    proxy.chaos(0.2, faults[:6], seed=seed + 1, method="GET", path="/api/jobs")
    run = uuid.uuid4().hex[:8]
    returned: dict[int, str] = {}
    with flaky_client(proxy, user.token) as client:
        for i in range(count):
            circuit = tagged(BELL, f"{run}-{i}")
            returned[i] = client.submit_job([{"circuit": circuit}], shots=5, qpu_target=parked)
    proxy.calm()
    assert wait_until(lambda: _in_flight(proxy) == 0, timeout=60)
    jobs = user.api.get("/api/jobs").json()
    on_server: dict[str, int] = {}
    for job in jobs:
        text = job["payload"]["circuits"][0]["circuit"]
        on_server[job["id"]] = int(text.split(f"// {run}-", 1)[1].split("\n", 1)[0])
    duplicated = len(jobs) - len(set(on_server.values()))
    # Every submission made exactly one job, and the id returned is that job.
    assert len(set(returned.values())) == count
    assert {returned[i]: i for i in returned} == on_server
    assert len(jobs) == count and duplicated == 0
    posts = Counter(what for m, p, what in list(proxy.seen) if (m, p) == ("POST", "/api/jobs"))
    injected = sum(n for what, n in posts.items() if what != "forwarded")
    return {
        "submissions": count,
        "server_jobs": len(jobs),
        "duplicated": duplicated,
        "lost": count - len(set(on_server.values())),
        "faults_on_submit": injected,
        "post_attempts": sum(posts.values()),
        "fault_rate": 0.2,
        "seed": seed,
    }


def test_submissions_under_random_faults_are_never_duplicated(account, admin, proxy):
    figures = submissions_under_random_faults(account, admin, proxy, count=40, seed=11)
    assert figures["faults_on_submit"] >= 5  # the seed does inject faults
    report("submissions under random faults", **figures)


@pytest.mark.slow
def test_five_hundred_submissions_under_random_faults(account, admin, proxy):
    count = int(os.environ.get("QPI_FAULT_SUBMISSIONS", "500"))
    figures = submissions_under_random_faults(account, admin, proxy, count=count, seed=2026)
    report("submissions under random faults", **figures)


def test_the_server_makes_one_job_of_a_resent_submission(account, admin):
    """What the held-up case relies on: a submission tag names one job, per user."""
    user, other = account(), account()
    parked = parked_qpu(admin)
    tag = "\n// qpi:submission " + uuid.uuid4().hex + "\n"
    body = {"circuits": [{"circuit": BELL + tag}], "shots": 7, "qpu_target": parked}
    first = user.api.post("/api/jobs", json=body)
    again = user.api.post("/api/jobs", json=body)
    assert first.status_code == again.status_code == 201
    assert again.json()["id"] == first.json()["id"]
    # Another user's tag is theirs: no job crosses users.
    theirs = other.api.post("/api/jobs", json=body)
    assert theirs.status_code == 201 and theirs.json()["id"] != first.json()["id"]
    # The same tag on another payload is a client bug, refused with a QPI error body.
    clash = user.api.post("/api/jobs", json={**body, "shots": 8})
    assert clash.status_code == 409 and clash.json()["status"] == 409
    # Untagged submissions are never merged: sending the same job twice runs it twice.
    plain = {**body, "circuits": [{"circuit": BELL}]}
    ids = {user.api.post("/api/jobs", json=plain).json()["id"] for _ in range(2)}
    assert len(ids) == 2
    assert len(user.api.get("/api/jobs").json()) == 3
