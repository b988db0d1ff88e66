"""Job routes and job execution on the built-in QPUs."""

from __future__ import annotations

import math
import re
import time

import pytest

from tests.server.helpers import (
    BELL,
    BELL_QASM2,
    GHZ,
    RX,
    TWO_PARAMS,
    TWO_REGISTERS,
    X_ON_Q1_OF_3,
    error,
)

JOB_KEYS = {"id", "user_id", "qpu_target", "payload", "status", "created", "updated"}
ROW = "circuits.0.parameter_values.0"
PB_DATE = re.compile(r"^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d{3}Z$")


def counts(job, index=0):
    assert job["status"] == "completed", job.get("results")
    return job["results"]["circuit_results"][index]["counts"]


# -- submit, get, list ---------------------------------------------------------------------------


def test_submit_returns_the_stored_record_with_defaults(user, mock_id):
    answer = user.post(
        "/api/jobs",
        json={
            "circuits": [{"circuit": BELL, "extra": 1}],
            "shots": 0,
            "unknown": "x",
            "qpu_target": mock_id,
        },
    )
    assert answer.status_code == 201
    job = answer.json()
    assert set(job) >= JOB_KEYS
    assert re.fullmatch(r"[a-z0-9]{15}", job["id"])
    assert PB_DATE.match(job["created"]) and PB_DATE.match(job["updated"])
    assert job["status"] == "pending"
    assert job["payload"] == {
        "circuits": [{"circuit": BELL}],
        "shots": 1024,
        "meas_level": 2,
        "meas_return": "single",
        "qpu_target": mock_id,
    }
    assert "results" not in job  # no results yet: never a copy of the payload
    stored = user.get(f"/api/jobs/{job['id']}").json()
    assert stored["payload"] == job["payload"]


def test_payload_keeps_explicit_values_and_drops_empty_ones(user, mock_id):
    job = user.submit(
        [
            {"circuit": RX, "parameter_values": [[0.5]], "shots": 7},
            {"circuit": BELL, "parameter_values": []},
        ],
        shots=10,
        meas_level=1,
        meas_return="avg",
        qpu_target=mock_id,
    )
    assert job["payload"] == {
        "circuits": [{"circuit": RX, "parameter_values": [[0.5]], "shots": 7}, {"circuit": BELL}],
        "shots": 10,
        "meas_level": 1,
        "meas_return": "avg",
        "qpu_target": mock_id,
    }


def test_list_is_newest_first_with_skip_limit_and_sort(make_user, mock_id):
    other, _ = make_user()
    ids = [other.submit(BELL, qpu_target=mock_id, shots=5)["id"] for _ in range(3)]
    listed = other.get("/api/jobs").json()
    assert [j["id"] for j in listed] == ids[::-1]
    assert [j["id"] for j in other.get("/api/jobs?sort=+created").json()] == ids
    assert [j["id"] for j in other.get("/api/jobs?skip=1&limit=1").json()] == [ids[1]]
    assert len(other.get("/api/jobs?skip=x&limit=y").json()) == 3  # lenient, like the server
    error(other.get("/api/jobs?sort=-nope"), 400)


def test_empty_list_is_an_array(make_user):
    other, _ = make_user()
    assert other.get("/api/jobs").json() == []


def test_other_users_jobs_are_invisible(user, make_user, mock_id):
    other, _ = make_user()
    job = user.submit(BELL, qpu_target=mock_id)
    error(other.get(f"/api/jobs/{job['id']}"), 404, "Job not found.")
    error(
        other.post(f"/api/jobs/{job['id']}/cancel"),
        404,
        "Job not found, maybe it was already completed or cancelled?",
    )
    assert job["id"] not in {j["id"] for j in other.get("/api/jobs").json()}
    error(user.get("/api/jobs/doesnotexist123"), 404, "Job not found.")


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"circuits": []}, "circuits"),
        ({}, "circuits"),
        ({"circuits": "OPENQASM 3.0;"}, "circuits"),
        ({"circuits": ["OPENQASM 3.0;"]}, "circuits.0"),
        ({"circuits": [{}]}, "circuits.0.circuit"),
        ({"circuits": [{"circuit": 5}]}, "circuits.0.circuit"),
        ({"circuits": [{"circuit": BELL, "parameter_values": [0.5]}]}, ROW),
        ({"circuits": [{"circuit": BELL, "parameter_values": [["1"]]}]}, ROW + ".0"),
        ({"circuits": [{"circuit": BELL, "parameter_values": [[True]]}]}, ROW + ".0"),
        ({"circuits": [{"circuit": BELL, "shots": -1}]}, "circuits.0.shots"),
        ({"circuits": [{"circuit": BELL}], "shots": "10"}, "shots"),
        ({"circuits": [{"circuit": BELL}], "shots": 1024.5}, "shots"),
        ({"circuits": [{"circuit": BELL}], "shots": -5}, "shots"),
        ({"circuits": [{"circuit": BELL}], "meas_level": 3}, "meas_level"),
        ({"circuits": [{"circuit": BELL}], "meas_level": True}, "meas_level"),
        ({"circuits": [{"circuit": BELL}], "meas_return": "sum"}, "meas_return"),
        ({"circuits": [{"circuit": BELL}], "qpu_target": 3}, "qpu_target"),
    ],
)
def test_bad_submissions_are_400_naming_the_field(user, body, field):
    body = error(user.post("/api/jobs", json=body), 400, "Invalid request body.")
    assert field in body["data"], body["data"]
    assert set(body["data"][field]) == {"code", "message"}


def test_non_finite_parameter_values_are_refused(user):
    text = '{"circuits": [{"circuit": "x", "parameter_values": [[NaN]]}]}'
    answer = user.post("/api/jobs", data=text, headers={"Content-Type": "application/json"})
    assert "circuits.0.parameter_values.0.0" in error(answer, 400)["data"]


def test_unknown_qpu_target_is_400_with_a_hint(user):
    body = error(
        user.post("/api/jobs", json={"circuits": [{"circuit": BELL}], "qpu_target": "mock"}), 400
    )
    assert body["message"].startswith('Unknown QPU target "mock"')
    assert "has id" in body["message"]
    assert body["data"]["qpu_target"]["code"] == "validation_missing_rel_records"


# -- results ------------------------------------------------------------------------------------


def test_bell_result_has_the_driver_shape(user, mock_id):
    job = user.run(BELL, qpu_target=mock_id)
    assert job["status"] == "completed"
    assert PB_DATE.match(job["finished_at"])
    assert job["duration"] > 0
    results = job["results"]
    assert results["success"] is True
    assert results["backend"] == "mock"
    assert results["shots"] == 1024
    assert len(results["circuit_results"]) == 1
    entry = results["circuit_results"][0]
    assert entry["shots"] == 1024
    assert results["counts"] == entry["counts"]
    assert set(entry["counts"]) <= {"00", "11"}
    assert sum(entry["counts"].values()) == 1024
    assert min(entry["counts"].get("00", 0), entry["counts"].get("11", 0)) > 400


def test_ghz_and_bit_order(user, mock_id):
    ghz = counts(user.run(GHZ, qpu_target=mock_id, shots=300))
    assert set(ghz) <= {"000", "111"} and sum(ghz.values()) == 300
    # x on q[1] of three: clbit 0 is the rightmost character.
    assert {
        k: v for k, v in counts(user.run(X_ON_Q1_OF_3, qpu_target=mock_id, shots=50)).items() if v
    } == {"010": 50}


def test_parameter_rows_bind_in_sorted_name_order_and_flatten(user, mock_id):
    # Rows are (alpha, beta): alpha on q[0], beta on q[1], whatever the declaration order.
    job = user.run(
        [
            {"circuit": TWO_PARAMS, "parameter_values": [[math.pi, 0.0], [0.0, math.pi]]},
            {"circuit": BELL, "shots": 20},
        ],
        qpu_target=mock_id,
        shots=40,
    )
    entries = job["results"]["circuit_results"]
    assert [e["shots"] for e in entries] == [40, 40, 20]
    nonzero = [{k: v for k, v in e["counts"].items() if v} for e in entries]
    assert nonzero[0] == {"01": 40}
    assert nonzero[1] == {"10": 40}
    assert sum(nonzero[2].values()) == 20


def test_half_rotation_is_fair_within_five_sigma(user, mock_id):
    shots = 4000
    got = counts(
        user.run(
            [{"circuit": RX, "parameter_values": [[math.pi / 2]]}], qpu_target=mock_id, shots=shots
        )
    )
    assert abs(got.get("1", 0) - shots / 2) < 5 * math.sqrt(shots / 4)


def test_meas_level_1_shapes(user, mock_id):
    single = user.run(BELL, qpu_target=mock_id, shots=16, meas_level=1)
    entry = single["results"]["circuit_results"][0]
    assert "counts" not in entry
    assert len(entry["memory"]) == 16
    assert all(len(shot) == 2 and all(len(iq) == 2 for iq in shot) for shot in entry["memory"])
    assert single["results"]["memory"] == entry["memory"]
    avg = user.run(BELL, qpu_target=mock_id, shots=16, meas_level=1, meas_return="avg")
    memory = avg["results"]["circuit_results"][0]["memory"]
    assert len(memory) == 1 and len(memory[0]) == 2 and len(memory[0][0]) == 2


def test_multiple_registers_are_flattened(user, mock_id):
    # a[0]=1 (clbit 0), b[0]=0 (clbit 1), b[1]=1 (clbit 2): "101", clbit 0 rightmost.
    got = counts(user.run(TWO_REGISTERS, qpu_target=mock_id, shots=10))
    assert {k: v for k, v in got.items() if v} == {"101": 10}


def test_qasm2_runs(user, mock_id):
    got = counts(user.run(BELL_QASM2, qpu_target=mock_id, shots=64))
    assert set(got) <= {"00", "11"} and sum(got.values()) == 64


def test_qiskit_aer_qpu_runs_jobs(user, qpus):
    rows = [{"circuit": RX, "parameter_values": [[math.pi]]}]
    job = user.run(rows, qpu_target=qpus["qiskit_aer"], shots=30)
    assert job["results"]["backend"] == "qiskit_aer"
    assert {k: v for k, v in counts(job).items() if v} == {"1": 30}


@pytest.mark.parametrize(
    ("circuits", "message"),
    [
        ([{"circuit": "OPENQASM 3.0;\nqubit[2] q;\nh q[0]\n"}], "Failed to parse QASM circuit"),
        ([{"circuit": "qubit q;"}], "missing or unrecognized OPENQASM version header"),
        ([{"circuit": BELL}, {"circuit": ""}], "Circuit at index 1 has an empty circuit string."),
        ([{"circuit": RX, "parameter_values": [[1.0, 2.0]]}], "has 2 values but the circuit has 1"),
        ([{"circuit": RX}], "has parameters (theta) but no parameter_values"),
    ],
)
def test_bad_circuits_fail_the_job_with_a_message(user, mock_id, circuits, message):
    job = user.run(circuits, qpu_target=mock_id, shots=8)
    assert job["status"] == "failed"
    assert set(job["results"]) == {"error"}
    assert message in job["results"]["error"]


def test_meas_level_0_fails_on_simulators(user, mock_id):
    job = user.run(BELL, qpu_target=mock_id, meas_level=0)
    assert job["status"] == "failed" and "meas_level 0" in job["results"]["error"]


def test_a_job_without_target_runs_on_the_first_online_qpu(user, mock_id):
    job = user.run(BELL, shots=10)
    assert job["status"] == "completed"
    assert job["qpu_target"] == mock_id
    assert "qpu_target" not in job["payload"]


# -- cancel -------------------------------------------------------------------------------------


def test_cancel_pending_job_stays_cancelled(user, admin):
    # A QPU that is never connected keeps its jobs pending.
    created = admin.post("/api/op/qpus/create", json={"name": "idle-qpu"}).json()
    job = user.submit(BELL, qpu_target=created["id"])
    answer = user.post(f"/api/jobs/{job['id']}/cancel")
    assert answer.status_code == 200 and answer.json() == {"status": "cancelled"}
    error(
        user.post(f"/api/jobs/{job['id']}/cancel"),
        404,
        "Job not found, maybe it was already completed or cancelled?",
    )
    assert user.get(f"/api/jobs/{job['id']}").json()["status"] == "cancelled"


def test_cancel_while_running_discards_the_late_result(user, mock_id):
    # A circuit heavy enough to still be running when the cancel arrives.
    heavy = (
        'OPENQASM 3.0;\ninclude "stdgates.inc";\nqubit[20] q;\nbit[20] c;\n'
        + "".join(f"h q[{i}];\n" for i in range(20))
        + "".join(f"cx q[{i}], q[{i + 1}];\n" for i in range(19)) * 4
        + "c = measure q;\n"
    )
    job = user.submit(heavy, qpu_target=mock_id, shots=200000)
    deadline = time.monotonic() + 10
    while user.get(f"/api/jobs/{job['id']}").json()["status"] == "pending":
        assert time.monotonic() < deadline
        time.sleep(0.002)
    assert user.post(f"/api/jobs/{job['id']}/cancel").status_code == 200
    final = user.wait(job["id"])
    assert final["status"] == "cancelled"
    assert "results" not in final
    # Still cancelled once the worker has certainly finished with it.
    user.run(BELL, qpu_target=mock_id, shots=5)
    assert user.get(f"/api/jobs/{job['id']}").json()["status"] == "cancelled"


def test_completed_job_cannot_be_cancelled(user, mock_id):
    job = user.run(BELL, qpu_target=mock_id, shots=5)
    error(
        user.post(f"/api/jobs/{job['id']}/cancel"),
        404,
        "Job not found, maybe it was already completed or cancelled?",
    )


# -- QPU seconds --------------------------------------------------------------------------------


def test_zero_balance_is_refused_and_runs_are_charged(make_user, admin, mock_id):
    other, record = make_user(seconds=50.0)
    job = other.run(BELL, qpu_target=mock_id, shots=10)
    me = admin.get(f"/api/collections/users/records/{record['id']}").json()
    assert me["qpu_seconds"] == pytest.approx(50.0 - job["duration"])
    assert me["qpu_seconds"] < 50.0
    admin.patch(f"/api/collections/users/records/{record['id']}", json={"qpu_seconds": 0})
    error(
        other.post("/api/jobs", json={"circuits": [{"circuit": BELL}]}),
        403,
        "Insufficient QPU seconds balance.",
    )
    # The balance check comes before the body is read, like the real server.
    error(other.post("/api/jobs", data="{not json"), 403)


def test_charges_never_go_below_zero(make_user, admin, mock_id):
    other, record = make_user(seconds=1e-9)
    other.run(BELL, qpu_target=mock_id, shots=10)
    me = admin.get(f"/api/collections/users/records/{record['id']}").json()
    assert me["qpu_seconds"] == 0
