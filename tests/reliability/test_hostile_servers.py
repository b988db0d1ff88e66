"""The client against servers that misbehave on purpose (issue 16, items 8 to 11).

Each test is one attack that once worked: a redirect that carried the token (and the job) to
another host, answers that held a call with a timeout for minutes, listings that never ended,
and bodies that crashed the client (``RecursionError``, ``MemoryError``) or filled its memory.
The scripted server (``tests/hostile.py``) plays the attacker; sizes and limits are small.
"""

from __future__ import annotations

import threading
import time
import tracemalloc

import pytest

from qpi import QPIClient, errors
from qpi.transport import RetryPolicy
from tests.hostile import Exchange, gzip_bomb, hostile

TOKEN = "qpi_" + "ab" * 32
JOB = {"id": "j1", "status": "pending", "user_id": "u", "qpu_target": "q"}
#: Slack on top of a deadline for scheduling on a loaded two-core machine.
MARGIN = 1.5


def client_for(url: str, **kwargs) -> QPIClient:
    kwargs.setdefault("retry", RetryPolicy(attempts=5, backoff=0.01, max_backoff=0.05))
    return QPIClient(url, api_token=TOKEN, cache=False, profile=False, **kwargs)


# -- item 8: credentials never cross origins ---------------------------------------------------


@pytest.mark.parametrize("status", [301, 302, 303, 307, 308])
def test_a_redirect_to_another_origin_carries_neither_token_nor_job(status):
    with hostile() as elsewhere, hostile() as server:
        elsewhere.on("*", lambda ex: ex.json(JOB))
        target = f"{elsewhere.url}/api/jobs"

        def moved(ex: Exchange) -> None:
            ex.head(status, {"Location": target, "Content-Length": "0"})

        server.on("/api/jobs", moved)
        server.on("/api/jobs/j1", moved)
        with client_for(server.url) as client:
            with pytest.raises(errors.APIError, match="another origin") as info:
                client.get_job("j1")
            assert elsewhere.url in str(info.value)
            with pytest.raises(errors.APIError, match="another origin"):
                client.submit_job([{"circuit": "OPENQASM 3.0;"}], qpu_target="q")
        assert elsewhere.seen == []  # nothing at all reached the other origin


def test_a_redirect_to_another_host_name_or_scheme_is_refused_too():
    with hostile() as server:
        for location in (
            f"http://localhost:{server.port}/api/jobs/j2",  # same port, other host name
            f"https://127.0.0.1:{server.port}/api/jobs/j2",  # other scheme
        ):
            server.on("/api/jobs/j1", lambda ex, to=location: ex.head(307, {"Location": to}))
            with client_for(server.url) as client, pytest.raises(errors.APIError):
                client.get_job("j1")
        assert [s.path for s in server.seen] == ["/api/jobs/j1", "/api/jobs/j1"]


def test_a_same_origin_redirect_is_followed_with_the_token():
    with hostile() as server:
        server.on("/api/jobs/j1", lambda ex: ex.head(307, {"Location": "/api/jobs/j2"}))
        server.on("/api/jobs/j2", lambda ex: ex.json({**JOB, "id": "j2"}))
        with client_for(server.url) as client:
            assert client.get_job("j1")["id"] == "j2"
        assert server.seen[-1].headers.get("X-API-Token") == TOKEN


# -- item 9: every call with a timeout ends within it ---------------------------------------------


def _elapsed(call) -> tuple[float, BaseException | None]:
    start = time.monotonic()
    try:
        call()
    except Exception as exc:
        return time.monotonic() - start, exc
    return time.monotonic() - start, None


def test_a_stalling_body_ends_the_call_at_its_deadline():
    with hostile() as server:

        def stall(ex: Exchange) -> None:
            ex.head(200, {"Content-Type": "application/json", "Content-Length": "500"})
            ex.write(b'{"id": "j1", ')
            ex.wait(60)

        server.on("/api/jobs/j1", stall)
        with client_for(server.url, timeout=(1.0, 1.0)) as client:
            elapsed, exc = _elapsed(lambda: client.get_job("j1"))
            assert isinstance(exc, errors.ConnectionError), exc
            assert elapsed < 2.0 + MARGIN
        with client_for(server.url) as client:  # default (5, 30): the wait's own 1.5 s rules
            elapsed, exc = _elapsed(lambda: client.wait_for_job("j1", timeout=1.5))
            assert isinstance(exc, errors.JobTimeoutError), exc
            assert elapsed < 1.5 + MARGIN


def test_a_dripping_body_ends_the_call_at_its_deadline():
    with hostile() as server:

        def drip(ex: Exchange) -> None:
            ex.head(200, {"Content-Type": "application/json", "Content-Length": "400"})
            ex.write(b'{"id": "j1", "pad": "')
            while not ex.wait(0.1):  # one byte well within every read timeout
                ex.write(b"x")

        server.on("/api/jobs/j1", drip)
        with client_for(server.url, timeout=(1.0, 1.0)) as client:
            elapsed, exc = _elapsed(lambda: client.get_job("j1"))
        assert isinstance(exc, errors.ConnectionError), exc
        assert elapsed < 2.0 + MARGIN  # not the 38 s the 380 bytes take


def test_a_retry_after_beyond_the_deadline_raises_at_once():
    with hostile() as server:
        server.on(
            "/api/jobs/j1", lambda ex: ex.json({"message": "slow down"}, 429, {"Retry-After": "59"})
        )
        with client_for(server.url, timeout=(1.0, 2.0)) as client:
            elapsed, exc = _elapsed(lambda: client.get_job("j1"))
        assert isinstance(exc, errors.RateLimitError), exc
        assert exc.retry_after == 59
        assert elapsed < 1.0


def test_retries_never_sleep_past_the_deadline():
    with hostile() as server:
        server.on(
            "/api/jobs/j1", lambda ex: ex.json({"message": "busy"}, 503, {"Retry-After": "2"})
        )
        retry = RetryPolicy(attempts=50, backoff=0.5, max_backoff=2.0)
        with client_for(server.url, timeout=(1.0, 2.0), retry=retry) as client:
            elapsed, exc = _elapsed(lambda: client.get_job("j1"))
        assert isinstance(exc, errors.ServerError), exc
        assert elapsed < 3.0 + MARGIN


# -- item 10: listings end ------------------------------------------------------------------


def _finishes(call, seconds: float = 20.0):
    box: list = []
    thread = threading.Thread(target=lambda: box.append(call()), daemon=True)
    thread.start()
    thread.join(seconds)
    assert box, f"still paging after {seconds} s"
    return box[0]


def test_a_server_ignoring_skip_does_not_page_for_ever():
    page = [{**JOB, "id": f"j{i}"} for i in range(500)]  # always the same full page
    with hostile() as server:
        server.on("/api/jobs", lambda ex: ex.json(page))
        with client_for(server.url) as client:
            jobs = _finishes(client.list_jobs)
    assert [j["id"] for j in jobs] == [j["id"] for j in page]
    assert len(server.seen) == 2  # the repeated page is where it stops


def test_endless_empty_pages_stop_at_the_first():
    with hostile() as server:
        envelope = {"page": 1, "perPage": 500, "totalItems": 10**12, "totalPages": 10**9}
        server.on(
            "/api/collections/time_slots/records", lambda ex: ex.json({**envelope, "items": []})
        )
        with client_for(server.url) as client:
            assert _finishes(client.list_time_slots) == []
    assert len(server.seen) == 1


def test_pages_of_repeated_records_stop():
    items = [{"id": "s1", "start_time": "", "end_time": "", "booked_by": ""}]
    with hostile() as server:
        envelope = {"page": 1, "perPage": 500, "totalItems": 10**12, "totalPages": 10**9}
        server.on(
            "/api/collections/time_slots/records", lambda ex: ex.json({**envelope, "items": items})
        )
        with client_for(server.url) as client:
            assert _finishes(client.list_time_slots) == items
    assert len(server.seen) == 2


# -- item 11: hostile bodies -----------------------------------------------------------------


def test_deeply_nested_json_is_a_typed_error():
    nested = b"[" * 200_000 + b"]" * 200_000
    with hostile() as server:
        server.on(
            "/api/jobs/j1",
            lambda ex: ex.raw_body(nested, 200, {"Content-Type": "application/json"}),
        )
        server.on(
            "/api/jobs/j2",
            lambda ex: ex.raw_body(nested, 400, {"Content-Type": "application/json"}),
        )
        with client_for(server.url) as client:
            with pytest.raises(errors.ServerError, match="nested too deeply"):
                client.get_job("j1")
            with pytest.raises(errors.BadRequestError):  # an error body nested: still typed
                client.get_job("j2")


def test_a_gzip_bomb_is_a_typed_error_and_never_decoded_whole():
    bomb = gzip_bomb(64 * 1024 * 1024)  # 64 MiB of zeros in about 64 kB
    with hostile() as server:
        headers = {"Content-Type": "application/json", "Content-Encoding": "gzip"}
        server.on("/api/jobs/j1", lambda ex: ex.raw_body(bomb, 200, headers))
        with client_for(server.url, max_response_bytes=1024 * 1024) as client:
            tracemalloc.start()
            try:
                with pytest.raises(errors.ServerError, match="larger than the client's limit"):
                    client.get_job("j1")
                peak = tracemalloc.get_traced_memory()[1]
            finally:
                tracemalloc.stop()
    assert peak < 16 * 1024 * 1024, peak


@pytest.mark.parametrize("declared", [True, False], ids=["content-length", "chunked"])
def test_a_huge_body_is_never_buffered_whole(declared):
    size = 400 * 1024 * 1024
    sent: list[int] = [0]

    def huge(ex: Exchange) -> None:
        block = b"0" * 65536
        if declared:
            ex.head(200, {"Content-Type": "application/json", "Content-Length": str(size)})
            while sent[0] < size:
                ex.write(block)
                sent[0] += len(block)
        else:
            ex.head(200, {"Content-Type": "application/json", "Transfer-Encoding": "chunked"})
            while sent[0] < size:
                ex.write(b"%x\r\n%s\r\n" % (len(block), block))
                sent[0] += len(block)

    with hostile() as server:
        server.on("/api/jobs/j1", huge)
        with (
            client_for(server.url, max_response_bytes=1024 * 1024) as client,
            pytest.raises(errors.ServerError, match="larger than the client's limit"),
        ):
            client.get_job("j1")
    assert sent[0] < 64 * 1024 * 1024  # the client hung up long before 400 MB
