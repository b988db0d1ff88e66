"""Fixtures for the Cirq plugin tests: one seeded local orchestrator for the module."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from qpi_cirq import QPISampler

from qpi import QPIClient
from qpi.server import LocalServer


@pytest.fixture(scope="module")
def server() -> Iterator[LocalServer]:
    with LocalServer(seed=11) as srv:
        yield srv


@pytest.fixture
def client(server: LocalServer) -> Iterator[QPIClient]:
    with server.client(cache=False) as c:
        yield c


@pytest.fixture
def sampler(client: QPIClient) -> QPISampler:
    return QPISampler(client, backend="mock", seed=5)
