"""A full disk (issue 16, item 7): the server says so, with the QPI error body, and keeps reading.

The database is capped with ``max_database_bytes`` (SQLite's ``max_page_count``): a write past
the cap fails inside SQLite exactly as on a full disk (SQLITE_FULL), so the whole path from
the failed write to the answer is the one a real full disk takes.
"""

from __future__ import annotations

import uuid

import pytest

from qpi import QPIClient, errors
from qpi.server import LocalServer
from qpi.transport import RetryPolicy
from tests.reliability.helpers import BELL, assert_error_body, parked_qpu
from tests.server.helpers import admin_session, session


def test_a_full_disk_answers_507_saying_so():
    with LocalServer(workers=1, prewarm=False, max_database_bytes=512 * 1024) as srv:
        admin = admin_session(srv.url, srv.admin_email, srv.admin_password)
        user = session(srv.url, {"X-API-Token": srv.api_token})
        parked = parked_qpu(admin)  # jobs stay pending: nothing else writes meanwhile
        big = BELL + "// " + "x" * 200_000 + "\n"
        for _ in range(20):
            answer = user.post(
                "/api/jobs",
                json={
                    "circuits": [{"circuit": big + f"// {uuid.uuid4().hex}\n"}],
                    "qpu_target": parked,
                },
            )
            if answer.status_code != 201:
                break
        else:
            pytest.fail("20 jobs of 200 kB fit in a 512 kB database")
        assert answer.status_code == 507, answer.text
        body = assert_error_body(answer)
        assert body["message"].startswith("The server's disk is full")
        # Reads still work, and the SDK raises a typed error carrying the server's words.
        assert user.get("/api/jobs").status_code == 200
        client = QPIClient(
            srv.url, api_token=srv.api_token, cache=False, retry=RetryPolicy(attempts=1)
        )
        with client, pytest.raises(errors.APIError) as info:
            client.submit_job([{"circuit": big}], qpu_target=parked)
        assert "disk is full" in str(info.value)
