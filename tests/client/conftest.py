"""Fixtures for the core client tests: one seeded local orchestrator for the module."""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import pytest
import requests

from qpi import QPIClient
from qpi.server import LocalServer

BELL = (
    'OPENQASM 3.0;\ninclude "stdgates.inc";\nbit[2] c;\nqubit[2] q;\n'
    "h q[0];\ncx q[0], q[1];\nc = measure q;\n"
)
X_ON_ONE_OF_THREE = (
    'OPENQASM 3.0;\ninclude "stdgates.inc";\nbit[3] c;\nqubit[3] q;\nx q[1];\nc = measure q;\n'
)
RX = (
    'OPENQASM 3.0;\ninclude "stdgates.inc";\ninput float[64] theta;\nbit[1] c;\nqubit[1] q;\n'
    "rx(theta) q[0];\nc[0] = measure q[0];\n"
)


@pytest.fixture(scope="module")
def server() -> Iterator[LocalServer]:
    with LocalServer(seed=7) as srv:
        yield srv


@pytest.fixture
def client(server: LocalServer) -> Iterator[QPIClient]:
    with server.client(cache=False) as c:
        yield c


@pytest.fixture
def admin(server: LocalServer) -> Iterator[QPIClient]:
    with QPIClient(server.url, cache=False) as c:
        c.auth_with_password(server.admin_email, server.admin_password, superuser=True)
        yield c


@pytest.fixture
def mock_id(client: QPIClient) -> str:
    return client.get_qpu("mock")["id"]


def new_user(server: LocalServer, admin: QPIClient, seconds: float = 1000.0) -> QPIClient:
    """Create another user with an API token and return a client for them."""
    email = f"user-{uuid.uuid4().hex[:8]}@example.com"
    password = uuid.uuid4().hex
    base = server.url + "/api/collections/users"
    admin_token = admin_jwt(server)
    record = requests.post(
        f"{base}/records",
        json={"email": email, "password": password, "passwordConfirm": password},
        headers={"Authorization": admin_token},
        timeout=10,
    )
    record.raise_for_status()
    admin.allocate_qpu_time(record.json()["id"], seconds)
    login = QPIClient(server.url, cache=False)
    login.auth_with_password(email, password)
    token = login.create_token(name="tests")["token"]
    login.close()
    return QPIClient(server.url, api_token=token, cache=False)


def admin_jwt(server: LocalServer) -> str:
    answer = requests.post(
        server.url + "/api/collections/_superusers/auth-with-password",
        json={"identity": server.admin_email, "password": server.admin_password},
        timeout=10,
    )
    answer.raise_for_status()
    return answer.json()["token"]
