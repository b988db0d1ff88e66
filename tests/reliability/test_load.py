"""Load: 16 concurrent clients for 60 s against one ``qpi serve``; nothing lost or duplicated.

Each client is a thread with its own user, token and ``QPIClient``. It runs distinct jobs
back to back (submit, wait, check the counts) until the time is up. Afterwards each user's
job list on the server must hold exactly the jobs its client submitted, once each, all
completed. The figures (jobs, throughput, latency percentiles) are printed and, with
``$QPI_RELIABILITY_REPORT`` set, appended to that file. ``QPI_LOAD_SECONDS`` and
``QPI_LOAD_CLIENTS`` shorten or widen the run (default 60 s, 16 clients).

The server runs in its own process, so the clients' threads do not share its interpreter.
"""

from __future__ import annotations

import json
import os
import threading
import time
import uuid
from dataclasses import dataclass, field

import pytest

from qpi import QPIClient
from tests.reliability.helpers import (
    BELL,
    percentile,
    report,
    serving,
)
from tests.server.helpers import Account, admin_session, make_account

pytestmark = pytest.mark.slow

SECONDS = float(os.environ.get("QPI_LOAD_SECONDS", "60"))
CLIENTS = int(os.environ.get("QPI_LOAD_CLIENTS", "16"))
SHOTS = 100


@dataclass
class Tally:
    """What one client did."""

    account: Account
    run: str
    submitted: dict[int, str] = field(default_factory=dict)  # submission number -> job id
    latencies: list[float] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)


def client_loop(url: str, qpu: str, tally: Tally, stop_at: float) -> None:
    with QPIClient(url, api_token=tally.account.token, cache=False, timeout=(10, 60)) as client:
        n = 0
        while time.monotonic() < stop_at:
            circuit = BELL + f"// {tally.run}-{n}\n"
            started = time.monotonic()
            try:
                job = client.run(circuit, shots=SHOTS, qpu=qpu)
                tally.submitted[n] = job.id
                result = job.result(timeout=300)
            except Exception as exc:  # counted, and failed below
                tally.errors.append(f"{n}: {type(exc).__name__}: {exc}")
                n += 1
                continue
            tally.latencies.append(time.monotonic() - started)
            counts = result.get_counts()
            if sum(counts.values()) != SHOTS or not set(counts) <= {"00", "11"}:
                tally.errors.append(f"{n}: wrong counts {counts}")
            n += 1


def test_sixteen_clients_for_a_minute_lose_and_duplicate_nothing(tmp_path):
    with serving(tmp_path / "data", extra=("--seed", "1")) as served:
        url = served.url
        creds = json.loads((tmp_path / "data" / "credentials.json").read_text())
        admin = admin_session(url, creds["admin_email"], creds["admin_password"])
        with QPIClient(url, api_token=served.token, cache=False) as client:
            qpu = client.get_qpu("mock")["id"]
        tallies = [Tally(make_account(url, admin), uuid.uuid4().hex[:8]) for _ in range(CLIENTS)]
        started = time.monotonic()
        stop_at = started + SECONDS
        threads = [
            threading.Thread(target=client_loop, args=(url, qpu, tally, stop_at), daemon=True)
            for tally in tallies
        ]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(SECONDS + 600)
        elapsed = time.monotonic() - started
        assert not any(thread.is_alive() for thread in threads)

        lost = duplicated = not_completed = 0
        for tally in tallies:
            jobs = tally.account.api.get("/api/jobs").json()
            by_number: dict[int, list[dict]] = {}
            for job in jobs:
                text = job["payload"]["circuits"][0]["circuit"]
                number = int(text.rsplit(f"// {tally.run}-", 1)[1].split("\n", 1)[0])
                by_number.setdefault(number, []).append(job)
            duplicated += sum(len(found) - 1 for found in by_number.values())
            lost += sum(1 for n in tally.submitted if n not in by_number)
            for n, job_id in tally.submitted.items():
                found = by_number.get(n, [])
                assert [job["id"] for job in found] == [job_id], (tally.run, n)
                not_completed += found[0]["status"] != "completed"
        errors = [e for tally in tallies for e in tally.errors]
        latencies = [x for tally in tallies for x in tally.latencies]

    jobs = sum(len(tally.submitted) for tally in tallies)
    figures = {
        "clients": CLIENTS,
        "seconds": round(elapsed, 1),
        "jobs_completed": len(latencies),
        "throughput_jobs_per_s": round(len(latencies) / elapsed, 1),
        "latency_p50_ms": round(percentile(latencies, 0.50) * 1000),
        "latency_p95_ms": round(percentile(latencies, 0.95) * 1000),
        "latency_p99_ms": round(percentile(latencies, 0.99) * 1000),
        "latency_max_ms": round(max(latencies, default=0) * 1000),
        "jobs_submitted": jobs,
        "lost": lost,
        "duplicated": duplicated,
        "errors": len(errors),
    }
    report("load", **figures)
    assert errors == []
    assert (lost, duplicated, not_completed) == (0, 0, 0)
    assert jobs == len(latencies) > 0
