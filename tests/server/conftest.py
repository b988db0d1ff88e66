"""Shared fixtures of the local-orchestrator tests: real servers, spoken to over HTTP."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest

from qpi.server import LocalServer
from tests.server.helpers import Session, login, make_account, session


@pytest.fixture(scope="session")
def server() -> Iterator[LocalServer]:
    with LocalServer(seed=11) as srv:
        yield srv


@pytest.fixture(scope="session")
def user(server: LocalServer) -> Session:
    return session(server.url, {"X-API-Token": server.api_token})


@pytest.fixture(scope="session")
def admin(server: LocalServer) -> Session:
    token = login(server.url, server.admin_email, server.admin_password, "_superusers")
    return session(server.url, {"Authorization": f"Bearer {token}"})


@pytest.fixture(scope="session")
def anon(server: LocalServer) -> Session:
    return session(server.url)


@pytest.fixture(scope="session")
def qpus(anon: Session) -> dict[str, str]:
    """Built-in QPU name -> record id."""
    return {q["name"]: q["id"] for q in anon.get("/api/qpus").json()}


@pytest.fixture(scope="session")
def mock_id(qpus: dict[str, str]) -> str:
    return qpus["mock"]


@pytest.fixture(scope="session")
def make_user(server: LocalServer, admin: Session) -> Callable[..., tuple[Session, dict[str, Any]]]:
    """Create a fresh user; returns (API-token session, user record incl. password)."""

    def make(seconds: float = 1000.0) -> tuple[Session, dict[str, Any]]:
        account = make_account(server.url, admin, seconds)
        record = admin.get(f"/api/collections/users/records/{account.id}").json()
        return account.api, {**record, "password": account.password, "jwt": account.jwt()}

    return make
