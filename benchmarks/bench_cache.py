"""Cache replay: a finished 100-circuit job's result from the disk cache, against the server.

A job of 100 distinct 4-qubit circuits (OpenQASM 3 text, 1,024 shots) is run once through
``QPIClient.run`` with the cache in ``reuse`` mode (a temporary cache directory). Then:

- **run again**: the same ``client.run(circuits, qpu="mock").result()`` in the same session,
  with ``cache_mode="memo"`` (same payload, same answer: in the default ``reuse`` mode a
  repeat inside one session is a fresh sample, and a rerun of the script is what the cache
  answers, see the new-session row). The cache answers; the figure is the whole call
  (payload built, fingerprinted, looked up, results parsed) and the HTTP requests it made.
  The competitor is what the same step costs with ``qpi-client``, which has no cache:
  ``submit_job`` again and ``QPIJob.result()`` with its default ``wait=5.0``.
- **result by id**: ``client.job(job_id).result()`` (a Qiskit ``Result``, read from the cache)
  against ``qpi-client``'s ``QPIJob(backend, job_id, client).result()`` (one GET of the
  finished job, then its ``Result``).
- **run again in a new session**: a new ``QPIClient`` on the same cache directory, as after
  a restart of the notebook; context only.

Requests are counted on the wire by a proxy between the clients and the server. Times are
medians of several calls.

Run it with ``python -m benchmarks --only cache``.
"""

from __future__ import annotations

import tempfile
from typing import Any

from benchmarks._common import WireCounter, median, mock_qpu_id, row, server_or_own, timed

CIRCUITS = 100
SHOTS = 1024
REPEATS = 20
SLOW_REPEATS = 3
TARGET = 0.005
COMPETITOR = "qpi-client 0.4.2 (no cache): submit again, result() with default wait"


def circuits(count: int = CIRCUITS) -> list[str]:
    """``count`` distinct 4-qubit programs (they differ in one rotation angle)."""
    return [
        'OPENQASM 3.0;\ninclude "stdgates.inc";\nbit[4] c;\nqubit[4] q;\n'
        f"ry({0.01 * (i + 1)!r}) q[0];\nh q[1];\ncx q[0], q[2];\ncx q[1], q[3];\n"
        "c = measure q;\n"
        for i in range(count)
    ]


def _calls(wire: WireCounter, func: Any, repeats: int) -> tuple[float, int]:
    """Median seconds of ``func`` and the most requests one call made."""
    times, requests = [], 0
    for _ in range(repeats):
        wire.reset()
        times.append(timed(func)[0])
        requests = max(requests, wire.count())
    return median(times), requests


def run(server: Any = None, quick: bool = False) -> list[dict[str, Any]]:
    """Measure replays from the cache against the original client's trips to the server.

    Args:
        server: A running ``LocalServer`` (one is started when ``None``).
        quick: Fewer repeats (5 and 1 instead of 20 and 3).
    """
    import qpi_client
    from qpi_client.provider import QPIJob

    from qpi import QPIClient

    repeats, slow_repeats = (5, 1) if quick else (REPEATS, SLOW_REPEATS)
    programs = circuits()
    entries = [{"circuit": text} for text in programs]
    with (
        server_or_own(server) as srv,
        WireCounter(srv.url) as wire,
        tempfile.TemporaryDirectory(prefix="qpi-bench-cache-") as cache_dir,
    ):
        target = mock_qpu_id(srv)
        ours = QPIClient(wire.url, api_token=srv.api_token, cache=cache_dir, cache_mode="memo")
        theirs = qpi_client.QPIClient(wire.url, api_token=srv.api_token)
        with ours, theirs:
            backend = theirs.get_backend(target)
            first_time, first = timed(lambda: ours.run(programs, shots=SHOTS, qpu="mock").result())
            job_id = first.job_id

            def again() -> Any:
                result = ours.run(programs, shots=SHOTS, qpu="mock").result()
                assert result.from_cache, "the cache did not answer"
                return result

            def resubmit() -> Any:
                their_id = theirs.submit_job(entries, shots=SHOTS, qpu_target=target)
                return QPIJob(backend, their_id, theirs).result(timeout=120)

            again_time, again_requests = _calls(wire, again, repeats)
            resubmit_time, resubmit_requests = _calls(wire, resubmit, slow_repeats)
            by_id_time, by_id_requests = _calls(wire, lambda: ours.job(job_id).result(), repeats)
            their_by_id_time, their_by_id_requests = _calls(
                wire, lambda: QPIJob(backend, job_id, theirs).result(), repeats
            )

            def new_session() -> Any:
                with QPIClient(
                    wire.url, api_token=srv.api_token, cache=cache_dir, cache_mode="reuse"
                ) as fresh:
                    return fresh.run(programs, shots=SHOTS, qpu="mock").result()

            fresh_time, fresh_requests = _calls(wire, new_session, repeats)
            fresh_paths = sorted({f"{r.method} {r.path}" for r in wire.requests()})

    name = f"{CIRCUITS}-circuit job"
    by_id_name = "qpi-client 0.4.2: QPIJob(backend, id).result() (GET from the server)"
    return [
        row(
            f"{name} run again: time to result",
            again_time,
            resubmit_time,
            COMPETITOR,
            target="< 5 ms, ahead",
            passed=again_time < TARGET and again_time < resubmit_time,
        ),
        row(
            f"{name} run again: HTTP requests",
            again_requests,
            resubmit_requests,
            COMPETITOR,
            unit="requests",
            target="0",
            passed=again_requests == 0,
        ),
        row(f"{name} result by id: time", by_id_time, their_by_id_time, by_id_name),
        row(
            f"{name} result by id: HTTP requests",
            by_id_requests,
            their_by_id_requests,
            by_id_name,
            unit="requests",
        ),
        row(
            f"{name} run again, new session: time",
            fresh_time,
            resubmit_time,
            COMPETITOR,
            note=f"a new session made {fresh_requests} request(s): {', '.join(fresh_paths)}",
        ),
        row(
            f"{name} run again, new session: HTTP requests",
            fresh_requests,
            resubmit_requests,
            COMPETITOR,
            unit="requests",
        ),
        row(
            f"{name} first run (submitted, executed): time",
            first_time,
            None,
            "context: what the cache saves",
        ),
    ]


if __name__ == "__main__":
    from benchmarks._common import print_rows

    print_rows("4. cache replay", run())
