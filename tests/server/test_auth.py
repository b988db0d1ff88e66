"""Callers: JWTs, API tokens, the superuser proxy user, admin-only routes, login limits."""

from __future__ import annotations

import time
import uuid

import jwt
import pytest

from tests.server.helpers import BELL, error, login, session

AUTH_REQUIRED = "Authentication required."


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("POST", "/api/jobs"),
        ("GET", "/api/jobs"),
        ("GET", "/api/jobs/abc"),
        ("POST", "/api/jobs/abc/cancel"),
        ("POST", "/api/tokens"),
        ("GET", "/api/tokens"),
        ("GET", "/api/tokens/abc"),
        ("PATCH", "/api/tokens/abc"),
        ("DELETE", "/api/tokens/abc"),
        ("POST", "/api/notifications/abc/dismiss"),
    ],
)
def test_user_routes_need_a_caller(anon, method, path):
    error(anon.request(method, path), 401, AUTH_REQUIRED)


@pytest.mark.parametrize(
    "headers",
    [
        {"X-API-Token": "qpi_" + "0" * 64},
        {"Authorization": "Bearer qpi_" + "0" * 64},
        {"Authorization": "Bearer not.a.jwt"},
        {"X-API-Token": ""},
    ],
)
def test_bad_tokens_are_401(server, headers):
    error(session(server.url, headers).get("/api/jobs"), 401, AUTH_REQUIRED)


def test_api_token_as_bearer_works(server):
    bearer = session(server.url, {"Authorization": f"Bearer {server.api_token}"})
    assert bearer.get("/api/jobs").status_code == 200


def test_user_jwt_raw_or_bearer(server):
    token = login(server.url, server.user_email, server.user_password)
    for header in (token, f"Bearer {token}"):
        assert session(server.url, {"Authorization": header}).get("/api/jobs").status_code == 200


def test_expired_jwt_is_rejected(server):
    secret = bytes.fromhex((server.data_dir / "jwt-secret").read_text())
    good = login(server.url, server.user_email, server.user_password)
    claims = jwt.decode(good, secret, algorithms=["HS256"])
    claims["exp"] = int(time.time()) - 10
    expired = jwt.encode(claims, secret, algorithm="HS256")
    error(session(server.url, {"Authorization": expired}).get("/api/jobs"), 401, AUTH_REQUIRED)
    forged = jwt.encode({**claims, "exp": int(time.time()) + 60}, b"x" * 32, algorithm="HS256")
    error(session(server.url, {"Authorization": forged}).get("/api/jobs"), 401, AUTH_REQUIRED)


def test_superuser_acts_as_a_proxy_user(server, admin, mock_id):
    job = admin.submit(BELL, qpu_target=mock_id, shots=5)
    users = admin.get(
        "/api/collections/users/records?filter=email=%22" + server.admin_email + "%22"
    )
    proxy = users.json()["items"][0]
    assert job["user_id"] == proxy["id"]
    assert proxy["qpu_seconds"] >= 999_999_000
    assert job["id"] in {j["id"] for j in admin.get("/api/jobs").json()}
    assert admin.post(f"/api/jobs/{job['id']}/cancel").status_code in (200, 404)


@pytest.mark.parametrize(
    ("path", "body"),
    [
        ("/api/op/version", None),
        ("/api/op/qpus/create", {"name": "x"}),
        ("/api/op/qpu/toggle", {"id": "x"}),
    ],
)
def test_admin_routes_refuse_everyone_else(server, user, anon, path, body):
    user_jwt = session(
        server.url, {"Authorization": login(server.url, server.user_email, server.user_password)}
    )
    for who in (anon, user, user_jwt):
        answer = who.get(path) if body is None else who.post(path, json=body)
        error(answer, 403, "Admin access required.")


def test_version(admin):
    answer = admin.get("/api/op/version")
    assert answer.status_code == 200 and answer.json() == {"version": "v0.1.2"}


# -- tokens -------------------------------------------------------------------------------------


def test_token_lifecycle(make_user):
    other, _ = make_user()
    created = other.post("/api/tokens", json={"name": "ci", "expires_at": "2099-12-31T00:00:00Z"})
    assert created.status_code == 201
    body = created.json()
    assert body["token"].startswith("qpi_") and len(body["token"]) == 68
    assert body["expires_at"] == "2099-12-31 00:00:00.000Z"
    token_id = body["id"]
    listed = other.get("/api/tokens").json()
    assert token_id in {t["id"] for t in listed}
    assert all("token" not in t for t in listed)
    assert other.get(f"/api/tokens/{token_id}").json()["name"] == "ci"
    patched = other.patch(f"/api/tokens/{token_id}", json={"name": "renamed", "expires_at": ""})
    assert patched.status_code == 200
    assert patched.json()["name"] == "renamed" and "expires_at" not in patched.json()
    assert other.patch(f"/api/tokens/{token_id}", json={}).json()["name"] == "renamed"
    fresh = session(other.url, {"X-API-Token": body["token"]})
    assert fresh.get("/api/jobs").status_code == 200
    deleted = other.delete(f"/api/tokens/{token_id}")
    assert deleted.status_code == 200 and deleted.json() == {"status": "deleted"}
    error(fresh.get("/api/jobs"), 401, AUTH_REQUIRED)
    error(other.get(f"/api/tokens/{token_id}"), 404, "Token not found.")


def test_tokens_are_owner_only_but_superusers_reach_any(make_user, admin):
    owner, _ = make_user()
    stranger, _ = make_user()
    token_id = owner.post("/api/tokens", json={"name": "mine"}).json()["id"]
    for method in ("GET", "PATCH", "DELETE"):
        error(stranger.request(method, f"/api/tokens/{token_id}", json={}), 404, "Token not found.")
    assert admin.get(f"/api/tokens/{token_id}").status_code == 200
    assert admin.delete(f"/api/tokens/{token_id}").status_code == 200


def test_expired_token_is_401(make_user):
    other, _ = make_user()
    raw = other.post("/api/tokens", json={"expires_at": "2001-01-01 00:00:00Z"}).json()["token"]
    error(session(other.url, {"X-API-Token": raw}).get("/api/jobs"), 401, AUTH_REQUIRED)


def test_token_bodies_are_checked(user):
    assert "expires_at" in error(user.post("/api/tokens", json={"expires_at": "soon"}), 400)["data"]
    assert "name" in error(user.post("/api/tokens", json={"name": 5}), 400)["data"]
    assert user.post("/api/tokens").status_code == 201  # the body is optional


def test_env_token_is_accepted(monkeypatch, tmp_path):
    from qpi.server import LocalServer

    raw = "qpi_" + uuid.uuid4().hex * 2
    monkeypatch.setenv("QPI_API_TOKEN", raw)
    with LocalServer(data_dir=tmp_path, workers=1, prewarm=False) as srv:
        assert session(srv.url, {"X-API-Token": raw}).get("/api/jobs").status_code == 200
        assert session(srv.url, {"X-API-Token": srv.api_token}).get("/api/jobs").status_code == 200
    assert raw not in (tmp_path / "qpi.sqlite3").read_bytes().decode("latin-1")


# -- login --------------------------------------------------------------------------------------


def test_login_records_and_failures(server, anon):
    answer = anon.post(
        "/api/collections/users/auth-with-password",
        json={"identity": server.user_email, "password": server.user_password},
    )
    assert answer.status_code == 200
    record = answer.json()["record"]
    assert record["email"] == server.user_email and "password_hash" not in record
    assert record["collectionName"] == "users"
    superuser = anon.post(
        "/api/collections/_superusers/auth-with-password",
        json={"identity": server.admin_email, "password": server.admin_password},
    ).json()["record"]
    assert superuser["collectionName"] == "_superusers"
    wrong = {"identity": server.user_email, "password": "wrong"}
    error(
        anon.post("/api/collections/users/auth-with-password", json=wrong),
        400,
        "Failed to authenticate.",
    )
    admin_as_user = {"identity": server.admin_email, "password": server.admin_password}
    error(anon.post("/api/collections/users/auth-with-password", json=admin_as_user), 400)
    error(anon.post("/api/collections/qpus/auth-with-password", json=wrong), 404)


def test_login_is_rate_limited_per_identity(server, anon):
    path = "/api/collections/users/auth-with-password"
    victim = f"nobody-{uuid.uuid4().hex[:6]}@example.com"
    for _ in range(10):
        error(anon.post(path, json={"identity": victim, "password": "x"}), 400)
    limited = anon.post(path, json={"identity": victim, "password": "x"})
    error(limited, 429)
    assert int(limited.headers["Retry-After"]) >= 1
    # Other identities are unaffected.
    ok = {"identity": server.user_email, "password": server.user_password}
    assert anon.post(path, json=ok).status_code == 200
