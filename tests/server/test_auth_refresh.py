"""``auth-refresh``: PocketBase's session renewal, which the client uses to stay logged in."""

from __future__ import annotations

from tests.server.helpers import error, login, session


def test_refresh_gives_a_new_working_session(server):
    token = login(server.url, server.user_email, server.user_password)
    answer = session(server.url, {"Authorization": token}).post(
        "/api/collections/users/auth-refresh"
    )
    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert body["record"]["email"] == server.user_email
    fresh = session(server.url, {"Authorization": f"Bearer {body['token']}"})
    assert fresh.get("/api/collections/quantum_jobs/records").status_code == 200


def test_refresh_needs_a_session_of_that_collection(server):
    anon = session(server.url)
    error(anon.post("/api/collections/users/auth-refresh"), 401)
    as_token = session(server.url, {"X-API-Token": server.api_token})
    error(as_token.post("/api/collections/users/auth-refresh"), 401)
    user = login(server.url, server.user_email, server.user_password)
    error(
        session(server.url, {"Authorization": user}).post(
            "/api/collections/_superusers/auth-refresh"
        ),
        401,
    )
