"""Fixtures for the Qiskit plugin: one seeded local orchestrator for all its tests."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

pytest.importorskip("qiskit")

from qpi_qiskit import QPIBackend  # noqa: E402

from qpi import QPIClient  # noqa: E402
from qpi.server import LocalServer  # noqa: E402


@pytest.fixture(scope="session")
def server() -> Iterator[LocalServer]:
    with LocalServer(seed=11) as srv:
        yield srv


@pytest.fixture(scope="session")
def client(server: LocalServer) -> Iterator[QPIClient]:
    with server.client(cache=False) as c:
        yield c


@pytest.fixture(scope="session")
def backend(client: QPIClient) -> QPIBackend:
    return client.get_backend("mock")


@pytest.fixture
def admin(server: LocalServer) -> Iterator[QPIClient]:
    with QPIClient(server.url, cache=False) as c:
        c.auth_with_password(server.admin_email, server.admin_password, superuser=True)
        yield c
