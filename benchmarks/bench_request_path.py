"""The orchestrator's request path: server CPU per small job, and throughput at 16 clients.

Three servers run side by side, each in its own process so its CPU time can be read from
``/proc``:

- **ours**: this tree's ``LocalServer``;
- **before**: the same ``LocalServer`` from the commit before the request-path work
  (:data:`BASELINE_COMMIT`, extracted with ``git archive``), i.e. today's server;
- **floor**: an empty FastAPI app under the same uvicorn (h11, no access log), whose
  ``POST /api/jobs`` and ``GET /api/jobs/{id}`` answer a constant: the least any FastAPI
  server can spend on a request.

**CPU per job.** One client runs Bell jobs (1,024 shots) one after the other on a keep-alive
connection and the server process's CPU time (user + system, from ``/proc/<pid>/stat``; the
simulator processes are not counted) is divided by the jobs. Ours submits and then waits
with ``GET /api/jobs/{id}?wait=`` (one request when the job is done); before is polled as
today's client polls (first after 20 ms, then 1.5x longer). The floor is two requests to the
empty app per job, the least a job needs (its submission and one read). Target: ours within
2x of the floor.

**Throughput.** 16 client processes run jobs back to back against ours, then before, then
before, then ours (each half the duration, so the machine's load drifts alike on both);
jobs per second is completed jobs over the wall time. Target: at least 2x before.

Run it with ``python -m benchmarks --only request_path`` or
``python -m benchmarks.bench_request_path``.
"""

from __future__ import annotations

import contextlib
import json
import multiprocessing
import os
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from benchmarks._common import BELL, percentile, row

#: The commit before the request-path work (``fields=``, raw results, long-poll): today's.
BASELINE_COMMIT = "0cda400"
JOBS, QUICK_JOBS = 300, 80
CLIENTS = 16
DURATION, QUICK_DURATION = 20.0, 6.0
START_TIMEOUT = 180.0
#: Today's client: first poll after 20 ms, each next pause 1.5x longer, at most 3 s.
POLL_FIRST, POLL_BACKOFF, POLL_MAX = 0.02, 1.5, 3.0
LONG_POLL = 20.0

_SERVE = """
import json, sys
from qpi.server import LocalServer
server = LocalServer(seed=20240611).start()
print(json.dumps({"url": server.url, "token": server.api_token}), flush=True)
sys.stdin.read()
server.stop()
"""

_EMPTY = """
import json, socket, sys, threading
import uvicorn
from fastapi import FastAPI
from fastapi.responses import Response

app = FastAPI()
JOB = b'{"id":"aaaaaaaaaaaaaaa","status":"pending"}'
DONE = b'{"id":"aaaaaaaaaaaaaaa","status":"completed"}'


@app.post("/api/jobs")
async def submit() -> Response:
    return Response(JOB, status_code=201, media_type="application/json")


@app.get("/api/jobs/{job_id}")
async def read(job_id: str) -> Response:
    return Response(DONE, media_type="application/json")


sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP)
sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
sock.bind(("127.0.0.1", 0))
server = uvicorn.Server(uvicorn.Config(app, http="h11", log_level="warning", access_log=False))
print(json.dumps({"url": f"http://127.0.0.1:{sock.getsockname()[1]}", "token": ""}), flush=True)
threading.Thread(target=lambda: (sys.stdin.read(), setattr(server, "should_exit", True)),
                 daemon=True).start()
server.run(sockets=[sock])
"""


@dataclass
class Served:
    """A server in a child process."""

    name: str
    url: str
    token: str
    proc: subprocess.Popen[str]

    def cpu(self) -> float:
        """The server process's CPU seconds so far (user + system)."""
        fields = Path(f"/proc/{self.proc.pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


@contextlib.contextmanager
def served(name: str, code: str, root: Path | None = None) -> Iterator[Served]:
    """Run ``code`` (which prints ``{"url", "token"}``) in a child; stop it on exit."""
    env = dict(os.environ)
    if root is not None:
        env["PYTHONPATH"] = os.pathsep.join([str(root), str(root / "plugins")])
    proc = subprocess.Popen(
        [sys.executable, "-c", code], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True,
        env=env,
    )  # fmt: skip
    try:
        assert proc.stdout is not None
        info = json.loads(proc.stdout.readline())
        yield Served(name, info["url"], info["token"], proc)
    finally:
        with contextlib.suppress(OSError):
            assert proc.stdin is not None
            proc.stdin.close()
        try:
            proc.wait(30)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(10)


@contextlib.contextmanager
def baseline_tree() -> Iterator[Path | None]:
    """This repository at :data:`BASELINE_COMMIT`, extracted; ``None`` outside a git checkout."""
    repo = Path(__file__).resolve().parents[1]
    with tempfile.TemporaryDirectory(prefix="qpi-baseline-") as tmp:
        archive = subprocess.run(
            ["git", "-C", str(repo), "archive", BASELINE_COMMIT],
            capture_output=True, check=False,
        )  # fmt: skip
        if archive.returncode != 0:
            yield None
            return
        subprocess.run(["tar", "-x", "-C", tmp], input=archive.stdout, check=True)
        yield Path(tmp)


# -- the client's two ways of waiting ------------------------------------------------------------


def _session(token: str) -> Any:
    import requests

    http = requests.Session()
    if token:
        http.headers["X-API-Token"] = token
    return http


def _target(server: Served) -> str:
    if not server.token:
        return ""
    return str(_session(server.token).get(f"{server.url}/api/qpus/mock", timeout=30).json()["id"])


def run_job(http: Any, url: str, target: str, how: str, text: str = BELL) -> tuple[str, int]:
    """Submit one job and wait for it; returns its final status and the requests sent."""
    body = {"circuits": [{"circuit": text}], "shots": 1024}
    if target:
        body["qpu_target"] = target
    job = http.post(f"{url}/api/jobs", json=body, timeout=60).json()
    sent, pause = 1, POLL_FIRST
    while True:
        if how == "wait":
            params = {"wait": LONG_POLL}
        else:
            params = {}
            time.sleep(pause)
            pause = min(POLL_MAX, pause * POLL_BACKOFF)
        status = http.get(f"{url}/api/jobs/{job['id']}", params=params, timeout=60).json()
        sent += 1
        if status["status"] in ("completed", "failed", "cancelled"):
            return status["status"], sent


def cpu_per_job(server: Served, how: str, jobs: int) -> tuple[float, float]:
    """Server CPU seconds per job and requests per job, over ``jobs`` sequential jobs."""
    http, target = _session(server.token), _target(server)
    for _ in range(10):  # warm: connection, workers, caches
        run_job(http, server.url, target, how)
    before, sent = server.cpu(), 0
    for _ in range(jobs):
        sent += run_job(http, server.url, target, how)[1]
    return (server.cpu() - before) / jobs, sent / jobs


def floor_per_request(server: Served, requests: int) -> float:
    """Server CPU seconds per request of the empty app (alternating its two routes)."""
    http = _session("")
    body = {"circuits": [{"circuit": BELL}], "shots": 1024}
    for _ in range(20):
        http.post(f"{server.url}/api/jobs", json=body, timeout=30)
    before = server.cpu()
    for index in range(requests):
        if index % 2:
            http.get(f"{server.url}/api/jobs/aaaaaaaaaaaaaaa", timeout=30)
        else:
            http.post(f"{server.url}/api/jobs", json=body, timeout=30)
    return (server.cpu() - before) / requests


# -- throughput ----------------------------------------------------------------------------------


def _client(url: str, token: str, target: str, how: str, go: Any, seconds: float, out: Any) -> None:
    http = _session(token)
    run_job(http, url, target, how)  # warm up before the start signal
    go.wait(START_TIMEOUT)
    latencies, failed, deadline = [], 0, time.time() + seconds
    while time.time() < deadline:
        began = time.perf_counter()
        try:
            status, _ = run_job(http, url, target, how)
        except Exception:  # counted, not raised: the run goes on
            status = "error"
        if status == "completed":
            latencies.append(time.perf_counter() - began)
        else:
            failed += 1
    out.put((latencies, failed, time.time()))


def throughput_segment(server: Served, how: str, clients: int, seconds: float) -> dict[str, Any]:
    """``clients`` processes run jobs for ``seconds``; jobs/s, latencies and failures."""
    context = multiprocessing.get_context("spawn")
    go, out = context.Barrier(clients + 1), context.Queue()
    target = _target(server)
    processes = [
        context.Process(
            target=_client, args=(server.url, server.token, target, how, go, seconds, out)
        )
        for _ in range(clients)
    ]
    for process in processes:
        process.start()
    try:
        go.wait(START_TIMEOUT)
        started = time.time()
        reports = [out.get(timeout=seconds + 300) for _ in range(clients)]
    finally:
        for process in processes:
            process.join(60)
            if process.is_alive():
                process.kill()
    latencies = [value for report in reports for value in report[0]]
    wall = max(report[2] for report in reports) - started
    return {
        "jobs": len(latencies),
        "wall": wall,
        "latencies": latencies,
        "failed": sum(report[1] for report in reports),
    }


def throughput(ours: Served, before: Served, clients: int, seconds: float) -> dict[str, Any]:
    """Jobs/s of each server, in alternating half-length segments (ours, before, before, ours)."""
    totals: dict[str, dict[str, Any]] = {
        name: {"jobs": 0, "wall": 0.0, "latencies": [], "failed": 0} for name in ("ours", "before")
    }
    for name in ("ours", "before", "before", "ours"):
        server, how = (ours, "wait") if name == "ours" else (before, "poll")
        segment = throughput_segment(server, how, clients, seconds / 2)
        for key in ("jobs", "wall", "failed"):
            totals[name][key] += segment[key]
        totals[name]["latencies"] += segment["latencies"]
    return totals


# -- the benchmark --------------------------------------------------------------------------------


def run(server: Any = None, quick: bool = False) -> list[dict[str, Any]]:
    """CPU per job against the floor and today's server; throughput at 16 clients.

    Args:
        server: Unused (every server here runs in its own process).
        quick: Fewer jobs and shorter throughput segments.
    """
    jobs = QUICK_JOBS if quick else JOBS
    seconds = QUICK_DURATION if quick else DURATION
    with (
        baseline_tree() as root,
        served("ours", _SERVE) as ours,
        served("floor", _EMPTY) as floor,
        contextlib.ExitStack() as stack,
    ):
        before = stack.enter_context(served("before", _SERVE, root)) if root else None
        time.sleep(3.0)  # the simulator processes finish warming up
        ours_cpu, ours_requests = cpu_per_job(ours, "wait", jobs)
        floor_request = floor_per_request(floor, 2 * jobs)
        before_cpu, before_requests = cpu_per_job(before, "poll", jobs) if before else (None, 0)
        totals = throughput(ours, before, CLIENTS, seconds) if before else None
    floor_job = 2 * floor_request
    rows = [
        row(
            "server CPU per Bell job (submit + wait), against the empty-endpoint floor",
            ours_cpu,
            floor_job,
            "empty FastAPI endpoint, 2 requests per job",
            target="within 2x of the floor",
            passed=ours_cpu <= 2 * floor_job,
            requests_per_job=ours_requests,
        )
    ]
    if before_cpu is not None and totals is not None:
        rows.append(
            row(
                "server CPU per Bell job, against today's server",
                ours_cpu,
                before_cpu,
                f"main at {BASELINE_COMMIT}, polled like today's client",
                requests_per_job=ours_requests,
                baseline_requests_per_job=before_requests,
            )
        )
        rates = {name: t["jobs"] / t["wall"] for name, t in totals.items()}
        rows.append(
            row(
                f"throughput, {CLIENTS} clients x {seconds:g} s",
                rates["ours"],
                rates["before"],
                f"main at {BASELINE_COMMIT}, polled like today's client",
                unit="jobs/s",
                better="higher",
                target=">= 2x today's",
                passed=rates["ours"] >= 2 * rates["before"],
                failed=totals["ours"]["failed"],
                baseline_failed=totals["before"]["failed"],
            )
        )
        for cut in (50, 95):
            rows.append(
                row(
                    f"throughput run: latency submit -> result, p{cut}",
                    percentile(totals["ours"]["latencies"], cut),
                    percentile(totals["before"]["latencies"], cut),
                    f"main at {BASELINE_COMMIT}",
                )
            )
    return rows


def main() -> None:
    """Print the rows."""
    for result in run(quick="--quick" in sys.argv):
        print(json.dumps(result, default=str))


if __name__ == "__main__":
    main()
