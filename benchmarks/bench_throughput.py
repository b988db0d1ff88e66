"""Orchestrator throughput: 16 concurrent clients submitting small jobs for 20 seconds.

Each client is a separate process (``multiprocessing``, ``spawn``). Client threads would
share one interpreter lock with each other, and, in the runner's process, with the server
itself (``LocalServer`` serves from a thread), so they would measure the lock rather than
the server. Every client loops: submit a 1,024-shot Bell job, wait for its final record,
record the id, status and latency, until the time is up (the job in flight when it is up is
finished). Every job is unique: its program ends with a comment naming the run, the client
and the job's sequence number.

Ours: ``QPIClient.submit_job`` and ``wait_for_job`` with the cache off. The competitor: the
same load through ``qpi-client`` 0.4.2 with ``QPIJob.result(wait=0.1)`` (its default 5 s
would make it a test of its sleep).

The two loads never overlap, and take turns in half-length segments, ours, theirs, theirs,
ours, so a change in the machine's load (other programs) hits both alike. All 32 client
processes start, import and send a warm-up job before the first segment, the idle ones wait
on a barrier, and none exits before the last segment is over (an exiting interpreter costs
CPU time that would be taken from the other client's turn).

Afterwards the server's job list is compared with what the clients recorded:

- lost: ids a client was given that the server does not list, or that did not complete;
- duplicated: jobs the server lists for the run that no client was given (a submission sent
  twice), or a (client, sequence number) listed more than once;
- failed: submissions or waits that raised.

Jobs per second is completed jobs over the wall time from the start signal until the last
client finished. Latency is submit to final record, per job.

Run it with ``python -m benchmarks --only throughput``.
"""

from __future__ import annotations

import collections
import contextlib
import multiprocessing
import threading
import time
import uuid
from typing import Any

from benchmarks._common import BELL, median, mock_qpu_id, percentile, row, server_or_own

CLIENTS = 16
DURATION = 20.0
QUICK_DURATION = 5.0
SHOTS = 1024
START_TIMEOUT = 180.0
COMPETITOR = "qpi-client 0.4.2, wait=0.1, same load"


def program(tag: str, client: int, seq: int) -> str:
    """The Bell program of one job, tagged with the run, the client and the job number."""
    return f"{BELL}// bench {tag} client {client} job {seq}\n"


def _client(
    kind: str,
    url: str,
    token: str,
    target: str,
    tag: str,
    index: int,
    segments: list[float],
    barriers: tuple[Any, Any],
    out: Any,
) -> None:
    """One client process: warm up, then for each segment, submit and wait until it is over.

    Puts one report per segment on ``out``: ``(index, records, end time, (requests, cpu
    seconds), error)``. Barriers: ``ready`` (everyone warmed up; and, again, every turn
    over), ``go`` (this kind's turn starts).
    """
    ready, go = barriers
    try:
        submit, wait, sent = _functions(kind, url, token, target)
        wait(submit(program(f"{tag}-warmup", index, 0)))  # connections, imports, caches
    except Exception as exc:
        ready.abort()  # the runner stops waiting for this client
        out.put((index, [], time.time(), (0, 0.0), f"{type(exc).__name__}: {exc}"))
        return
    try:
        ready.wait(START_TIMEOUT)
        seq = 0
        for duration in segments:
            go.wait(START_TIMEOUT + DURATION * 2)
            records: list[tuple[int, str | None, float, str]] = []
            deadline = time.time() + duration
            requests, cpu = sent(), time.process_time()
            while time.time() < deadline:
                began = time.perf_counter()
                job_id = None
                try:
                    job_id = submit(program(tag, index, seq))
                    status = wait(job_id)
                except Exception as exc:  # recorded and counted as a failure
                    status = f"{type(exc).__name__}: {exc}"[:200]
                records.append((seq, job_id, time.perf_counter() - began, status))
                seq += 1
            usage = (sent() - requests, time.process_time() - cpu)
            out.put((index, records, time.time(), usage, None))
        # Exit only when every turn is over: sixteen interpreters shutting down (the
        # original client's import Qiskit) take CPU time from whoever's turn it is.
        ready.wait(START_TIMEOUT + DURATION * 4)
    except threading.BrokenBarrierError:
        return  # another client failed; the runner reports it


def _functions(kind: str, url: str, token: str, target: str) -> tuple[Any, Any, Any]:
    """``(submit(text) -> id, wait(id) -> status, requests() -> int)`` for either client.

    ``requests()`` counts the HTTP requests sent so far: ours through ``wait_for_job``'s
    progress callback (one per poll) plus one per submission, the original client's through
    its session's ``requests`` hooks.
    """
    if kind == "qpi":
        from qpi import QPIClient

        ours = QPIClient(url, api_token=token, cache=False, cache_mode="off")
        sent = [0]

        def submit(text: str) -> str:
            sent[0] += 1
            return ours.submit_job([{"circuit": text}], shots=SHOTS, qpu_target=target)

        def poll(record: Any, elapsed: float) -> None:
            sent[0] += 1

        return (
            submit,
            lambda job_id: ours.wait_for_job(job_id, timeout=120, callback=poll)["status"],
            lambda: sent[0],
        )
    import qpi_client
    from qpi_client.provider import QPIJob

    from benchmarks._common import SessionCounter

    theirs = qpi_client.QPIClient(url, api_token=token)
    backend = theirs.get_backend(target)
    counter = SessionCounter(theirs._session)  # its only session; counted via hooks

    def wait(job_id: str) -> str:
        QPIJob(backend, job_id, theirs).result(timeout=120, wait=0.1)
        return "completed"  # result() raises for anything else

    return (
        lambda text: theirs.submit_job([{"circuit": text}], shots=SHOTS, qpu_target=target),
        wait,
        lambda: counter.requests,
    )


def load(
    server: Any, clients: int, duration: float, target: str
) -> tuple[dict[str, dict[str, Any]], list[str]]:
    """Load the server with ``clients`` processes of each client for ``duration`` s each.

    Returns:
        Per client kind (``"qpi"``, ``"qpi-client"``), its figures (``jobs_per_s``, ``p50``,
        ``p95``, ``completed``, ``lost``, ``duplicated``, ``failed``, ``wall``,
        ``requests_per_job``, ``client_cpu_per_job``); and the errors clients reported.
    """
    context = multiprocessing.get_context("spawn")
    kinds = ("qpi", "qpi-client")
    schedule = (kinds[0], kinds[1], kinds[1], kinds[0])  # each kind's time, in two halves
    tags = {kind: uuid.uuid4().hex[:12] for kind in kinds}
    ready = context.Barrier(len(kinds) * clients + 1)
    go = {kind: context.Barrier(clients + 1) for kind in kinds}
    out = {kind: context.Queue() for kind in kinds}
    processes = [
        context.Process(
            target=_client,
            args=(
                kind, server.url, server.api_token, target, tags[kind], i,
                [duration / 2] * 2, (ready, go[kind]), out[kind],
            ),
            name=f"bench-{kind}-{i}",
        )
        for kind in kinds
        for i in range(clients)
    ]  # fmt: skip
    for process in processes:
        process.start()
    reports: dict[str, list[Any]] = {kind: [] for kind in kinds}
    walls = dict.fromkeys(kinds, 0.0)
    turns: list[tuple[str, float]] = []  # (kind, jobs/s) of each segment, in order
    try:
        for barrier, kind in [(ready, None), *((go[k], k) for k in schedule), (ready, None)]:
            try:
                barrier.wait(START_TIMEOUT)
            except threading.BrokenBarrierError:
                errors = [report[4] for q in out.values() for report in _drain(q)]
                raise RuntimeError(f"client processes failed: {errors}") from None
            if kind is None:
                continue
            started = time.time()
            segment = [out[kind].get(timeout=duration + 300) for _ in range(clients)]
            wall = max(end for _, _, end, _, _ in segment) - started
            walls[kind] += wall
            reports[kind].extend(segment)
            done = sum(1 for report in segment for *_, state in report[1] if state == "completed")
            turns.append((kind, done / wall))
    finally:
        for process in processes:
            process.join(30)
            if process.is_alive():
                process.terminate()
                process.join(5)
    figures = _check(server, tags, reports, walls)
    for kind in kinds:
        figures[kind]["turns"] = [round(rate, 1) for k, rate in turns if k == kind]
    errors = [
        f"{kind} client {index}: {error}"
        for kind in kinds
        for index, _, _, _, error in reports[kind]
        if error
    ]
    return figures, errors


def _drain(queue: Any) -> list[Any]:
    """What is on ``queue`` now (reports of clients that failed)."""
    items = []
    with contextlib.suppress(Exception):
        while True:
            items.append(queue.get(timeout=1))
    return items


def _check(
    server: Any, tags: dict[str, str], reports: dict[str, list[Any]], walls: dict[str, float]
) -> dict[str, dict[str, Any]]:
    """Compare what each kind of client recorded with the server's job list."""
    from qpi import QPIClient

    records = {
        kind: [(index, *rec) for index, recs, *_ in reports[kind] for rec in recs] for kind in tags
    }
    given = sum(1 for recs in records.values() for rec in recs if rec[2])
    with QPIClient(server.url, api_token=server.api_token, cache=False) as reader:
        # Newest first: every job of the run is newer than anything before it. Read on until
        # the oldest job read belongs to no run (warm-up jobs carry the tag too).
        limit = given + 1
        while True:
            listed = reader.list_jobs(limit=limit)
            if len(listed) < limit or not any(t in _text(listed[-1]) for t in tags.values()):
                break
            limit *= 2
    figures = {}
    for kind, tag in tags.items():
        figures[kind] = _figures(
            [job for job in listed if f"bench {tag} " in _text(job)], records[kind], walls[kind]
        )
        usage = [report[3] for report in reports[kind]]
        jobs = max(1, len(records[kind]))
        figures[kind]["requests_per_job"] = sum(u[0] for u in usage) / jobs
        figures[kind]["client_cpu_per_job"] = sum(u[1] for u in usage) / jobs
    return figures


def _figures(
    listed: list[dict[str, Any]], records: list[tuple[Any, ...]], wall: float
) -> dict[str, Any]:
    """Throughput, latency and the lost/duplicated counts of one kind of client."""
    given = {job_id: (index, seq) for index, seq, job_id, _, _ in records if job_id}
    on_server = collections.Counter(job["id"] for job in listed)
    keys = collections.Counter(_key(job) for job in listed)
    status = {job["id"]: job.get("status") for job in listed}
    lost = sum(1 for job_id in given if on_server[job_id] == 0 or status[job_id] != "completed")
    duplicated = (
        sum(1 for job_id in on_server if job_id not in given)
        + sum(n - 1 for n in on_server.values() if n > 1)
        + sum(n - 1 for n in keys.values() if n > 1)
    )
    completed = [latency for _, _, _, latency, state in records if state == "completed"]
    return {
        "completed": len(completed),
        "jobs_per_s": len(completed) / wall if wall else 0.0,
        "p50": median(completed) if completed else None,
        "p95": percentile(completed, 95) if completed else None,
        "lost": lost,
        "duplicated": duplicated,
        "failed": sum(1 for *_, state in records if state != "completed"),
        "wall": wall,
    }


def _text(job: dict[str, Any]) -> str:
    circuits = (job.get("payload") or {}).get("circuits") or [{}]
    return str(circuits[0].get("circuit", "")) if isinstance(circuits[0], dict) else ""


def _key(job: dict[str, Any]) -> tuple[str, ...]:
    words = _text(job).rsplit("// bench ", 1)[-1].split()
    return tuple(words[:5])


def run(server: Any = None, quick: bool = False) -> list[dict[str, Any]]:
    """Load the server with 16 client processes, ours then the original client's.

    Args:
        server: A running ``LocalServer`` (one is started when ``None``).
        quick: 5 seconds of load instead of 20.
    """
    duration = QUICK_DURATION if quick else DURATION
    with server_or_own(server) as srv:
        target = mock_qpu_id(srv)
        figures, errors = load(srv, CLIENTS, duration, target)
    ours, theirs = figures["qpi"], figures["qpi-client"]
    note = (
        f"{CLIENTS} client processes per client, {duration:g} s each, in turns "
        f"(ours, theirs, theirs, ours): jobs/s per turn, ours {ours['turns']}, theirs "
        f"{theirs['turns']}; client errors: {errors or 'none'}"
    )
    name = f"{CLIENTS} clients x {duration:g} s, Bell jobs"
    return [
        row(
            f"{name}: throughput",
            ours["jobs_per_s"],
            theirs["jobs_per_s"],
            COMPETITOR,
            unit="jobs/s",
            better="higher",
            target="ahead",
            passed=ours["jobs_per_s"] > theirs["jobs_per_s"],
            completed=(ours["completed"], theirs["completed"]),
            wall=(ours["wall"], theirs["wall"]),
            note=note,
        ),
        row(f"{name}: latency p50", ours["p50"], theirs["p50"], COMPETITOR),
        row(
            f"{name}: HTTP requests per job",
            ours["requests_per_job"],
            theirs["requests_per_job"],
            COMPETITOR,
            unit="requests",
        ),
        row(
            f"{name}: client CPU per job",
            ours["client_cpu_per_job"],
            theirs["client_cpu_per_job"],
            COMPETITOR,
        ),
        row(
            f"{name}: latency p95",
            ours["p95"],
            theirs["p95"],
            COMPETITOR,
            target="ahead",
            passed=ours["p95"] is not None and ours["p95"] < (theirs["p95"] or float("inf")),
        ),
        *(
            row(
                f"{name}: {label}",
                ours[key],
                theirs[key],
                COMPETITOR,
                unit="jobs",
                target="0",
                passed=ours[key] == 0,
            )
            for key, label in (
                ("lost", "jobs lost"),
                ("duplicated", "jobs duplicated"),
                ("failed", "submissions or waits that failed"),
            )
        ),
    ]


if __name__ == "__main__":
    from benchmarks._common import print_rows

    print_rows("6. orchestrator throughput", run())
