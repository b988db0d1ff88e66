"""The transport honours the proxy settings of the environment, read once per session."""

from __future__ import annotations

import pytest

from qpi import QPIClient, errors
from tests.faultproxy import FaultProxy


@pytest.fixture
def no_proxy_settings(monkeypatch):
    for name in ("HTTP_PROXY", "http_proxy", "HTTPS_PROXY", "https_proxy", "ALL_PROXY",
                 "all_proxy", "NO_PROXY", "no_proxy"):  # fmt: skip
        monkeypatch.delenv(name, raising=False)
    return monkeypatch


def test_requests_go_through_the_proxy_the_environment_names(server, no_proxy_settings):
    with FaultProxy(server.url) as proxy:
        no_proxy_settings.setenv("HTTP_PROXY", proxy.url)
        with QPIClient(server.url, api_token=server.api_token, cache=False) as client:
            for _ in range(2):
                # The test proxy relays the absolute URL a forward proxy is sent, unchanged,
                # and the server routes only paths: a 404 proves the proxy was used.
                with pytest.raises(errors.NotFoundError):
                    client.list_qpus()
        assert proxy.count("GET", f"{server.url}/api/qpus") == 2


def test_no_proxy_bypasses_it(server, no_proxy_settings):
    with FaultProxy(server.url) as proxy:
        no_proxy_settings.setenv("HTTP_PROXY", proxy.url)
        no_proxy_settings.setenv("NO_PROXY", "127.0.0.1")
        with QPIClient(server.url, api_token=server.api_token, cache=False) as client:
            assert client.list_qpus()
        assert proxy.seen == []
