"""Fixtures of the reliability and security campaign: one real orchestrator per module."""

from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest

from qpi.server import LocalServer
from tests.server.helpers import Account, Session, admin_session, make_account


@pytest.fixture(scope="module")
def server() -> Iterator[LocalServer]:
    with LocalServer(seed=2026) as srv:
        yield srv


@pytest.fixture(scope="module")
def admin(server: LocalServer) -> Session:
    """A superuser JWT session."""
    return admin_session(server.url, server.admin_email, server.admin_password)


@pytest.fixture(scope="module")
def account(server: LocalServer, admin: Session) -> Callable[..., Account]:
    """Make a fresh user with an API token."""

    def make(seconds: float = 1_000_000.0) -> Account:
        return make_account(server.url, admin, seconds)

    return make
