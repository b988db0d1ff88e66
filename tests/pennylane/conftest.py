"""Fixtures for the PennyLane plugin: one seeded local orchestrator for all its tests."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest

pytest.importorskip("pennylane")

import pennylane as qml  # noqa: E402

from qpi import QPIClient  # noqa: E402
from qpi.server import LocalServer  # noqa: E402


@pytest.fixture(scope="session")
def pl_server() -> Iterator[LocalServer]:
    with LocalServer(seed=7) as srv:
        yield srv


@pytest.fixture(scope="session")
def pl_client(pl_server: LocalServer) -> Iterator[QPIClient]:
    with pl_server.client(cache=False) as client:
        yield client


@pytest.fixture
def make_device(pl_server: LocalServer) -> Callable[..., Any]:
    """``make_device(wires, **kwargs)``: a ``qpi.remote`` device on the test server, no cache."""

    def make(wires: Any = 2, **kwargs: Any) -> Any:
        options = {"url": pl_server.url, "api_token": pl_server.api_token, "cache": False}
        options.update(kwargs)
        return qml.device("qpi.remote", wires=wires, **options)

    return make


@pytest.fixture
def job_count(pl_client: QPIClient) -> Callable[[], int]:
    """How many jobs the test user has on the server (to count the jobs a step makes)."""
    return lambda: len(pl_client.list_jobs())
