"""Completion delay: how long after the server finishes a job the client holds its result.

Two servers run side by side: one offers the ``?wait=`` long-poll (so the client waits for
the job with it), the other is the same server with ``offer_wait=False``, as a real server
(so the client polls). The client and its settings are the same against both; jobs of the
two alternate one by one, so the machine's load hits both alike.

The delay of one job is the wall-clock time at which the call returned (``wait_for_job`` for
the core; ``QPIBackend.run(...).result()`` for Qiskit) minus the job's ``finished_at``, the
time the server stored its result (same machine, same clock; ``finished_at`` has
millisecond resolution). Job lengths (10 ms, 0.3 s, 2.5 s, 10 s) are made with a
parametric circuit of a fixed number of rows and few shots (so results stay small) whose
depth is scaled from two probe jobs' durations; the table gives the lengths the jobs really
had.

Target: the client holds the result within 10 ms of the server finishing, at every length,
through the core and through Qiskit's ``result()``.

Run it with ``python -m benchmarks --only completion``.
"""

from __future__ import annotations

import contextlib
import time
from datetime import UTC, datetime
from typing import Any

from benchmarks._common import median, percentile, row

LENGTHS = (0.01, 0.3, 2.5, 10.0)
QUICK_LENGTHS = (0.01, 0.3, 2.5)
REPEATS = {0.01: 20, 0.3: 6, 2.5: 3, 10.0: 2}
QUICK_REPEATS = {0.01: 8, 0.3: 3, 2.5: 1}
TARGET = 0.010
QUBITS, ROWS, SHOTS = 14, 20, 8
#: Deepest circuit sent (its text stays well under the 1 MiB payload limit).
MAX_LAYERS = 1500
#: A 10 ms job is a Bell job; longer ones scale the depth of a layered circuit.
BELL = (
    'OPENQASM 3.0;\ninclude "stdgates.inc";\nbit[2] c;\nqubit[2] q;\n'
    "h q[0];\ncx q[0], q[1];\nc = measure q;\n"
)


def layered(layers: int) -> str:
    """A parametric circuit of `QUBITS` qubits and ``layers`` layers (one input)."""
    lines = [
        "OPENQASM 3.0;",
        'include "stdgates.inc";',
        "input float[64] theta;",
        f"bit[{QUBITS}] c;",
        f"qubit[{QUBITS}] q;",
    ]
    for _ in range(layers):
        lines += [f"rx(theta) q[{i}];" for i in range(QUBITS)]
        lines += [f"cx q[{i}], q[{i + 1}];" for i in range(QUBITS - 1)]
    lines.append("c = measure q;")
    return "\n".join(lines) + "\n"


def _finished_at(record: dict[str, Any]) -> float:
    stamp = record["finished_at"].replace(" ", "T").replace("Z", "+00:00")
    return datetime.fromisoformat(stamp).astimezone(UTC).timestamp()


def _circuit(layers: int) -> dict[str, Any]:
    if layers <= 0:
        return {"circuit": BELL}
    values = [[round(0.001 * i, 4)] for i in range(ROWS)]
    return {"circuit": layered(layers), "parameter_values": values}


def calibrate(client: Any, target: str) -> tuple[float, float]:
    """``(fixed seconds, seconds per layer)`` of layered-circuit jobs, from two probe jobs."""
    durations = []
    for layers in (5, 25):
        job_id = client.submit_job([_circuit(layers)], shots=SHOTS, qpu_target=target)
        durations.append(float(client.wait_for_job(job_id, timeout=600)["duration"]))
    per_layer = max((durations[1] - durations[0]) / 20, 1e-6)
    return max(0.0, durations[0] - 5 * per_layer), per_layer


def layers_for(length: float, fit: tuple[float, float]) -> int:
    """Layers that make a job of about ``length`` seconds (0: a Bell job)."""
    fixed, per_layer = fit
    return 0 if length <= 0.05 else min(MAX_LAYERS, max(1, round((length - fixed) / per_layer)))


def core_delay(client: Any, target: str, layers: int) -> tuple[float, float]:
    """One job through ``submit_job`` + ``wait_for_job``: (delay, job duration)."""
    job_id = client.submit_job([_circuit(layers)], shots=SHOTS, qpu_target=target)
    record = client.wait_for_job(job_id, timeout=600)
    held = time.time()
    return held - _finished_at(record), float(record.get("duration") or 0.0)


def qiskit_delay(client: Any, backend: Any, layers: int) -> tuple[float, float]:
    """One job through ``QPIBackend.run(...).result()``: (delay, job duration)."""
    entry = _circuit(layers)
    values = entry.get("parameter_values")
    job = backend.run(qasm=entry["circuit"], shots=SHOTS, parameter_values=values)
    job.result(timeout=600)
    held = time.time()
    record = client.get_job(job.job_id())
    return held - _finished_at(record), float(record.get("duration") or 0.0)


@contextlib.contextmanager
def _clients() -> Any:
    from qpi import QPIClient
    from qpi.server import LocalServer

    with (
        LocalServer(seed=7) as pushed,
        LocalServer(seed=7, offer_wait=False) as polled,
    ):
        clients = {}
        for name, server in (("pushed", pushed), ("polled", polled)):
            client = QPIClient(server.url, api_token=server.api_token, cache=False)
            clients[name] = (client, client.resolve_qpu("mock"))
        try:
            yield clients
        finally:
            for client, _ in clients.values():
                client.close()


def run(server: Any = None, quick: bool = False) -> list[dict[str, Any]]:
    """Completion delay by job length, pushed (long-poll) against polled, core and Qiskit.

    Args:
        server: Unused (two servers of its own are started).
        quick: Lengths up to 2.5 s and fewer repeats.
    """
    lengths = QUICK_LENGTHS if quick else LENGTHS
    repeats = QUICK_REPEATS if quick else REPEATS
    rows_out: list[dict[str, Any]] = []
    with _clients() as clients:
        time.sleep(2.0)  # the simulator processes finish warming up
        fit = calibrate(*clients["pushed"])
        backends = _qiskit_backends(clients)
        paths = ["core"] + (["qiskit"] if backends else [])
        for path in paths:
            for length in lengths:
                layers = layers_for(length, fit)
                delays: dict[str, list[float]] = {"pushed": [], "polled": []}
                durations: list[float] = []
                for _ in range(repeats[length]):
                    for name in ("pushed", "polled"):
                        client, target = clients[name]
                        if path == "core":
                            delay, duration = core_delay(client, target, layers)
                        else:
                            delay, duration = qiskit_delay(client, backends[name], layers)
                        delays[name].append(delay)
                        durations.append(duration)
                ours, theirs = delays["pushed"], delays["polled"]
                rows_out.append(
                    row(
                        f"{path}: {length:g} s job (ran {median(durations):.3g} s), "
                        "delay p50 / max",
                        median(ours),
                        median(theirs),
                        "the same client polling (server without ?wait=)",
                        target="<= 10 ms",
                        passed=max(ours) <= TARGET,
                        max=max(ours),
                        baseline_max=max(theirs),
                        p95=percentile(ours, 95),
                        jobs=len(ours),
                    )
                )
    return rows_out


def _qiskit_backends(clients: dict[str, Any]) -> dict[str, Any]:
    try:
        import qpi_qiskit  # noqa: F401
    except ImportError:
        return {}
    return {name: client.get_backend("mock") for name, (client, _) in clients.items()}


def main() -> None:
    """Print the rows."""
    import json
    import sys

    for result in run(quick="--quick" in sys.argv):
        print(json.dumps(result, default=str))


if __name__ == "__main__":
    main()
