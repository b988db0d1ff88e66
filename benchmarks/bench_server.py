"""The local orchestrator: ``LocalServer`` start and stop, and Bell job latency.

Latency is submit to ``completed`` as a client sees it: ``POST /api/jobs`` then
``GET /api/jobs/{id}`` every millisecond, on an idle server whose workers are warm, over one
keep-alive connection. Figures are medians (and 90th percentiles) of several repeats.

There is no competitor for the server side (the original project's server is a Go
program), so the rows have no baseline; they are the floor under the client benchmarks.

Run it with ``python -m benchmarks.bench_server`` (or ``python -m benchmarks --only server``).
"""

from __future__ import annotations

import statistics
import time
from typing import Any

import requests

BELL = (
    'OPENQASM 3.0;\ninclude "stdgates.inc";\nbit[2] c;\nqubit[2] q;\n'
    "h q[0];\ncx q[0], q[1];\nc = measure q;\n"
)
STARTS = 10
JOBS = 200


def _quantiles(samples: list[float]) -> str:
    cut = statistics.quantiles(samples, n=10)
    return f"median {statistics.median(samples) * 1e3:.1f} ms, p90 {cut[-1] * 1e3:.1f} ms"


def start_stop(count: int = STARTS) -> tuple[list[float], list[float]]:
    """Seconds to start and to stop a fresh server on a fresh temporary data dir."""
    from qpi.server import LocalServer

    starts, stops = [], []
    for _ in range(count):
        server = LocalServer()
        began = time.perf_counter()
        server.start()
        starts.append(time.perf_counter() - began)
        began = time.perf_counter()
        server.stop()
        stops.append(time.perf_counter() - began)
    return starts, stops


def bell_latency(server: Any = None, jobs: int = JOBS) -> list[float]:
    """Seconds from submit to seeing ``completed``, for 1024-shot Bell jobs.

    Args:
        server: A running ``LocalServer`` (one is started when ``None``).
        jobs: How many jobs to time.
    """
    from benchmarks._common import server_or_own

    with server_or_own(server) as server, requests.Session() as http:
        http.headers["X-API-Token"] = server.api_token
        target = http.get(f"{server.url}/api/qpus/mock").json()["id"]
        body = {"circuits": [{"circuit": BELL}], "shots": 1024, "qpu_target": target}
        time.sleep(2.0)  # let the workers finish warming up
        samples = []
        for _ in range(jobs):
            began = time.perf_counter()
            job_id = http.post(f"{server.url}/api/jobs", json=body).json()["id"]
            while http.get(f"{server.url}/api/jobs/{job_id}").json()["status"] != "completed":
                time.sleep(0.001)
            samples.append(time.perf_counter() - began)
        return samples


def run(server: Any = None, quick: bool = False) -> list[dict[str, Any]]:
    """Start/stop times of fresh servers and raw-HTTP Bell latency on ``server``.

    Args:
        server: A running ``LocalServer`` for the latency figure (one is started when
            ``None``); start and stop are always timed on fresh servers.
        quick: 3 starts and 50 jobs instead of 10 and 200.
    """
    from benchmarks._common import percentile, row

    starts, stops = start_stop(3 if quick else STARTS)
    latency = bell_latency(server, 50 if quick else JOBS)
    none = "no competitor (context)"
    return [
        row("LocalServer start, median", statistics.median(starts), None, none),
        row("LocalServer stop, median", statistics.median(stops), None, none),
        row(
            "Bell job, raw HTTP, 1 ms polling: submit -> completed, p50",
            statistics.median(latency),
            None,
            none,
        ),
        row(
            "Bell job, raw HTTP, 1 ms polling: submit -> completed, p95",
            percentile(latency, 95),
            None,
            none,
        ),
    ]


def main() -> None:
    """Print the figures."""
    starts, stops = start_stop()
    print(f"LocalServer start: {_quantiles(starts)}")
    print(f"LocalServer stop:  {_quantiles(stops)}")
    print(f"Bell job, submit -> completed: {_quantiles(bell_latency())}")


if __name__ == "__main__":
    main()
