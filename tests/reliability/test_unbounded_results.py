"""Issue 16 item 3, unbounded results: results are capped, lists leave them out, responses
are bounded.

Before: a 24-qubit, 10^6-shot job stored 28 MB per circuit and one ``GET /api/jobs`` of four
such jobs answered 141 MB in 17 s. The same attack at small sizes: a server whose caps are a
few kilobytes, and jobs whose results are larger.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from qpi.server import LocalServer, ServerConfig
from qpi.server.results import REAL_SERVER_CAP
from tests.server.helpers import Session, error, session

RESULT_CAP = 4096
RESPONSE_CAP = 64 * 1024
#: Ten qubits in uniform superposition: 2,000 shots give ~870 distinct 10-bit keys (~15 kB).
WIDE = 'OPENQASM 3.0;\ninclude "stdgates.inc";\nbit[10] c;\nqubit[10] q;\nh q;\nc = measure q;\n'
NARROW = 'OPENQASM 3.0;\ninclude "stdgates.inc";\nbit[1] c;\nqubit[1] q;\nc[0] = measure q[0];\n'


@pytest.fixture(scope="module")
def server() -> Iterator[LocalServer]:
    with LocalServer(seed=3, max_result_bytes=RESULT_CAP, max_response_bytes=RESPONSE_CAP) as srv:
        yield srv


@pytest.fixture(scope="module")
def user(server: LocalServer) -> Session:
    return session(server.url, {"X-API-Token": server.api_token})


def test_the_default_cap_is_the_real_servers():
    assert ServerConfig().max_result_bytes == REAL_SERVER_CAP == 1024 * 1024


def test_results_over_the_cap_fail_the_job_and_say_so(user):
    job = user.run(WIDE, shots=2000)
    assert job["status"] == "failed"
    message = job["results"]["error"]
    assert "4 KiB" in message and "1 MiB" in message and "real QPI server" in message
    assert "fewer shots" in message
    assert len(user.get(f"/api/jobs/{job['id']}").content) < 2 * RESULT_CAP


def test_results_under_the_cap_are_kept(user):
    job = user.run(NARROW, shots=100)
    assert job["status"] == "completed"
    assert job["results"]["circuit_results"][0]["counts"] == {"0": 100}


def test_lists_leave_results_out_unless_asked(user):
    done = user.run(NARROW, shots=10)
    listed = user.get("/api/jobs").json()
    assert listed and all("results" not in job for job in listed)
    asked = user.get("/api/jobs", params={"fields": "id,results"}).json()
    asked = {job["id"]: job for job in asked}
    assert asked[done["id"]]["results"] == done["results"]


def test_a_list_over_the_response_limit_is_refused_with_how_to_ask_for_less(user):
    # Payloads of ~20 kB each: four of them exceed the 64 kB response limit.
    big = NARROW + "// " + "x" * 20_000 + "\n"
    for _ in range(4):
        user.submit(big, shots=1)
    body = error(user.get("/api/jobs"), 400)
    assert "64 KiB" in body["message"]
    assert "limit=" in body["message"] and "fields=" in body["message"]
    small = user.get("/api/jobs", params={"fields": "id,status"})
    assert small.status_code == 200 and len(small.content) < RESPONSE_CAP
    page = user.get("/api/jobs", params={"limit": 2})
    assert page.status_code == 200 and len(page.json()) == 2


def test_the_records_list_is_bounded_too(server, user):
    from tests.server.helpers import admin_session

    admin = admin_session(server.url, server.admin_email, server.admin_password)
    path = "/api/collections/quantum_jobs/records"
    error(admin.get(path, params={"perPage": 100}), 400)
    page = admin.get(path, params={"perPage": 100, "fields": "id,status"})
    assert page.status_code == 200 and len(page.content) < RESPONSE_CAP
