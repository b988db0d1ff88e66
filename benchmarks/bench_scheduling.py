"""A short job behind long ones: a Bell job submitted while two 22-qubit jobs run.

Two servers side by side, each with two general workers: ours as configured by default (one
more worker reserved for short jobs, long work at a lower CPU priority), and the same server
with ``short_workers=0``, which schedules first come, first served as the orchestrator did
before (the alternative). On each, two 22-qubit jobs (20 layers of ``h``, ``rx`` and a
``cx`` ladder; several seconds each) are submitted, then, once both run, a 1,024-shot Bell
job. The figure is the Bell job's time from submit until its record says ``completed``
(polled every 2 ms), the median of a few repeats. Target: under 100 ms.

Run it with ``python -m benchmarks --only scheduling``.
"""

from __future__ import annotations

import time
from typing import Any

from benchmarks._common import BELL, SEED, median, row
from benchmarks.bench_engines import layered

TARGET = 0.100
REPEATS = 3
WIDE_QUBITS = 22


def _bell_behind_long_jobs(server: Any, layers: int) -> float:
    """Seconds from submitting a Bell job to its completion, with two long jobs running."""
    import requests

    http = requests.Session()
    http.headers["X-API-Token"] = server.api_token
    mock = http.get(f"{server.url}/api/qpus/mock", timeout=30).json()["id"]

    def submit(circuit: str) -> str:
        body = {"circuits": [{"circuit": circuit}], "qpu_target": mock, "shots": 1024}
        return http.post(f"{server.url}/api/jobs", json=body, timeout=30).json()["id"]

    def status(job_id: str) -> str:
        return http.get(f"{server.url}/api/jobs/{job_id}", timeout=30).json()["status"]

    text, _ = layered(WIDE_QUBITS, layers)
    long_jobs = [submit(text + f"// long {k} {time.time()}\n") for k in range(2)]
    deadline = time.monotonic() + 60
    while any(status(job_id) == "pending" for job_id in long_jobs):
        assert time.monotonic() < deadline, "the long jobs never started"
        time.sleep(0.01)
    started = time.perf_counter()
    bell = submit(BELL + f"// bell {time.time()}\n")
    while status(bell) != "completed":
        time.sleep(0.002)
    waited = time.perf_counter() - started
    for job_id in long_jobs:
        http.post(f"{server.url}/api/jobs/{job_id}/cancel", timeout=30)
    return waited


def run(quick: bool = False) -> list[dict[str, Any]]:
    """Ours (a short-job lane) against first come, first served."""
    from qpi.server import LocalServer

    layers = 8 if quick else 20
    ours, theirs = [], []
    with (
        LocalServer(seed=SEED, workers=2) as lane,
        LocalServer(seed=SEED, workers=2, short_workers=0) as fifo,
    ):
        for _ in range(1 if quick else REPEATS):
            ours.append(_bell_behind_long_jobs(lane, layers))
            theirs.append(_bell_behind_long_jobs(fifo, layers))
    figure = median(ours)
    return [
        row(
            f"Bell job behind two {WIDE_QUBITS}-qubit jobs: submit to completed",
            figure,
            median(theirs),
            "the same server, first come first served (short_workers=0)",
            target="< 100 ms",
            passed=figure < TARGET,
        )
    ]
