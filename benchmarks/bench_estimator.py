"""The native ``QPIEstimator`` against Qiskit's ``BackendEstimatorV2`` and Aer's ``EstimatorV2``.

Two workloads on a 12-qubit ``real_amplitudes`` ansatz (5 repetitions, 72 angles) with a
30-term Hamiltonian (seeded random Pauli strings of weight 2 to 4):

* a sweep: one PUB of 20 parameter points;
* a gradient: one PUB of the 144 parameter-shifted points of the 72 angles.

``QPIEstimator`` and ``BackendEstimatorV2`` both run on a ``QPIBackend`` of one
``LocalServer`` (``mock`` QPU, cache off), at the same precision (so the same shots per basis
and point), both grouping terms into qubit-wise commuting bases. Bytes and requests are
counted on the wire by a ``WireCounter`` proxy; jobs are the ``POST /api/jobs`` requests.
A run that cannot complete (a payload the client refuses, or a job the server fails, e.g.
results over its 1 MiB cap) shows the bytes sent (or those of the refused payload), the jobs
submitted, no time, and the reason in ``qpi_error``/``baseline_error``. Aer's
``EstimatorV2`` runs locally and computes exact expectation values (no shots, no wire):
it is the time a user with a local simulator would see, and the reference the estimates are
checked against (``max_sigma``: the largest ``|ours - exact| / std``).

Run it with ``python -m benchmarks.bench_estimator`` (or ``python -m benchmarks --only
estimator``).
"""

from __future__ import annotations

import re
import time
from typing import Any

from benchmarks._common import WireCounter, row

NUM_QUBITS = 12
REPS = 5
NUM_TERMS = 30
POINTS = 20
PRECISION = 1 / 32  # 1024 shots per basis and point, for both estimators
BASELINE = "Qiskit BackendEstimatorV2 on QPIBackend"
AER = "Aer EstimatorV2 (local, exact)"


def _problem(points: int, gradient: bool) -> tuple[Any, Any, Any]:
    import numpy as np
    from qiskit import QuantumCircuit
    from qiskit.circuit.library import real_amplitudes
    from qiskit.quantum_info import SparsePauliOp

    rng = np.random.default_rng(7)
    ansatz = QuantumCircuit(NUM_QUBITS)
    ansatz.compose(real_amplitudes(NUM_QUBITS, reps=REPS), inplace=True)
    ansatz = ansatz.decompose()
    labels = set()
    while len(labels) < NUM_TERMS:
        chars = ["I"] * NUM_QUBITS
        for q in rng.choice(NUM_QUBITS, size=int(rng.integers(2, 5)), replace=False):
            chars[q] = "XYZ"[int(rng.integers(3))]
        labels.add("".join(chars))
    hamiltonian = SparsePauliOp(sorted(labels), rng.uniform(-1, 1, NUM_TERMS))
    base = rng.uniform(-np.pi, np.pi, ansatz.num_parameters)
    if gradient:  # the +-pi/2 shift of every angle
        shifts = np.kron(np.eye(ansatz.num_parameters), [[1], [-1]]) * (np.pi / 2)
        values = base + shifts
    else:
        values = rng.uniform(-np.pi, np.pi, (points, ansatz.num_parameters))
    return ansatz, hamiltonian, values


def _on_wire(server: Any, make: Any, pub: tuple) -> dict[str, Any]:
    """Run ``make(backend).run([pub])`` through a counting proxy: time, bytes, jobs, result.

    A payload over the server's limit is refused before sending; its size (from the message)
    is then the bytes the job would have sent, and the time is ``None``.
    """
    from qpi import QPIClient, errors

    with WireCounter(server.url) as wire:
        client = QPIClient(wire.url, api_token=server.api_token, cache=False, cache_mode="off")
        with client:
            estimator = make(client.get_backend("mock"))
            wire.reset()
            began = time.perf_counter()
            try:
                data = estimator.run([pub]).result()[0].data
            except (errors.ValidationError, errors.JobFailedError) as exc:
                size = re.search(r"payload is ([\d,]+) bytes", str(exc))
                sent = wire.bytes_sent() or (int(size[1].replace(",", "")) if size else None)
                return {
                    "time": None,
                    "bytes": sent,
                    "jobs": _jobs(wire),
                    "requests": wire.count(),
                    "data": None,
                    "error": str(exc),
                }
            elapsed = time.perf_counter() - began
        return {
            "time": elapsed,
            "bytes": wire.bytes_sent(),
            "jobs": _jobs(wire),
            "requests": wire.count(),
            "data": data,
        }


def _jobs(wire: WireCounter) -> int:
    return sum(1 for r in wire.requests() if r.method == "POST" and r.path == "/api/jobs")


def _workload(server: Any, name: str, pub: tuple) -> list[dict[str, Any]]:
    import numpy as np
    from qiskit.primitives import BackendEstimatorV2
    from qiskit_aer.primitives import EstimatorV2 as AerEstimator
    from qpi_qiskit import QPIEstimator

    ours = _on_wire(
        server, lambda b: QPIEstimator(b, options={"default_precision": PRECISION}), pub
    )
    theirs = _on_wire(
        server,
        lambda b: BackendEstimatorV2(backend=b, options={"default_precision": PRECISION}),
        pub,
    )
    began = time.perf_counter()
    exact = AerEstimator().run([pub], precision=0).result()[0].data.evs
    aer_time = time.perf_counter() - began
    extra: dict[str, Any] = {"requests": ours["requests"]}
    if ours["data"] is not None:
        stds = np.maximum(ours["data"].stds, 1e-12)
        extra["max_sigma"] = round(float(np.max(np.abs(ours["data"].evs - exact) / stds)), 2)
    for who, figures in (("qpi", ours), ("baseline", theirs)):
        if "error" in figures:  # refused before sending: the bytes are what it would send
            extra[f"{who}_error"] = figures["error"]
    return [
        row(f"{name}: bytes sent", ours["bytes"], theirs["bytes"], BASELINE, unit="bytes"),
        row(f"{name}: jobs", ours["jobs"] or None, theirs["jobs"] or None, BASELINE, unit="jobs"),
        row(f"{name}: time", ours["time"], theirs["time"], BASELINE, **extra),
        row(f"{name}: time vs a local exact simulator", ours["time"], aer_time, AER),
    ]


def run(server: Any = None, quick: bool = False) -> list[dict[str, Any]]:
    """Both workloads; ``quick`` uses 5 points and a 36-point gradient slice."""
    from qpi.server import LocalServer

    owned = server is None
    if owned:
        server = LocalServer(seed=11).start()
    try:
        ansatz, hamiltonian, sweep = _problem(POINTS, gradient=False)
        _, _, shifted = _problem(0, gradient=True)
        if quick:
            sweep, shifted = sweep[:5], shifted[:36]
        rows = _workload(
            server,
            f"{NUM_QUBITS}q, {NUM_TERMS} terms, {len(sweep)} points",
            (ansatz, hamiltonian, sweep),
        )
        rows += _workload(
            server,
            f"{NUM_QUBITS}q, {NUM_TERMS} terms, {len(shifted)}-point gradient",
            (ansatz, hamiltonian, shifted),
        )
        return rows
    finally:
        if owned:
            server.stop()


def main() -> None:
    """Print the figures."""
    for r in run():
        ours = "refused" if r["qpi"] is None else f"{r['qpi']:.4g}"
        base = "refused" if r["baseline"] is None else f"{r['baseline']:.4g}"
        ratio = "-" if r["ratio"] is None else f"{r['ratio']:.1f}x"
        print(f"{r['name']:<58} qpi {ours}  {r['baseline_name']}: {base}  ratio {ratio}")


if __name__ == "__main__":
    main()
