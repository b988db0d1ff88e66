"""Parameter sweep: one parametric circuit with 1,000 rows of bindings, against client-side binding.

The circuit is a 12-qubit, 3-layer hardware-efficient ansatz: per layer an ``ry`` and an
``rz`` on every qubit, then a ``cx`` ladder; 72 parameters, then ``measure_all``. It is run
with 1,000 rows of seeded random angles, twice: the angles rounded to 6 decimals, and at
full double precision.

Ours: the Qiskit plugin, ``backend.run(circuit, parameter_values=rows)`` then
``job.result()``; the circuit goes out once, as OpenQASM 3 with ``input`` declarations, and
the server binds the rows. The competitor does what ``qpi-client`` 0.4.2 leaves a user to do
(its ``QPIBackend.run`` keeps only the first binding, reference §1.3): 1,000
``assign_parameters`` and ``qiskit.qasm3.dumps`` calls, ``QPIClient.submit_job`` with the
1,000 bound programs, and ``QPIJob.result()`` with its default ``wait=5.0``.

The server takes at most 1 MiB per job payload. When a payload does not fit, it is split
over the fewest jobs that fit, as a user must do: rows for ours (our client refuses an
oversized payload before sending it), circuits for the competitor (the server answers 413).
The single-job attempts are reported as notes.

Figures, all counted on the wire by a proxy between the clients and the server:

- preparation: client time before and between job submissions, i.e. from the call to the
  first byte of the first ``POST /api/jobs``, plus for each later submission the time from
  the previous submission's answer to its first byte (conversion, binding, OpenQASM, rows,
  validation, JSON);
- job submissions, and OpenQASM programs sent;
- request bytes: every byte the client sent (request lines, headers, bodies);
- HTTP requests: submissions and polling;
- end to end: from the call to every result in hand.

Figures are medians over repeats, ours and the competitor's alternating.

Run it with ``python -m benchmarks --only sweep``.
"""

from __future__ import annotations

import json
from typing import Any

from benchmarks._common import WireCounter, median, mock_qpu_id, row, server_or_own

NUM_QUBITS = 12
LAYERS = 3
ROWS = 1000
SHOTS = 1024
REPEATS = 3
SEED = 7
TARGET_PREPARATION = 0.050
COMPETITOR = "qpi-client 0.4.2: bind + qasm3.dumps per row, default wait"


def ansatz() -> Any:
    """The 12-qubit, 3-layer ry/rz + cx-ladder ansatz with 72 parameters, measured."""
    from qiskit import QuantumCircuit
    from qiskit.circuit import ParameterVector

    theta = ParameterVector("theta", 2 * NUM_QUBITS * LAYERS)
    qc = QuantumCircuit(NUM_QUBITS, name="hea")
    k = 0
    for _ in range(LAYERS):
        for gate in (qc.ry, qc.rz):
            for q in range(NUM_QUBITS):
                gate(theta[k], q)
                k += 1
        for q in range(NUM_QUBITS - 1):
            qc.cx(q, q + 1)
    qc.measure_all()
    return qc


def parameter_rows(count: int, decimals: int | None) -> Any:
    """``count`` rows of seeded random angles in [-pi, pi), optionally rounded."""
    import numpy as np

    rows = np.random.default_rng(SEED).uniform(-np.pi, np.pi, (count, 2 * NUM_QUBITS * LAYERS))
    return rows if decimals is None else np.round(rows, decimals)


# -- what each side does ------------------------------------------------------------------------


def ours_jobs_needed(qc: Any, rows: Any, target: str) -> tuple[int, int]:
    """``(jobs, bytes of the one-job payload)``: how many jobs the rows must be split over."""
    import numpy as np
    from qpi_qiskit.convert import translate

    from qpi.payload import MAX_PAYLOAD_BYTES, JobPayload

    def size(chunk: Any) -> int:
        payload = JobPayload((translate(qc, chunk).payload,), shots=SHOTS, qpu_target=target)
        return len(payload.to_json().encode())

    whole, jobs = size(rows), 1
    while any(size(chunk) > MAX_PAYLOAD_BYTES for chunk in np.array_split(rows, jobs)):
        jobs += 1
    return jobs, whole


def run_ours(backend: Any, qc: Any, rows: Any, jobs: int) -> list[Any]:
    """Submit the sweep as ``jobs`` jobs (rows split evenly) and return their results."""
    import numpy as np

    handles = [backend.run(qc, parameter_values=chunk) for chunk in np.array_split(rows, jobs)]
    return [handle.result() for handle in handles]


def bind_and_dump(qc: Any, rows: Any) -> list[dict[str, str]]:
    """The competitor's circuit entries: one bound OpenQASM 3 program per row."""
    from qiskit import qasm3

    return [{"circuit": qasm3.dumps(qc.assign_parameters(values))} for values in rows]


def pack(entries: list[dict[str, str]], limit: int) -> list[list[dict[str, str]]]:
    """Split circuit entries into consecutive jobs whose JSON bodies stay under ``limit``."""
    jobs: list[list[dict[str, str]]] = [[]]
    size = 200  # the body's other fields
    for entry in entries:
        cost = len(json.dumps(entry).encode()) + 2  # requests' separators: ", "
        if jobs[-1] and size + cost > limit:
            jobs.append([])
            size = 200
        jobs[-1].append(entry)
        size += cost
    return jobs


def run_theirs(client: Any, backend: Any, qc: Any, rows: Any, target: str) -> list[Any]:
    """Bind, dump and submit as the original client must, and return the Results."""
    from qpi_client.provider import QPIJob

    from qpi.payload import MAX_PAYLOAD_BYTES

    entries = bind_and_dump(qc, rows)
    ids = [
        client.submit_job(chunk, shots=SHOTS, qpu_target=target)
        for chunk in pack(entries, MAX_PAYLOAD_BYTES)
    ]
    return [QPIJob(backend, job_id, client).result(timeout=600) for job_id in ids]


# -- measuring ----------------------------------------------------------------------------------


def _measure(wire: WireCounter, func: Any) -> dict[str, float]:
    """Run ``func`` once and read its figures off the wire."""
    import time

    wire.reset()
    start = time.perf_counter()
    results = func()
    end = time.perf_counter()
    requests = wire.requests()
    posts = [r for r in requests if r.method == "POST" and r.path.startswith("/api/jobs")]
    preparation, previous = 0.0, start
    for post in posts:
        preparation += post.started - previous
        previous = post.answered or post.started
    experiments = sum(len(result.results) for result in results)
    return {
        "preparation": preparation,
        "jobs": len(posts),
        "requests": len(requests),
        "bytes": sum(r.size for r in requests),
        "received": sum(r.received for r in requests),
        "end_to_end": end - start,
        "experiments": experiments,
    }


def _attempt_one_job(wire: WireCounter, fits: bool, submit: Any) -> str:
    """What happens when the whole sweep is sent as one job (a note for the table)."""
    import requests

    from qpi import errors

    if fits:
        return "fits"
    wire.reset()
    try:
        submit()
    except errors.ValidationError as exc:
        return f"refused before sending ({wire.count()} requests): {str(exc)[:60]}..."
    except requests.RequestException as exc:
        status = wire.requests()[-1].status if wire.count() else 0
        return f"HTTP {status} from the server ({type(exc).__name__})"
    raise AssertionError("an oversized payload was accepted")


def _variant(
    label: str,
    ours_run: Any,
    theirs_run: Any,
    wire: WireCounter,
    repeats: int,
) -> list[dict[str, Any]]:
    ours, theirs = [], []
    for _ in range(repeats):
        ours.append(_measure(wire, ours_run))
        theirs.append(_measure(wire, theirs_run))

    def fig(samples: list[dict[str, float]], key: str) -> float:
        return median([s[key] for s in samples])

    o, t = {k: fig(ours, k) for k in ours[0]}, {k: fig(theirs, k) for k in theirs[0]}
    return [
        row(
            f"{label}: preparation",
            o["preparation"],
            t["preparation"],
            COMPETITOR,
            target="< 50 ms, ahead",
            passed=o["preparation"] < TARGET_PREPARATION and o["preparation"] < t["preparation"],
        ),
        row(
            f"{label}: job submissions",
            o["jobs"],
            t["jobs"],
            COMPETITOR,
            unit="jobs",
            target="1",
            passed=o["jobs"] == 1,
        ),
        row(
            f"{label}: OpenQASM programs sent",
            o["jobs"],  # one program per job: the template
            t["experiments"],
            COMPETITOR,
            unit="count",
        ),
        row(f"{label}: request bytes", o["bytes"], t["bytes"], COMPETITOR, unit="bytes"),
        row(
            f"{label}: HTTP requests (submit + poll)",
            o["requests"],
            t["requests"],
            COMPETITOR,
            unit="requests",
        ),
        row(
            f"{label}: end to end",
            o["end_to_end"],
            t["end_to_end"],
            COMPETITOR,
            target="ahead",
            passed=o["end_to_end"] < t["end_to_end"],
            experiments=(o["experiments"], t["experiments"]),
            received_bytes=(o["received"], t["received"]),
        ),
    ]


def run(server: Any = None, quick: bool = False) -> list[dict[str, Any]]:
    """Run the sweep both ways, with angles to 6 decimals and at full precision.

    Args:
        server: A running ``LocalServer`` (one is started when ``None``).
        quick: 100 rows and one repeat instead of 1,000 rows and three.
    """
    import qpi_client

    from qpi import QPIClient
    from qpi.payload import MAX_PAYLOAD_BYTES

    count, repeats = (100, 1) if quick else (ROWS, REPEATS)
    qc = ansatz()
    out: list[dict[str, Any]] = []
    with server_or_own(server) as srv, WireCounter(srv.url) as wire:
        target = mock_qpu_id(srv)
        ours_client = QPIClient(wire.url, api_token=srv.api_token, cache=False, cache_mode="off")
        theirs_client = qpi_client.QPIClient(wire.url, api_token=srv.api_token)
        with ours_client, theirs_client:
            backend = ours_client.get_backend("mock")
            theirs_backend = theirs_client.get_backend(target)
            for decimals, label in ((6, "6-decimal angles"), (None, "full-precision angles")):
                rows = parameter_rows(count, decimals)
                label = f"{count:,} rows, {label}"
                jobs, size = ours_jobs_needed(qc, rows, target)
                entries = bind_and_dump(qc, rows)
                body = len(json.dumps({"circuits": entries}).encode())
                notes = [
                    f"ours as one job ({size:,} B): "
                    + _attempt_one_job(
                        wire, jobs == 1, lambda r=rows: backend.run(qc, parameter_values=r)
                    ),
                    f"competitor as one job ({body:,} B): "
                    + _attempt_one_job(
                        wire,
                        body <= MAX_PAYLOAD_BYTES,
                        lambda e=entries: theirs_client.submit_job(
                            e, shots=SHOTS, qpu_target=target
                        ),
                    ),
                ]
                rows_out = _variant(
                    label,
                    lambda r=rows, j=jobs: run_ours(backend, qc, r, j),
                    lambda r=rows: run_theirs(theirs_client, theirs_backend, qc, r, target),
                    wire,
                    repeats,
                )
                rows_out[0]["note"] = "; ".join(notes)
                out.extend(rows_out)
    return out


if __name__ == "__main__":
    from benchmarks._common import print_rows

    print_rows("2. parameter sweep", run())
