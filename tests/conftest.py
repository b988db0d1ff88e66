"""Test-wide setup: keep every test away from the user's own cache, config and server."""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest

_CLEARED = ("QPI_URL", "QPI_API_TOKEN", "QPI_PROFILE", "QPI_CACHE_MODE", "QPI_QPU")


@pytest.fixture(autouse=True, scope="session")
def _isolated_environment(tmp_path_factory: pytest.TempPathFactory) -> Iterator[None]:
    saved = {key: os.environ.get(key) for key in (*_CLEARED, "QPI_CACHE_DIR", "QPI_CONFIG")}
    for key in _CLEARED:
        os.environ.pop(key, None)
    root = tmp_path_factory.mktemp("qpi-user")
    os.environ["QPI_CACHE_DIR"] = str(root / "cache")
    os.environ["QPI_CONFIG"] = str(root / "config.toml")
    yield
    for key, value in saved.items():
        if value is None:
            os.environ.pop(key, None)
        else:
            os.environ[key] = value
