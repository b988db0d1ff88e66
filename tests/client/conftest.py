"""Fixtures for the core client tests: one seeded local orchestrator for the module."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from qpi import QPIClient
from qpi.server import LocalServer
from tests.server.helpers import admin_session, login, make_account

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
    superuser = admin_session(server.url, server.admin_email, server.admin_password)
    account = make_account(server.url, superuser, seconds)
    return QPIClient(server.url, api_token=account.token, cache=False)


def admin_jwt(server: LocalServer) -> str:
    return login(server.url, server.admin_email, server.admin_password, "_superusers")
