"""Transport faults injected by a TCP proxy in front of a real local orchestrator."""

import time

import pytest
import requests

from qpi import QPIClient, errors
from qpi.transport import RetryPolicy
from tests.client.conftest import BELL
from tests.faultproxy import fault_proxy

FAST_RETRIES = RetryPolicy(attempts=4, backoff=0.01, max_backoff=0.05)


@pytest.fixture
def proxy(server):
    with fault_proxy(server.url) as p:
        yield p


@pytest.fixture
def flaky_client(server, proxy):
    with QPIClient(proxy.url, api_token=server.api_token, cache=False, retry=FAST_RETRIES) as c:
        yield c


def _server_job_count(client):
    return len(client.list_jobs())


@pytest.mark.parametrize(
    "fault",
    [
        {"fault": "reset"},
        {"fault": "status", "status": 502},
        {"fault": "status", "status": 503},
        {"fault": "status", "status": 504},
        {"fault": "status", "status": 429, "headers": {"Retry-After": "0"}},
    ],
)
def test_idempotent_get_is_retried_through_faults(flaky_client, proxy, fault):
    proxy.add(method="GET", path="/api/qpus", times=2, **fault)
    assert {q["name"] for q in flaky_client.list_qpus()} >= {"mock"}
    assert proxy.count("GET", "/api/qpus", "forwarded") == 1
    assert proxy.count("GET", "/api/qpus") == 3


def test_retry_after_is_honoured(flaky_client, proxy):
    proxy.add("status", method="GET", path="/api/qpus", status=429, headers={"Retry-After": "0.3"})
    start = time.monotonic()
    flaky_client.list_qpus()
    assert time.monotonic() - start >= 0.3


def test_retries_run_out_with_a_typed_error(flaky_client, proxy):
    proxy.add("status", method="GET", path="/api/qpus", status=503, times=10)
    with pytest.raises(errors.ServerError) as info:
        flaky_client.list_qpus()
    assert info.value.status_code == 503
    assert "Injected fault" in str(info.value)


def test_too_long_retry_after_raises_rate_limit(flaky_client, proxy):
    proxy.add("status", method="GET", path="/api/qpus", status=429, headers={"Retry-After": "3600"})
    with pytest.raises(errors.RateLimitError) as info:
        flaky_client.list_qpus()
    assert info.value.retry_after == pytest.approx(3600)


@pytest.mark.parametrize(
    "fault",
    [
        {"fault": "reset"},  # never reached the server: resend
        {"fault": "reset_after"},  # accepted, answer lost: adopt, don't resend
        {"fault": "status", "status": 502},  # proxy refused: the job list proves it
        {"fault": "status", "status": 429, "headers": {"Retry-After": "0"}},
    ],
)
def test_submission_is_never_duplicated(server, client, flaky_client, proxy, mock_id, fault):
    before = _server_job_count(client)
    proxy.add(method="POST", path="/api/jobs", **fault)
    job_id = flaky_client.submit_job([{"circuit": BELL}], shots=33, qpu_target=mock_id)
    assert _server_job_count(client) == before + 1
    assert client.list_jobs(limit=1)[0]["id"] == job_id
    assert client.wait_for_job(job_id, timeout=30)["status"] == "completed"


def test_wait_resumes_after_the_server_blips(client, flaky_client, proxy, mock_id):
    job_id = client.submit_job([{"circuit": BELL}], qpu_target=mock_id)
    proxy.add("reset", method="GET", path=f"/api/jobs/{job_id}", times=6)
    assert flaky_client.wait_for_job(job_id, timeout=30)["status"] == "completed"


def test_unreachable_server_is_a_connection_error():
    with (
        QPIClient("http://127.0.0.1:9", cache=False, retry=FAST_RETRIES) as c,
        pytest.raises(errors.ConnectionError, match="connection refused") as info,
    ):
        c.list_qpus()

    assert isinstance(info.value, requests.ConnectionError)  # what the original client raised
    assert info.value.url == "http://127.0.0.1:9/api/qpus"
