"""``LocalServer(strict=True)``: the behaviour of a real QPI v0.1.2 installation, over HTTP.

Every expectation here is a fact about the real server or driver (sopherapps/qpi v0.1.2:
``qpi-ui/internal/api``, ``internal/db/models.go``, ``internal/scheduler``,
``qpi-driver/py/qpi_driver/executors``), as summarised in ``shared/reference``. Each test
checks one row of the deviation table in ``docs/local-orchestrator.md``
(``tests/test_strict_docs.py`` checks that every row names its test here).
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator

import pytest

from qpi.server import LocalServer
from tests.server.helpers import BELL, Session, error, login, session

X_QASM3 = (
    'OPENQASM 3.0;\ninclude "stdgates.inc";\nbit[3] c;\nqubit[3] q;\nx q[0];\nc = measure q;\n'
)
TWO_REGISTERS = (
    'OPENQASM 3.0;\ninclude "stdgates.inc";\nbit[1] a;\nbit[1] b;\nqubit[2] q;\n'
    "x q[0];\na[0] = measure q[0];\nb[0] = measure q[1];\n"
)
SX_QASM2 = (
    'OPENQASM 2.0;\ninclude "qelib1.inc";\nqreg q[1];\ncreg c[1];\nsx q[0];\nmeasure q -> c;\n'
)
H_QASM2 = 'OPENQASM 2.0;\ninclude "qelib1.inc";\nqreg q[1];\ncreg c[1];\nx q[0];\nmeasure q -> c;\n'
NO_CLBITS = 'OPENQASM 3.0;\ninclude "stdgates.inc";\nqubit[1] q;\nh q[0];\n'


@pytest.fixture(scope="module")
def strict() -> Iterator[LocalServer]:
    with LocalServer(seed=5, strict=True, job_timeout=1.0, recovery_interval=0.2) as srv:
        yield srv


@pytest.fixture(scope="module")
def token_user(strict: LocalServer) -> Session:
    return session(strict.url, {"X-API-Token": strict.api_token})


@pytest.fixture(scope="module")
def jwt_user(strict: LocalServer) -> Session:
    token = login(strict.url, strict.user_email, strict.user_password)
    return session(strict.url, {"Authorization": token})


@pytest.fixture(scope="module")
def admin(strict: LocalServer) -> Session:
    token = login(strict.url, strict.admin_email, strict.admin_password, "_superusers")
    return session(strict.url, {"Authorization": f"Bearer {token}"})


@pytest.fixture(scope="module")
def qpu_ids(strict: LocalServer) -> dict[str, str]:
    return {q["name"]: q["id"] for q in session(strict.url).get("/api/qpus").json()}


def _record(jwt_user: Session, job_id: str, timeout: float = 30.0) -> dict:
    """The job through the records route (the true results), once it is final."""
    deadline = time.monotonic() + timeout
    while True:
        record = jwt_user.get(f"/api/collections/quantum_jobs/records/{job_id}").json()
        if record["status"] in ("completed", "failed", "cancelled") or time.monotonic() > deadline:
            return record
        time.sleep(0.05)


def _submit(user: Session, circuit: str, target: str, **fields) -> str:
    answer = user.post(
        "/api/jobs", json={"circuits": [{"circuit": circuit}], "qpu_target": target, **fields}
    )
    assert answer.status_code == 201, answer.text
    return answer.json()["id"]


def test_job_routes_return_the_payload_as_results(token_user, jwt_user, qpu_ids):
    answer = token_user.post(
        "/api/jobs",
        json={"circuits": [{"circuit": BELL}], "shots": 50, "qpu_target": qpu_ids["mock"]},
    ).json()
    assert answer["results"] == answer["payload"]
    record = _record(jwt_user, answer["id"])
    assert record["status"] == "completed"
    assert sum(record["results"]["counts"].values()) == 50
    for job in (
        token_user.get(f"/api/jobs/{answer['id']}").json(),
        token_user.get("/api/jobs").json()[0],
    ):
        assert job["status"] == "completed"
        assert job["results"] == job["payload"]


def test_api_tokens_are_anonymous_on_pocketbase_routes(token_user, jwt_user, strict):
    job_id = (
        token_user.get("/api/jobs").json()[0]["id"] if token_user.get("/api/jobs").json() else None
    )
    listing = token_user.get("/api/collections/quantum_jobs/records")
    assert listing.status_code == 200 and listing.json()["items"] == []
    as_bearer = session(strict.url, {"Authorization": f"Bearer {strict.api_token}"})
    assert as_bearer.get("/api/collections/quantum_jobs/records").json()["items"] == []
    assert as_bearer.get("/api/jobs").status_code == 200  # custom routes still take it
    if job_id is not None:
        error(token_user.get(f"/api/collections/quantum_jobs/records/{job_id}"), 404)
        assert jwt_user.get(f"/api/collections/quantum_jobs/records/{job_id}").status_code == 200
    assert jwt_user.get("/api/collections/quantum_jobs/records").json()["totalItems"] >= 0


def test_qpus_are_found_by_record_id_only(token_user, admin, qpu_ids):
    error(token_user.get("/api/qpus/mock"), 404, "QPU not found.")
    assert token_user.get(f"/api/qpus/{qpu_ids['mock']}").json()["name"] == "mock"
    error(admin.post("/api/op/qpu/toggle", json={"id": "mock", "enabled": True}), 404)


def test_qpus_have_zero_qubits_when_not_given(admin, token_user):
    assert {q["num_qubits"] for q in token_user.get("/api/qpus").json()} == {0}
    assert all("default" not in q for q in token_user.get("/api/qpus").json())
    created = admin.post("/api/op/qpus/create", json={"name": "dev", "executor_type": "x"})
    assert created.status_code == 201
    assert set(created.json()) == {"id", "name", "status", "enabled"}
    assert admin.get(f"/api/qpus/{created.json()['id']}").json()["num_qubits"] == 0
    error(admin.post("/api/op/qpus/connect", json={"name": "dev", "access_token": "x"}), 404)


def test_untargeted_job_is_never_dispatched(token_user, jwt_user, qpu_ids):
    untargeted = token_user.post("/api/jobs", json={"circuits": [{"circuit": BELL}]}).json()["id"]
    later = _submit(token_user, BELL, qpu_ids["mock"])
    assert _record(jwt_user, later)["status"] == "completed"
    time.sleep(0.3)
    assert token_user.get(f"/api/jobs/{untargeted}").json()["status"] == "pending"


def test_no_wait_extension(token_user):
    assert "jobWait" not in (token_user.get("/api/health").json().get("data") or {})
    job_id = token_user.post("/api/jobs", json={"circuits": [{"circuit": BELL}]}).json()["id"]
    start = time.monotonic()
    assert token_user.get(f"/api/jobs/{job_id}?wait=5").json()["status"] == "pending"
    assert time.monotonic() - start < 2.5  # answered at once, not held for 5 s


def test_unknown_target_and_bad_sort_are_500s(token_user):
    body = {"circuits": [{"circuit": BELL}], "qpu_target": "mock"}
    data = error(token_user.post("/api/jobs", json=body), 500, "Failed to save job.")["data"]
    assert data["qpu_target"]["code"] == "validation_missing_rel_records"
    error(token_user.get("/api/jobs?sort=bogus"), 500, "Failed to query jobs.")
    error(token_user.get("/api/tokens?sort=bogus"), 500, "Failed to query tokens.")
    error(token_user.get("/api/qpus?sort=bogus"), 500, "Failed to query QPUs.")


def test_bodies_are_bound_by_content_type(token_user, strict, qpu_ids):
    body = json.dumps({"circuits": [{"circuit": BELL}], "qpu_target": qpu_ids["mock"]})
    for headers in ({}, {"Content-Type": "text/plain"}):
        answer = token_user.post("/api/jobs", data=body, headers=headers)
        error(answer, 400, "Invalid request body.")
    form = token_user.post("/api/jobs", data={"circuits": BELL, "qpu_target": qpu_ids["mock"]})
    error(form, 400, "Invalid request body.")
    # A flat form binds, as PocketBase binds it.
    logged = session(strict.url).post(
        "/api/collections/users/auth-with-password",
        data={"identity": strict.user_email, "password": strict.user_password},
    )
    assert logged.status_code == 200 and logged.json()["token"]
    error(
        session(strict.url).post("/api/collections/users/auth-with-password", data=b"{}"),
        400,
        "An error occurred while loading the submitted data.",
    )


def test_counts_carry_all_keys(token_user, jwt_user, qpu_ids):
    record = _record(jwt_user, _submit(token_user, X_QASM3, qpu_ids["mock"], shots=20))
    counts = record["results"]["circuit_results"][0]["counts"]
    assert counts == {format(i, "03b"): (20 if i == 1 else 0) for i in range(8)}


@pytest.mark.parametrize(
    ("circuit", "qpu", "message"),
    [
        (TWO_REGISTERS, "mock", "could not convert string to float: ' '"),
        (SX_QASM2, "mock", "Failed to parse QASM circuit: "),
        (NO_CLBITS, "qiskit_aer", "QiskitError: job execution failed, see driver logs for details"),
    ],
)
def test_the_real_driver_failures(token_user, jwt_user, qpu_ids, circuit, qpu, message):
    record = _record(jwt_user, _submit(token_user, circuit, qpu_ids[qpu], shots=10))
    assert record["status"] == "failed"
    assert record["results"]["error"].startswith(message)


def test_what_the_driver_runs(token_user, jwt_user, qpu_ids):
    two = _record(jwt_user, _submit(token_user, H_QASM2, qpu_ids["mock"], shots=10))
    assert two["results"]["counts"] == {"0": 0, "1": 10}
    raw = _record(jwt_user, _submit(token_user, NO_CLBITS, qpu_ids["mock"], shots=10))
    assert raw["status"] == "completed"
    assert raw["results"]["circuit_results"][0]["shots"] == 0
    assert "raw" in raw["results"]["circuit_results"][0]


def test_payload_over_one_mib_fails_to_save(token_user, qpu_ids):
    rows = [[0.123456789012345] * 1000 for _ in range(80)]  # about 1.5 MiB as JSON
    circuit = {"circuit": BELL, "parameter_values": rows}
    answer = token_user.post(
        "/api/jobs", json={"circuits": [circuit], "qpu_target": qpu_ids["mock"]}
    )
    data = error(answer, 500, "Failed to save job.")["data"]
    assert data["payload"]["code"] == "validation_json_size_limit"


def test_results_over_one_mib_are_never_saved(token_user, jwt_user, qpu_ids):
    wide = (
        'OPENQASM 3.0;\ninclude "stdgates.inc";\nbit[17] c;\nqubit[17] q;\n'
        + "".join(f"h q[{i}];\n" for i in range(17))
        + "c = measure q;\n"
    )
    job_id = _submit(token_user, wide, qpu_ids["mock"], shots=10)
    time.sleep(3.0)  # ample for 17 qubits x 10 shots; the result is thrown away
    record = jwt_user.get(f"/api/collections/quantum_jobs/records/{job_id}").json()
    assert record["status"] in ("running", "pending")
    assert record["results"] is None
    token_user.post(f"/api/jobs/{job_id}/cancel")


def test_recovery_loop_requeues_running_jobs(admin, token_user):
    # As the real e2e suite does: an admin marks a job running with no QPU to run it.
    job_id = token_user.post("/api/jobs", json={"circuits": [{"circuit": BELL}]}).json()["id"]
    patched = admin.patch(
        f"/api/collections/quantum_jobs/records/{job_id}", json={"status": "running"}
    )
    assert patched.status_code == 200, patched.text
    time.sleep(0.3)
    assert token_user.get(f"/api/jobs/{job_id}").json()["status"] == "running"  # not yet
    deadline = time.monotonic() + 10
    while token_user.get(f"/api/jobs/{job_id}").json()["status"] != "pending":
        assert time.monotonic() < deadline
        time.sleep(0.1)


def test_bodies_up_to_32_mib_are_read(token_user):
    # Bigger than the friendly mode's 1 MiB body cap: PocketBase reads up to 32 MiB, and only
    # then does the 1 MiB JSON field cap refuse the payload (500, above).
    padding = " " * (2 * 1024 * 1024)
    answer = token_user.post(
        "/api/jobs",
        data=b'{"circuits": []' + padding.encode() + b"}",
        headers={"Content-Type": "application/json"},
    )
    error(answer, 400, "Invalid request body.")


def test_a_disabled_qpu_still_gets_its_jobs(admin, token_user, jwt_user, qpu_ids):
    # Last in this module: the QPU stays offline afterwards, as on the real server.
    aer = qpu_ids["qiskit_aer"]
    toggled = admin.post("/api/op/qpu/toggle", json={"id": aer, "enabled": False}).json()
    assert toggled["status"] == "offline"
    assert aer not in {q["id"] for q in token_user.get("/api/qpus").json()}
    record = _record(jwt_user, _submit(token_user, BELL, aer, shots=10))
    assert record["status"] == "completed"
    again = admin.post("/api/op/qpu/toggle", json={"id": aer, "enabled": True}).json()
    assert again["status"] == "offline"  # until a driver reconnects


@pytest.mark.slow
def test_cancelling_a_running_job_is_overwritten_by_its_result():
    wide = (
        'OPENQASM 3.0;\ninclude "stdgates.inc";\nbit[1] c;\nqubit[18] q;\n'
        + "".join(f"h q[{i % 18}];\nrz(0.1) q[{(i + 1) % 18}];\n" for i in range(150))
        + "c[0] = measure q[0];\n"
    )
    with LocalServer(seed=1, strict=True, workers=1) as srv:
        user = session(srv.url, {"X-API-Token": srv.api_token})
        jwt = session(srv.url, {"Authorization": login(srv.url, srv.user_email, srv.user_password)})
        mock = next(q["id"] for q in user.get("/api/qpus").json() if q["name"] == "mock")
        job_id = _submit(user, wide, mock, shots=10)
        deadline = time.monotonic() + 30
        while user.get(f"/api/jobs/{job_id}").json()["status"] != "running":
            assert time.monotonic() < deadline
            time.sleep(0.01)
        assert user.post(f"/api/jobs/{job_id}/cancel").json() == {"status": "cancelled"}
        assert _record(jwt, job_id, timeout=120)["status"] in ("cancelled", "completed")
        deadline = time.monotonic() + 120
        while user.get(f"/api/jobs/{job_id}").json()["status"] == "cancelled":
            assert time.monotonic() < deadline, "the late result never overwrote the cancel"
            time.sleep(0.1)
        assert user.get(f"/api/jobs/{job_id}").json()["status"] == "completed"
