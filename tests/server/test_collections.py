"""The PocketBase-style records API: envelopes, rules, hooks and their messages."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from tests.server.helpers import BELL, error

NOT_FOUND = "The requested resource wasn't found."
SUPERUSERS_ONLY = "Only superusers can perform this action."


def at(minutes: float) -> str:
    return (datetime.now(UTC) + timedelta(minutes=minutes)).isoformat().replace("+00:00", "Z")


# -- generic list behaviour -----------------------------------------------------------------------


def test_list_envelope_paging_sort_filter(anon):
    page = anon.get("/api/collections/qpus/records?perPage=1&sort=-name").json()
    assert set(page) == {"page", "perPage", "totalItems", "totalPages", "items"}
    assert page["page"] == 1 and page["perPage"] == 1
    assert page["totalPages"] == page["totalItems"] >= 2
    item = page["items"][0]
    assert item["collectionName"] == "qpus" and item["collectionId"]
    assert "access_token_hash" not in item and "executor_type" not in item
    mock = anon.get('/api/collections/qpus/records?filter=name="mock"').json()["items"]
    assert [q["name"] for q in mock] == ["mock"]
    both = anon.get("/api/collections/qpus/records?filter=name!='mock' %26%26 enabled=true")
    assert "mock" not in {q["name"] for q in both.json()["items"]}
    assert anon.get("/api/collections/qpus/records?perPage=5000").json()["perPage"] == 1000
    skipped = anon.get("/api/collections/qpus/records?skipTotal=1").json()
    assert skipped["totalItems"] == -1


@pytest.mark.parametrize(
    "query",
    [
        "filter=name~'mo'",
        "filter=(name='mock')",
        "filter=name='a' || name='b'",
        "filter=bogus=1",
        "sort=bogus",
        "filter=name=mock",
    ],
)
def test_unsupported_queries_are_400(anon, query):
    body = error(anon.get(f"/api/collections/qpus/records?{query}"), 400)
    assert body["message"]


def test_unknown_collection_is_404(anon):
    error(anon.get("/api/collections/nope/records"), 404)


# -- users ----------------------------------------------------------------------------------------


def test_users_see_themselves_and_admins_see_all(user, admin, make_user):
    other, record = make_user()
    mine = other.get("/api/collections/users/records").json()["items"]
    assert [u["id"] for u in mine] == [record["id"]]
    assert "password_hash" not in mine[0]
    assert admin.get("/api/collections/users/records?perPage=1000").json()["totalItems"] >= 2
    error(other.get(f"/api/collections/users/records/{mine[0]['id'] and 'x' * 15}"), 404, NOT_FOUND)
    me_seen_by_user = user.get(f"/api/collections/users/records/{record['id']}")
    error(me_seen_by_user, 404, NOT_FOUND)


def test_users_cannot_set_their_own_balance(make_user, admin):
    other, record = make_user(seconds=10)
    path = f"/api/collections/users/records/{record['id']}"
    error(other.patch(path, json={"qpu_seconds": 1e9}), 403)
    assert other.patch(path, json={"name": "Ada"}).json()["name"] == "Ada"
    patched = admin.patch(path, json={"qpu_seconds": 1234.5})
    assert patched.status_code == 200 and patched.json()["qpu_seconds"] == 1234.5


def test_user_sign_up_and_field_errors(anon):
    body = {"email": "fresh@example.com", "password": "12345678", "passwordConfirm": "12345678"}
    created = anon.post("/api/collections/users/records", json=body)
    assert created.status_code == 200 and created.json()["qpu_seconds"] == 0
    dup = error(
        anon.post("/api/collections/users/records", json=body), 400, "Failed to create record."
    )
    assert dup["data"]["email"]["code"] == "validation_not_unique"
    mismatch = {**body, "email": "other@example.com", "passwordConfirm": "nope"}
    assert (
        "passwordConfirm"
        in error(anon.post("/api/collections/users/records", json=mismatch), 400)["data"]
    )
    rich = {**body, "email": "rich@example.com", "qpu_seconds": 100}
    error(anon.post("/api/collections/users/records", json=rich), 403)


# -- time slots -----------------------------------------------------------------------------------


def test_time_slot_rules(make_user, admin):
    alice, alice_record = make_user()
    bob, _ = make_user()
    base = "/api/collections/time_slots/records"
    slot = alice.post(base, json={"start_time": at(600), "end_time": at(660)})
    assert slot.status_code == 200, slot.text
    slot = slot.json()
    assert slot["booked_by"] == alice_record["id"]  # defaulted to the caller
    assert slot["start_time"].endswith("Z") and " " in slot["start_time"]
    assert slot["id"] in {s["id"] for s in bob.get(base).json()["items"]}  # everyone sees all

    past = error(alice.post(base, json={"start_time": at(-5), "end_time": at(30)}), 400)
    assert "past" in past["message"]
    overlap = error(alice.post(base, json={"start_time": at(630), "end_time": at(700)}), 400)
    assert "overlap" in overlap["message"]
    backwards = error(alice.post(base, json={"start_time": at(900), "end_time": at(800)}), 400)
    assert "strictly before" in backwards["message"]
    touching = alice.post(base, json={"start_time": at(660), "end_time": at(670)})
    assert touching.status_code == 200  # touching endpoints are allowed
    error(alice.post(base, json={"start_time": at(700)}), 400, "Failed to create record.")
    error(
        bob.post(
            base,
            json={"start_time": at(1000), "end_time": at(1010), "booked_by": alice_record["id"]},
        ),
        400,
    )

    error(bob.patch(f"{base}/{slot['id']}", json={"end_time": at(665)}), 404, NOT_FOUND)
    error(bob.delete(f"{base}/{slot['id']}"), 404, NOT_FOUND)
    moved = alice.patch(f"{base}/{slot['id']}", json={"start_time": at(500), "end_time": at(560)})
    assert moved.status_code == 200
    resched = error(alice.patch(f"{base}/{slot['id']}", json={"start_time": at(-10)}), 400)
    assert "past" in resched["message"]

    started = admin.post(
        base, json={"start_time": at(-60), "end_time": at(-50), "booked_by": alice_record["id"]}
    )
    assert started.status_code == 200  # superusers may book the past
    started = started.json()
    assert (
        "already started"
        in error(alice.patch(f"{base}/{started['id']}", json={"end_time": at(-40)}), 400)["message"]
    )
    assert "already started" in error(alice.delete(f"{base}/{started['id']}"), 400)["message"]
    assert admin.delete(f"{base}/{started['id']}").status_code == 204
    assert alice.delete(f"{base}/{slot['id']}").status_code == 204
    assert alice.delete(f"{base}/{touching.json()['id']}").status_code == 204


def test_anonymous_sees_no_slots(anon):
    assert anon.get("/api/collections/time_slots/records").json()["items"] == []


# -- time requests --------------------------------------------------------------------------------


def test_time_request_approval_credits_once(make_user, admin):
    alice, record = make_user(seconds=100)
    bob, _ = make_user()
    base = "/api/collections/qpu_time_requests/records"
    request = alice.post(base, json={"seconds": 250, "requested_reason": "thesis"})
    assert request.status_code == 200, request.text
    request = request.json()
    assert request["status"] == "pending" and request["user"] == record["id"]
    error(alice.post(base, json={"seconds": 5, "status": "approved"}), 400)
    error(alice.post(base, json={"seconds": 0}), 400)
    assert bob.get(base).json()["items"] == []
    error(bob.get(f"{base}/{request['id']}"), 404, NOT_FOUND)
    error(bob.delete(f"{base}/{request['id']}"), 404, NOT_FOUND)
    error(alice.patch(f"{base}/{request['id']}", json={"status": "approved"}), 403, SUPERUSERS_ONLY)

    approved = admin.patch(f"{base}/{request['id']}", json={"status": "approved"})
    assert approved.status_code == 200
    assert approved.json()["handled_by"]
    user_path = f"/api/collections/users/records/{record['id']}"
    assert admin.get(user_path).json()["qpu_seconds"] == pytest.approx(350)
    again = admin.patch(f"{base}/{request['id']}", json={"status": "pending"})
    assert "already been processed" in error(again, 400)["message"]
    error(
        admin.patch(f"{base}/{request['id']}", json={"seconds": 1}),
        400,
        "Cannot modify the requested seconds.",
    )
    assert admin.get(user_path).json()["qpu_seconds"] == pytest.approx(350)
    error(alice.delete(f"{base}/{request['id']}"), 404)  # processed: no longer the user's to delete

    rejected = alice.post(base, json={"seconds": 10}).json()
    assert (
        admin.patch(
            f"{base}/{rejected['id']}", json={"status": "rejected", "rejection_reason": "no"}
        ).json()["status"]
        == "rejected"
    )
    assert admin.get(user_path).json()["qpu_seconds"] == pytest.approx(350)
    pending = alice.post(base, json={"seconds": 10}).json()
    assert alice.delete(f"{base}/{pending['id']}").status_code == 204


# -- notifications --------------------------------------------------------------------------------


def test_notification_visibility_and_dismissal(make_user, admin):
    alice, alice_rec = make_user()
    bob, bob_rec = make_user()
    carol, _ = make_user()
    base = "/api/collections/notifications/records"

    def visible(who):
        return {n["id"] for n in who.get(base).json()["items"]}

    both = admin.post(
        base, json={"title": "for two", "target_users": [alice_rec["id"], bob_rec["id"]]}
    ).json()
    assert both["target_users"] == [alice_rec["id"], bob_rec["id"]]
    broadcast = admin.post(base, json={"title": "all"}).json()
    future = admin.post(base, json={"title": "later", "start_time": at(60)}).json()
    expired = admin.post(base, json={"title": "gone", "end_time": at(-60)}).json()
    assert both["id"] in visible(alice) and both["id"] in visible(bob)
    assert both["id"] not in visible(carol) and broadcast["id"] in visible(carol)
    assert future["id"] not in visible(alice) and expired["id"] not in visible(alice)
    assert {future["id"], expired["id"]} <= visible(admin)

    dismiss = alice.post(f"/api/notifications/{both['id']}/dismiss")
    assert dismiss.status_code == 200 and dismiss.json() == {"status": "dismissed"}
    assert alice.post(f"/api/notifications/{both['id']}/dismiss").status_code == 200
    bob.post(f"/api/notifications/{both['id']}/dismiss")
    assert both["id"] not in visible(alice)  # still dismissed after Bob dismissed too
    assert both["id"] not in visible(bob)
    error(carol.post(f"/api/notifications/{both['id']}/dismiss"), 403, "Access denied.")
    error(carol.post("/api/notifications/missing/dismiss"), 404, "Notification not found.")

    error(alice.post(base, json={"title": "x"}), 403, SUPERUSERS_ONLY)
    error(alice.patch(f"{base}/{broadcast['id']}", json={"title": "y"}), 403, SUPERUSERS_ONLY)
    error(alice.delete(f"{base}/{broadcast['id']}"), 403, SUPERUSERS_ONLY)
    assert admin.patch(f"{base}/{broadcast['id']}", json={"title": "z"}).json()["title"] == "z"
    for note in (both, broadcast, future, expired):
        assert admin.delete(f"{base}/{note['id']}").status_code == 204
    assert (
        "target_users"
        in error(admin.post(base, json={"title": "t", "target_users": ["nobody"]}), 400)["data"]
    )


# -- jobs, tokens and qpus as records -------------------------------------------------


def test_job_records_carry_real_results_for_their_owner(user, make_user, mock_id):
    job = user.run(BELL, qpu_target=mock_id, shots=8)
    record = user.get(f"/api/collections/quantum_jobs/records/{job['id']}").json()
    assert record["results"]["circuit_results"][0]["shots"] == 8
    assert record["collectionName"] == "quantum_jobs"
    other, _ = make_user()
    error(other.get(f"/api/collections/quantum_jobs/records/{job['id']}"), 404)
    error(user.post("/api/collections/quantum_jobs/records", json={"payload": {}}), 403)
    error(user.patch(f"/api/collections/quantum_jobs/records/{job['id']}", json={}), 403)


def test_admin_can_requeue_a_job_through_the_records_api(user, admin, mock_id):
    job = user.run(BELL, qpu_target=mock_id, shots=8)
    path = f"/api/collections/quantum_jobs/records/{job['id']}"
    assert admin.patch(path, json={"status": "running"}).json()["status"] == "running"
    # Nobody is running it, so it goes back to pending and runs again.
    again = user.wait(job["id"])
    assert again["status"] == "completed"
    assert again["finished_at"] > job["finished_at"]


def test_api_token_records(make_user):
    owner, _ = make_user()
    other, _ = make_user()
    base = "/api/collections/api_tokens/records"
    created = owner.post(base, json={"token": "a" * 64, "name": "seeded"})
    assert created.status_code == 200
    token_id = created.json()["id"]
    assert token_id in {t["id"] for t in owner.get(base).json()["items"]}
    assert token_id not in {t["id"] for t in other.get(base).json()["items"]}
    error(other.patch(f"{base}/{token_id}", json={"name": "x"}), 404)
    assert owner.patch(f"{base}/{token_id}", json={"name": "x"}).json()["name"] == "x"
    assert owner.delete(f"{base}/{token_id}").status_code == 204


def test_qpu_records_are_admin_written(user, admin, anon):
    base = "/api/collections/qpus/records"
    error(user.post(base, json={"name": "x"}), 403, SUPERUSERS_ONLY)
    created = admin.post(base, json={"name": "rec-qpu", "status": "offline", "enabled": True})
    assert created.status_code == 200
    qpu_id = created.json()["id"]
    assert anon.get(f"{base}/{qpu_id}").json()["name"] == "rec-qpu"
    error(user.patch(f"{base}/{qpu_id}", json={"num_qubits": 8}), 403)
    assert admin.patch(f"{base}/{qpu_id}", json={"num_qubits": 8}).json()["num_qubits"] == 8
    assert admin.delete(f"{base}/{qpu_id}").status_code == 204
