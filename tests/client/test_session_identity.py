"""A user logged in with a password keeps their cache across renewals and new logins.

The cache scopes entries by who is asking. For an API token that is a digest of the token;
for a password session it is the user record the session names, since every login and every
renewal brings a new session token.
"""

from __future__ import annotations

import base64
import json
import time

from qpi import QPIClient
from qpi.transport import Credentials, session_subject
from tests.client.conftest import BELL
from tests.server.helpers import admin_session, make_account


def _jwt(claims: dict) -> str:
    body = base64.urlsafe_b64encode(json.dumps(claims).encode()).rstrip(b"=").decode()
    return f"e30.{body}.c2ln"


def test_the_subject_comes_from_the_record_the_session_names():
    assert session_subject(_jwt({"id": "u1", "collectionId": "pbc_users"})) == "pbc_users/u1"
    assert session_subject(_jwt({"id": "u1", "collectionName": "users"})) == "users/u1"
    for hostile in ("", "a.b", "a.!!!.c", _jwt({"id": 3}), _jwt({"x": 1}), _jwt([1]), "a." * 9000):
        assert session_subject(hostile) is None


def test_two_sessions_of_one_user_share_an_identity_and_other_users_do_not():
    first, second, other = Credentials(), Credentials(), Credentials()
    first.set_session_token(_jwt({"id": "u1", "collectionId": "c", "iat": 1}))
    second.set_session_token(_jwt({"id": "u1", "collectionId": "c", "iat": 2}))
    other.set_session_token(_jwt({"id": "u2", "collectionId": "c", "iat": 1}))
    assert first.identity() == second.identity() != other.identity()
    assert first.identity().startswith("user:")


def test_a_new_login_replays_what_the_last_session_recorded(server, tmp_path):
    superuser = admin_session(server.url, server.admin_email, server.admin_password)
    account = make_account(server.url, superuser)
    with QPIClient(server.url, cache=tmp_path / "cache") as first:
        first.auth_with_password(account.email, account.password)
        recorded = first.run(BELL, shots=200).result()
    time.sleep(1.1)  # a later login: a different session token
    with QPIClient(server.url, cache=tmp_path / "cache") as second:
        second.auth_with_password(account.email, account.password)
        replayed = second.run(BELL, shots=200).result()
    assert not recorded.from_cache
    assert replayed.from_cache
    assert replayed.get_counts() == recorded.get_counts()
