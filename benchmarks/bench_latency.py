"""Small-job latency: a 1,024-shot Bell job from submit to result, against the original client.

Ours: ``QPIClient.submit_job`` then ``QPIClient.wait_for_job`` (the cache off, so every job
really runs). The competitor: ``qpi_client.QPIClient.submit_job`` then
``QPIJob.result(wait=...)``, once with its default ``wait=5.0`` and once with ``wait=0.1``.
Both send the ``mock`` QPU's record id as ``qpu_target`` (the original ``QPIBackend`` never
sends one, so its jobs would never run). Each figure is the time from the call to
``submit_job`` until the final record (ours) or the ``Result`` (theirs) is in hand.

Our jobs and the ``wait=0.1`` jobs alternate one by one, so a change in machine load hits
both alike; the ``wait=5.0`` jobs run afterwards, as many as fit in 90 s (at most 50): each
job whose first poll comes too early costs 5 s more. Five warm-up jobs per client are not
counted.

Run it with ``python -m benchmarks --only latency``.
"""

from __future__ import annotations

from typing import Any

from benchmarks._common import BELL, median, mock_qpu_id, percentile, row, server_or_own, timed

SHOTS = 1024
JOBS = 50
SLOW_BUDGET = 90.0
WARMUP = 5
TARGET_P50 = 0.025


def _ours(client: Any, target: str) -> Any:
    def once() -> dict:
        job_id = client.submit_job([{"circuit": BELL}], shots=SHOTS, qpu_target=target)
        return client.wait_for_job(job_id, timeout=60)

    return once


def _theirs(client: Any, target: str, wait: float) -> Any:
    from qpi_client.provider import QPIJob

    # ``client.job(id).result()`` fails in qpi-client 0.4.2 (a job without a backend cannot
    # build its Result), so the handle gets the backend a user would have made.
    backend = client.get_backend(target)

    def once() -> Any:
        job_id = client.submit_job([{"circuit": BELL}], shots=SHOTS, qpu_target=target)
        return QPIJob(backend, job_id, client).result(timeout=60, wait=wait)

    return once


def run(server: Any = None, quick: bool = False) -> list[dict[str, Any]]:
    """Time Bell jobs through both clients and return p50 and p95 rows.

    Args:
        server: A running ``LocalServer`` (one is started when ``None``).
        quick: 10 jobs per client (and 15 s for ``wait=5.0``) instead of 50 (and 90 s).
    """
    import time

    import qpi_client

    from qpi import QPIClient

    jobs, budget = (10, 15.0) if quick else (JOBS, SLOW_BUDGET)
    with server_or_own(server) as srv:
        target = mock_qpu_id(srv)
        ours_client = QPIClient(srv.url, api_token=srv.api_token, cache=False, cache_mode="off")
        theirs_client = qpi_client.QPIClient(srv.url, api_token=srv.api_token)
        with ours_client, theirs_client:
            ours, fast, slow = (
                _ours(ours_client, target),
                _theirs(theirs_client, target, 0.1),
                _theirs(theirs_client, target, 5.0),
            )
            for _ in range(WARMUP):
                ours()
                fast()
            ours_times, fast_times = [], []
            for _ in range(jobs):
                ours_times.append(timed(ours)[0])
                fast_times.append(timed(fast)[0])
            slow_times: list[float] = []
            stop = time.monotonic() + budget
            while len(slow_times) < jobs and time.monotonic() < stop:
                slow_times.append(timed(slow)[0])

    p50, p95 = median(ours_times), percentile(ours_times, 95)
    fast_name = f"qpi-client 0.4.2, wait=0.1 ({jobs} jobs)"
    slow_name = f"qpi-client 0.4.2, default wait=5.0 ({len(slow_times)} jobs)"
    name = f"Bell {SHOTS:,} shots, submit -> result ({jobs} jobs)"
    return [
        row(
            f"{name}, p50",
            p50,
            median(slow_times),
            slow_name,
            target="p50 < 25 ms, ahead",
            passed=p50 < TARGET_P50 and p50 < median(slow_times),
        ),
        row(
            f"{name}, p95",
            p95,
            percentile(slow_times, 95),
            slow_name,
            target="ahead",
            passed=p95 < percentile(slow_times, 95),
        ),
        row(
            f"{name}, p50",
            p50,
            median(fast_times),
            fast_name,
            target="ahead",
            passed=p50 < median(fast_times),
        ),
        row(
            f"{name}, p95",
            p95,
            percentile(fast_times, 95),
            fast_name,
            target="ahead",
            passed=p95 < percentile(fast_times, 95),
        ),
        row(f"{name}, slowest", max(ours_times), max(slow_times), slow_name),
        row(f"{name}, slowest", max(ours_times), max(fast_times), fast_name),
    ]


if __name__ == "__main__":
    from benchmarks._common import print_rows

    print_rows("1. small-job latency", run())
