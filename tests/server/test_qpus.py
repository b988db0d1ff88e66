"""QPU discovery and the admin QPU routes: create, connect, toggle."""

from __future__ import annotations

import time
import uuid

from tests.server.helpers import BELL, error

QPU_KEYS = {"id", "name", "status", "num_qubits", "enabled", "created", "updated"}


def test_list_shows_online_qpus_oldest_first(anon):
    qpus = anon.get("/api/qpus").json()
    assert [q["name"] for q in qpus][:2] == ["mock", "qiskit_aer"]
    assert all(set(q) - {"default"} == QPU_KEYS and q["status"] == "online" for q in qpus)
    assert qpus[0]["num_qubits"] == 24
    # The local server marks its default QPU; clients use it when no QPU is named.
    assert [q["name"] for q in qpus if q.get("default")] == ["mock"]
    assert [q["name"] for q in anon.get("/api/qpus?sort=-name&limit=1").json()] != []
    assert len(anon.get("/api/qpus?limit=1").json()) == 1
    error(anon.get("/api/qpus?sort=bogus"), 400)


def test_get_by_id_or_name(anon, mock_id):
    assert anon.get(f"/api/qpus/{mock_id}").json()["name"] == "mock"
    assert anon.get("/api/qpus/mock").json()["id"] == mock_id
    error(anon.get("/api/qpus/nope"), 404, "QPU not found.")


def _new_qpu(admin, **fields):
    name = f"dev-{uuid.uuid4().hex[:6]}"
    answer = admin.post("/api/op/qpus/create", json={"name": name, **fields})
    assert answer.status_code == 201, answer.text
    return answer.json()


def test_create_connect_run_toggle(admin, user, anon):
    created = _new_qpu(admin, num_qubits=3, executor_type="qiskit_aer")
    assert created["status"] == "offline" and created["enabled"] is True
    assert created["access_token"].startswith("qpi_")
    assert created["id"] not in {q["id"] for q in anon.get("/api/qpus").json()}
    assert anon.get(f"/api/qpus/{created['id']}").json()["num_qubits"] == 3
    job = user.submit(BELL, qpu_target=created["id"], shots=10)
    time.sleep(0.2)
    assert user.get(f"/api/jobs/{job['id']}").json()["status"] == "pending"  # not connected yet

    bad = {"name": created["name"], "access_token": "qpi_" + "1" * 64}
    error(anon.post("/api/op/qpus/connect", json=bad), 401, "Invalid access token.")
    connected = anon.post(
        "/api/op/qpus/connect",
        json={"name": created["name"], "access_token": created["access_token"]},
    )
    assert connected.status_code == 200
    assert connected.json() == {
        "status": "success",
        "nng_in_port": 0,
        "nng_out_port": 0,
        "nng_host": "127.0.0.1",
    }
    done = user.wait(job["id"])
    assert done["status"] == "completed" and done["results"]["backend"] == created["name"].replace(
        "-", "_"
    )
    # Too big for this QPU's 3 qubits.
    ghz4 = BELL.replace("[2]", "[4]")
    assert "uses 4 qubits" in user.run(ghz4, qpu_target=created["id"])["results"]["error"]

    off = admin.post("/api/op/qpu/toggle", json={"id": created["id"]})  # missing enabled = false
    assert off.status_code == 200
    assert off.json() == {
        "id": created["id"],
        "name": created["name"],
        "enabled": False,
        "status": "offline",
    }
    waiting = user.submit(BELL, qpu_target=created["id"], shots=10)
    time.sleep(0.3)
    assert user.get(f"/api/jobs/{waiting['id']}").json()["status"] == "pending"
    error(
        anon.post(
            "/api/op/qpus/connect",
            json={"name": created["name"], "access_token": created["access_token"]},
        ),
        403,
    )
    on = admin.post("/api/op/qpu/toggle", json={"id": created["id"], "enabled": True}).json()
    assert on["status"] == "online" and on["enabled"] is True
    assert user.wait(waiting["id"])["status"] == "completed"


def test_admin_route_errors(admin):
    error(admin.post("/api/op/qpus/create", json={}), 400, "Invalid request body.")
    error(admin.post("/api/op/qpus/create", json={"name": "x", "num_qubits": -1}), 400)
    error(admin.post("/api/op/qpus/create", json={"name": "x", "executor_type": "quantify"}), 400)
    error(
        admin.post("/api/op/qpu/toggle", json={"id": "missing", "enabled": True}),
        404,
        "QPU not found.",
    )
    error(admin.post("/api/op/qpu/toggle", json={"enabled": True}), 400)
    error(admin.post("/api/op/qpus/connect", json={"name": "x"}), 400)


def test_builtin_qpu_toggles_back_online(server, admin, qpus):
    aer = qpus["qiskit_aer"]
    assert admin.post("/api/op/qpu/toggle", json={"id": aer, "enabled": False}).json()[
        "status"
    ] == ("offline")
    try:
        assert aer not in {q["id"] for q in admin.get("/api/qpus").json()}
    finally:
        back = admin.post("/api/op/qpu/toggle", json={"id": aer, "enabled": True}).json()
    assert back["status"] == "online"
