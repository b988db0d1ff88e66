"""The ``qpi`` loggers: retries, reconnects and polls are visible at DEBUG."""

from __future__ import annotations

import logging
import socket

import pytest

from qpi import QPIClient, errors
from qpi.transport import RetryPolicy


def test_reconnects_are_logged_at_debug(caplog: pytest.LogCaptureFixture) -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        dead = f"http://127.0.0.1:{sock.getsockname()[1]}"
    client = QPIClient(
        dead, api_token="t", cache=False, retry=RetryPolicy(attempts=3, backoff=0.01)
    )
    with caplog.at_level(logging.DEBUG, logger="qpi"), pytest.raises(errors.ConnectionError):
        client.list_jobs()
    retries = [r for r in caplog.records if r.name == "qpi.transport"]
    assert len(retries) == 2 and all(r.levelno == logging.DEBUG for r in retries)
    assert "connection refused; reconnecting in" in retries[0].getMessage()
    assert "(attempt 2 of 3)" in retries[0].getMessage()


def test_polls_are_logged_at_debug(client: QPIClient, mock_id: str, caplog) -> None:
    from tests.client.conftest import BELL

    with caplog.at_level(logging.DEBUG, logger="qpi.jobs"):
        job_id = client.submit_job([{"circuit": BELL}], qpu_target=mock_id)
        client.wait_for_job(job_id, timeout=60)
    polls = [r.getMessage() for r in caplog.records if r.name == "qpi.jobs"]
    assert polls and polls[-1].startswith(f"job {job_id}: completed after")


def test_nothing_is_printed_by_default(client: QPIClient, mock_id: str, capfd) -> None:
    from tests.client.conftest import BELL

    client.wait_for_job(client.submit_job([{"circuit": BELL}], qpu_target=mock_id), timeout=60)
    assert capfd.readouterr().err == ""
