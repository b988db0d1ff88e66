"""The original ``qpi-client`` 0.4.2, unchanged, against our server."""

from __future__ import annotations

import http.client
import socket
import time
import urllib.parse
from datetime import UTC, datetime, timedelta

import pytest
import requests

from tests.server.helpers import BELL, login

qpi_client = pytest.importorskip("qpi_client")


def at(minutes: float) -> str:
    return (datetime.now(UTC) + timedelta(minutes=minutes)).isoformat().replace("+00:00", "Z")


@pytest.fixture
def seed(server):
    client = qpi_client.QPIClient(server.url, api_token=server.api_token)
    yield client
    client.close()


@pytest.fixture
def seed_admin(server):
    client = qpi_client.QPIClient(server.url)
    # The seed's auth_with_password only targets `users`: send the superuser JWT ourselves.
    token = login(server.url, server.admin_email, server.admin_password, "_superusers")
    client._session.headers["Authorization"] = f"Bearer {token}"
    yield client
    client.close()


def _wait(client, job_id: str) -> dict:
    deadline = time.monotonic() + 30
    while (job := client.get_job(job_id))["status"] not in ("completed", "failed", "cancelled"):
        assert time.monotonic() < deadline
        time.sleep(0.01)
    return job


def test_submit_and_read_a_bell_job(seed, mock_id):
    job_id = seed.submit_job([{"circuit": BELL}], shots=256, qpu_target=mock_id)
    job = _wait(seed, job_id)
    assert job["status"] == "completed"
    counts = job["results"]["circuit_results"][0]["counts"]
    assert set(counts) <= {"00", "11"} and sum(counts.values()) == 256
    assert job_id in {j["id"] for j in seed.list_jobs()}


def test_qpu_discovery(seed, mock_id):
    assert seed.get_qpu(mock_id)["name"] == "mock"
    assert "mock" in {q["name"] for q in seed.list_qpus()}


def test_backend_run_without_target_completes(seed, mock_id):
    # The seed's backend never sends qpu_target; our server routes such jobs anyway.
    backend = seed.get_backend(mock_id)
    assert backend.num_qubits == seed.get_qpu(mock_id)["num_qubits"] > 20  # sized by memory
    result = backend.run(qasm=BELL, shots=100).result(timeout=30, wait=0.05)
    counts = result.get_counts()
    assert sum(counts.values()) == 100


def test_cancel(seed, seed_admin):
    idle = seed_admin.create_qpu("seed-idle", num_qubits=2)
    job_id = seed.submit_job([{"circuit": BELL}], qpu_target=idle["id"])
    assert seed.cancel_job(job_id) == {"status": "cancelled"}
    with pytest.raises(requests.HTTPError):
        seed.cancel_job(job_id)


def test_admin_qpu_calls(seed, seed_admin):
    created = seed_admin.create_qpu("seed-dev", executor_type="mock", num_qubits=4, enabled=True)
    assert created["status"] == "offline" and created["access_token"]
    connected = seed_admin.connect_qpu("seed-dev", created["access_token"], executor_type="mock")
    assert connected["status"] == "success"
    job = _wait(seed, seed.submit_job([{"circuit": BELL}], shots=10, qpu_target=created["id"]))
    assert job["status"] == "completed"
    toggled = seed_admin.toggle_qpu(created["id"], False)
    assert toggled["enabled"] is False and toggled["status"] == "offline"
    with pytest.raises(requests.HTTPError):
        seed.create_qpu("nope")


def test_collections_with_only_an_api_token(server, seed, seed_admin):
    note = seed_admin._session.post(
        f"{server.url}/api/collections/notifications/records", json={"title": "hello"}
    ).json()
    assert note["id"] in {n["id"] for n in seed.list_notifications()}
    assert seed.dismiss_notification(note["id"]) == {"status": "dismissed"}
    assert note["id"] not in {n["id"] for n in seed.list_notifications()}

    slot = seed.create_time_slot(at(3000), at(3010))  # no booked_by, as the seed sends it
    assert slot["id"] in {s["id"] for s in seed.list_time_slots()}
    assert seed.update_time_slot(slot["id"], end_time=at(3020))["end_time"]
    seed.delete_time_slot(slot["id"])

    me = seed.list_users()
    assert [u["email"] for u in me] == [server.user_email]
    before = me[0]["qpu_seconds"]
    request = seed.create_time_request(300, requested_reason="more")
    assert request["status"] == "pending"
    assert request["id"] in {r["id"] for r in seed.list_time_requests()}
    approved = seed_admin.update_time_request(request["id"], "approved")
    assert approved["status"] == "approved"
    after = seed.list_users()[0]["qpu_seconds"]
    assert after == pytest.approx(before + 300, abs=1.0)  # jobs may have been charged meanwhile
    assert len(seed_admin.list_users()) >= 2
    assert seed_admin.allocate_qpu_time(me[0]["id"], 1e6)["qpu_seconds"] == 1e6


def test_user_password_auth(server):
    client = qpi_client.QPIClient(server.url)
    try:
        answer = client.auth_with_password(server.user_email, server.user_password)
        assert answer["record"]["email"] == server.user_email
        assert isinstance(client.list_jobs(), list)
        assert isinstance(client.list_time_slots(), list)
    finally:
        client.close()


@pytest.mark.slow
def test_an_idle_connection_outlives_the_original_polling_interval(server):
    # qpi-client polls every 5 s over one keep-alive connection and never retries: if the
    # server closed idle connections after 5 s, some polls would race the close and fail.
    parsed = urllib.parse.urlsplit(server.url)
    conn = http.client.HTTPConnection(parsed.hostname, parsed.port, timeout=10)
    try:
        conn.request("GET", "/api/qpus")
        conn.getresponse().read()
        time.sleep(6.0)
        conn.sock.setblocking(False)
        with pytest.raises(BlockingIOError):  # still open, nothing to read (b"" if closed)
            conn.sock.recv(1, socket.MSG_PEEK)
    finally:
        conn.close()
