"""Every remaining seed method, against the local orchestrator."""

from datetime import UTC, datetime, timedelta

import pytest
import requests

from qpi import QPIClient, errors
from tests.client.conftest import BELL, admin_jwt, new_user


def _iso(dt: datetime) -> str:
    return dt.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.000Z")


def test_qpus_by_name_and_id(client):
    qpus = client.list_qpus()
    names = {q["name"] for q in qpus}
    assert {"mock", "qiskit_aer"} <= names
    mock = client.get_qpu("mock")
    assert mock["name"] == "mock" and mock["num_qubits"] >= 5
    assert client.get_qpu(mock["id"])["id"] == mock["id"]
    with pytest.raises(errors.NotFoundError, match="no QPU named"):
        client.get_qpu("no-such-qpu")


def test_create_connect_toggle_qpu(server, admin, client):
    created = admin.create_qpu("lab-sim", executor_type="mock", num_qubits=5)
    assert created["status"] == "offline" and created["name"] == "lab-sim"
    connected = admin.connect_qpu("lab-sim", created["access_token"], executor_type="mock")
    assert connected["status"] == "success"
    record = client.get_qpu("lab-sim")
    assert record["status"] == "online"
    job_id = client.submit_job([{"circuit": BELL}], shots=64, qpu_target=record["id"])
    assert client.wait_for_job(job_id, timeout=30)["status"] == "completed"
    toggled = admin.toggle_qpu(record["id"], False)
    assert toggled["enabled"] is False and toggled["status"] == "offline"
    with pytest.raises(errors.AuthenticationError):
        admin.connect_qpu("lab-sim", "qpi_" + "f" * 64)


def test_users_and_allocation(server, admin):
    users = admin.list_users()
    assert server.user_email in {u.get("email") for u in users}
    user = next(u for u in users if u.get("email") == server.user_email)
    updated = admin.allocate_qpu_time(user["id"], 123456)
    assert updated["qpu_seconds"] == pytest.approx(123456)


def test_time_requests_flow(server, admin):
    user = new_user(server, admin, seconds=10)
    try:
        created = user.create_time_request(300, requested_reason="thesis")
        assert created["status"] == "pending"
        assert created["id"] in {r["id"] for r in user.list_time_requests()}
        approved = admin.update_time_request(created["id"], "approved")
        assert approved["status"] == "approved"
        me = next(u for u in admin.list_users() if u["id"] == created["user"])
        assert me["qpu_seconds"] == pytest.approx(310)
        with pytest.raises(errors.APIError):
            admin.update_time_request(created["id"], "rejected")
        with pytest.raises(errors.ValidationError):
            admin.update_time_request(created["id"], "maybe")
    finally:
        user.close()


def test_time_slots_crud_and_rules(server, admin, client):
    now = datetime.now(UTC)
    start, end = now + timedelta(days=30), now + timedelta(days=30, hours=1)
    slot = client.create_time_slot(_iso(start), _iso(end))
    assert slot["id"] in {s["id"] for s in client.list_time_slots()}
    with pytest.raises(errors.BadRequestError, match="(?i)overlap"):
        client.create_time_slot(_iso(start + timedelta(minutes=30)), _iso(end + timedelta(hours=1)))
    with pytest.raises(errors.BadRequestError, match="(?i)past"):
        client.create_time_slot(_iso(now - timedelta(hours=2)), _iso(now - timedelta(hours=1)))
    with pytest.raises(errors.BadRequestError, match="(?i)strictly before"):
        client.create_time_slot(_iso(end + timedelta(hours=5)), _iso(end + timedelta(hours=4)))
    moved = client.update_time_slot(slot["id"], end_time=_iso(end + timedelta(minutes=30)))
    assert moved["id"] == slot["id"]
    client.delete_time_slot(slot["id"])
    assert slot["id"] not in {s["id"] for s in client.list_time_slots()}


def test_notifications_list_and_dismiss(server, client):
    headers = {"Authorization": admin_jwt(server)}
    created = requests.post(
        server.url + "/api/collections/notifications/records",
        json={"title": "Maintenance", "description": "Friday"},
        headers=headers,
        timeout=10,
    )
    created.raise_for_status()
    note_id = created.json()["id"]
    assert note_id in {n["id"] for n in client.list_notifications()}
    assert client.dismiss_notification(note_id) == {"status": "dismissed"}
    assert note_id not in {n["id"] for n in client.list_notifications()}
    with pytest.raises(errors.NotFoundError):
        client.dismiss_notification("missingnotif123")


def test_api_tokens(server, client):
    created = client.create_token(name="ci")
    assert created["token"].startswith("qpi_") and len(created["token"]) == 68
    listed = client.list_tokens()
    assert created["id"] in {t["id"] for t in listed}
    assert all("token" not in t or not t["token"] for t in listed)
    with QPIClient(server.url, api_token=created["token"], cache=False) as other:
        other.list_jobs()
    client.delete_token(created["id"])
    with (
        QPIClient(server.url, api_token=created["token"], cache=False) as other,
        pytest.raises(errors.AuthenticationError),
    ):
        other.list_jobs()


def test_version_needs_admin(admin):
    assert admin.version().startswith("v")


def test_close_is_idempotent(server):
    c = server.client(cache=False)
    c.close()
    c.close()
