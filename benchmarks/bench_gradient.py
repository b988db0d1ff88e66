"""One parameter-shift gradient on ``qpi.remote``: two jobs for the batch against one per tape.

The circuit is ``StronglyEntanglingLayers`` on 6 qubits with 3 layers (54 trainable angles),
measuring ``<Z0 Z5>`` with 1,000 shots. One ``qml.grad`` call runs the circuit, then its 96
shifted copies (PennyLane's ``param_shift``, which the device leaves to PennyLane so that a
forward pass never runs the shifts). The ``qpi.remote`` device sends the forward pass as one
job and the shifted copies as ONE more job, holding one parametric circuit with 96 rows; the
baseline is the same device with ``batch_jobs=False``, which sends one job per tape, as peer
plugins do. Both run against a ``LocalServer`` on loopback with the cache off, side by side in
one process; figures are medians of several repeats.

Run it with ``python -m benchmarks.bench_gradient``.
"""

from __future__ import annotations

import statistics
import time
from typing import Any

NUM_QUBITS = 6
NUM_LAYERS = 3
SHOTS = 1000
REPEATS = 3
BASELINE = "qpi.remote with batch_jobs=False (one job per tape)"


def _qnode(device: Any) -> Any:
    import pennylane as qml

    @qml.set_shots(SHOTS)
    @qml.qnode(device)
    def circuit(weights: Any) -> Any:
        qml.StronglyEntanglingLayers(weights, wires=range(NUM_QUBITS))
        return qml.expval(qml.Z(0) @ qml.Z(NUM_QUBITS - 1))

    return circuit


def _weights(seed: int) -> Any:
    import pennylane as qml
    from pennylane import numpy as pnp

    shape = qml.StronglyEntanglingLayers.shape(n_layers=NUM_LAYERS, n_wires=NUM_QUBITS)
    values = pnp.random.default_rng(seed).uniform(-3.1, 3.1, size=shape)
    return pnp.array(values, requires_grad=True)


def _one_gradient(device: Any, seed: int) -> tuple[float, int, dict[str, Any]]:
    """Time one gradient; return (seconds, jobs created on the server, tracker totals)."""
    import pennylane as qml

    circuit = _qnode(device)
    weights = _weights(seed)
    client = device.client
    before = len(client.list_jobs())
    with qml.Tracker(device) as tracker:
        began = time.perf_counter()
        qml.grad(circuit)(weights)
        elapsed = time.perf_counter() - began
    return elapsed, len(client.list_jobs()) - before, dict(tracker.totals)


def run() -> list[dict[str, Any]]:
    """Measure one gradient both ways and return one row."""
    import pennylane as qml

    from qpi.server import LocalServer

    with LocalServer(seed=11) as server:
        options = {"url": server.url, "api_token": server.api_token, "cache": False}
        batched = qml.device("qpi.remote", wires=NUM_QUBITS, **options)
        per_tape = qml.device("qpi.remote", wires=NUM_QUBITS, batch_jobs=False, **options)
        _one_gradient(batched, 0)  # warm up: QPU lookup, imports, worker start
        ours, theirs = [], []
        for repeat in range(1, REPEATS + 1):
            ours.append(_one_gradient(batched, repeat))
            theirs.append(_one_gradient(per_tape, repeat))
    qpi_time = statistics.median(t for t, _, _ in ours)
    base_time = statistics.median(t for t, _, _ in theirs)
    totals = ours[-1][2]
    params = NUM_LAYERS * NUM_QUBITS * 3
    return [
        {
            "name": f"parameter-shift gradient, {NUM_QUBITS} qubits x {NUM_LAYERS} layers "
            f"({params} params, {SHOTS} shots)",
            "qpi": qpi_time,
            "baseline": base_time,
            "baseline_name": BASELINE,
            "ratio": base_time / qpi_time,
            "qpi_jobs": ours[-1][1],
            "baseline_jobs": theirs[-1][1],
            "circuits_in_job": totals.get("circuits"),
            "experiments_in_job": totals.get("experiments"),
        }
    ]


def main() -> None:
    """Print the figures."""
    for row in run():
        print(row["name"])
        print(
            f"  qpi.remote (batched):     {row['qpi'] * 1e3:9.1f} ms  {row['qpi_jobs']} job(s), "
            f"{row['circuits_in_job']} circuit(s), {row['experiments_in_job']} rows"
        )
        print(
            f"  {row['baseline_name']}: {row['baseline'] * 1e3:9.1f} ms  "
            f"{row['baseline_jobs']} job(s)"
        )
        print(f"  ratio: {row['ratio']:.1f}x")


if __name__ == "__main__":
    main()
