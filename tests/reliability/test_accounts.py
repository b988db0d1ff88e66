"""Attacks on accounts (issue 16, items 1 and 6): each once succeeded against ``qpi serve``.

Item 1: the admin's identity can be neither claimed at sign-up nor taken by an email change,
in any spelling, and the admin's proxy user is bound to the admin, not to an email.
Item 6: a password change ends every session; failed logins are limited per client address
and identity (so a spray from one address never locks the owner out from another); a login
flood waits on its own threads; bookings are bounded; a public bind warns.
"""

from __future__ import annotations

import http.client
import json
import threading
import uuid
from datetime import UTC, datetime, timedelta

import pytest

from qpi.cli.serve import exposure_warning
from qpi.server import LocalServer
from tests.reliability.helpers import BELL, parked_qpu
from tests.server.helpers import admin_session, error, login, session

SIGN_UP = "/api/collections/users/records"
PASSWORD = "correct horse battery"


def _sign_up(url: str, email: str) -> tuple[int, dict]:
    body = {"email": email, "password": PASSWORD, "passwordConfirm": PASSWORD}
    answer = session(url).post(SIGN_UP, json=body)
    return answer.status_code, answer.json()


@pytest.mark.parametrize(
    "spelling",
    ["Admin@QPI.local", "  admin@qpi.local ", "ADMIN@qpi.LOCAL", "\uff41dmin@qpi.local"],
    ids=["mixed-case", "spaces", "upper", "full-width-a"],
)
def test_no_one_signs_up_as_the_admin(server, spelling):
    status, body = _sign_up(server.url, spelling)
    assert status == 400, body
    assert body["data"]["email"]["code"] == "validation_email_reserved"


def test_no_user_renames_their_email_to_the_admins(server, account):
    user = account()
    for spelling in (server.admin_email.upper(), f" {server.admin_email} "):
        answer = user.jwt().patch(f"{SIGN_UP}/{user.id}", json={"email": spelling})
        assert error(answer, 400)["data"]["email"]["code"] == "validation_email_reserved"


def test_the_proxy_user_is_bound_to_the_admin_not_to_an_email(server, admin):
    """Renaming the proxy user's email does not hand the admin a new (or someone's) account."""
    parked = parked_qpu(admin)
    job = admin.submit(BELL, qpu_target=parked)
    proxy_id = job["user_id"]
    renamed = admin.patch(f"{SIGN_UP}/{proxy_id}", json={"email": f"{uuid.uuid4().hex}@x.io"})
    assert renamed.status_code == 200, renamed.text
    # The admin's email is free as a users email now, but stays reserved for sign-up...
    assert _sign_up(server.url, server.admin_email)[0] == 400
    # ...and the admin still acts as the same proxy user, who still owns the job.
    again = admin.submit(BELL, qpu_target=parked)
    assert again["user_id"] == proxy_id
    assert admin.get(f"/api/jobs/{job['id']}").status_code == 200


def test_a_password_change_ends_every_session(server, account):
    user = account()
    stolen = user.jwt()  # a session someone else also holds
    assert stolen.get("/api/jobs").status_code == 200
    new = "a brand new password"
    body = {"password": new, "passwordConfirm": new, "oldPassword": user.password}
    assert stolen.patch(f"{SIGN_UP}/{user.id}", json=body).status_code == 200
    # The old session can neither read nor change the email any more.
    assert stolen.get("/api/jobs").status_code == 401
    taken = stolen.patch(f"{SIGN_UP}/{user.id}", json={"email": f"{uuid.uuid4().hex}@evil.io"})
    assert taken.status_code == 404  # anonymous: the record is not theirs to see
    # A login with the new password works; the API token (not a session) still does too.
    fresh = session(server.url, {"Authorization": login(server.url, user.email, new)})
    assert fresh.get("/api/jobs").status_code == 200
    assert user.api.get("/api/jobs").status_code == 200


def _login_from(url: str, source: str, identity: str, password: str, collection: str) -> int:
    """Log in over a connection whose client address is ``source`` (any 127.x works)."""
    host, port = url.split("://", 1)[1].rsplit(":", 1)
    conn = http.client.HTTPConnection(host, int(port), timeout=30, source_address=(source, 0))
    try:
        body = json.dumps({"identity": identity, "password": password})
        headers = {"Content-Type": "application/json"}
        conn.request("POST", f"/api/collections/{collection}/auth-with-password", body, headers)
        return conn.getresponse().status
    finally:
        conn.close()


def test_a_spray_from_one_address_never_locks_the_admin_out_from_another():
    with LocalServer(workers=1, login_max_failures=3, login_window=30.0, prewarm=False) as srv:
        args = (srv.admin_email, "wrong", "_superusers")
        for _ in range(3):
            assert _login_from(srv.url, "127.0.0.1", *args) == 400
        assert _login_from(srv.url, "127.0.0.1", *args) == 429
        # The attacker's address is limited; the admin's own address logs in at once.
        right = (srv.admin_email, srv.admin_password, "_superusers")
        assert _login_from(srv.url, "127.0.0.1", *right) == 429
        assert _login_from(srv.url, "127.0.0.2", *right) == 200


def test_spraying_many_identities_from_one_address_is_limited():
    with LocalServer(workers=1, login_max_failures=2, login_window=30.0, prewarm=False) as srv:
        statuses = [
            _login_from(srv.url, "127.0.0.3", f"u{i}@x.io", "wrong", "users") for i in range(12)
        ]
        # Two failures per identity, five times that across identities: then 429 for anyone.
        assert statuses[:10] == [400] * 10
        assert statuses[10:] == [429, 429]
        assert _login_from(srv.url, "127.0.0.4", srv.user_email, srv.user_password, "users") == 200


def test_a_login_flood_waits_on_its_own_threads_and_overflows_with_429():
    with LocalServer(workers=1, login_threads=1, login_queue=0, prewarm=False) as srv:
        start = threading.Barrier(8)
        statuses: list[int] = []

        def one() -> None:
            start.wait()
            statuses.append(
                _login_from(srv.url, "127.0.0.1", srv.user_email, srv.user_password, "users")
            )

        threads = [threading.Thread(target=one) for _ in range(8)]
        for thread in threads:
            thread.start()
        # Meanwhile, other routes answer (their thread pool is not the logins').
        assert session(srv.url, {"X-API-Token": srv.api_token}).get("/api/jobs").ok
        for thread in threads:
            thread.join(60)
        assert set(statuses) <= {200, 429} and statuses.count(200) >= 1
        assert 429 in statuses  # one hash at a time, none queued: the rest are told to wait


def _slot(start: datetime, hours: float) -> dict[str, str]:
    end = start + timedelta(hours=hours)
    return {"start_time": f"{start:%Y-%m-%d %H:%M:%S}Z", "end_time": f"{end:%Y-%m-%d %H:%M:%S}Z"}


def test_bookings_are_bounded(server, admin, account):
    start = datetime(2191, 1, 1, tzinfo=UTC) + timedelta(days=uuid.uuid4().int % 10_000)
    broke = account(seconds=0)
    until_9999 = {**_slot(start, 1), "end_time": "9999-12-31 23:59:59Z"}
    answer = broke.api.post("/api/collections/time_slots/records", json=until_9999)
    assert error(answer, 403)["message"].startswith("You have no QPU seconds left")
    rich = account()
    answer = rich.api.post("/api/collections/time_slots/records", json=until_9999)
    assert "at most 14400 seconds" in error(answer, 400)["message"]
    fine = rich.api.post("/api/collections/time_slots/records", json=_slot(start, 1))
    assert fine.status_code == 200, fine.text
    # A superuser is not bound (an operator blocking out maintenance).
    later = {**_slot(start + timedelta(days=2), 1), "end_time": "9999-12-31 23:59:59Z"}
    assert admin.post("/api/collections/time_slots/records", json=later).status_code == 200


def test_a_public_bind_warns_about_open_sign_up():
    warning = exposure_warning("0.0.0.0")
    assert warning and "open sign-up" in warning and "0.0.0.0" in warning
    assert exposure_warning("127.0.0.1") is None and exposure_warning("localhost") is None


def test_admin_session_helper_still_logs_in(server):
    """The shared helper (used by every suite) logs in with the session key in the JWT."""
    admin = admin_session(server.url, server.admin_email, server.admin_password)
    assert admin.get("/api/collections/users/records").status_code == 200
