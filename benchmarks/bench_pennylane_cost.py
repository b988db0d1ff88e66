"""Experiments ``qpi.remote`` runs per PennyLane call, against ``default.qubit``'s circuits.

The cost a QPU user pays is experiments (one circuit run for ``shots`` shots). For each call
the figure is ``qml.Tracker``'s count on both devices, side by side in one run:

* ``qpi.remote``: ``experiments`` (circuit rows the jobs ran), and ``jobs``;
* ``default.qubit`` with ``diff_method="parameter-shift"`` and the same shots: ``executions``
  (circuits it simulated), the alternative a user would compare with.

Calls: a forward pass of a 3-qubit, 6-parameter ansatz measuring a 3-term Hamiltonian with
trainable inputs (issue 17: 24 experiments before the fix), one SPSA step (48 before), and one
gradient of the H2 VQE circuit with ``DoubleExcitation`` (85 before, against default.qubit's
40). Target: never more than ``default.qubit``.

Run it with ``python -m benchmarks.bench_pennylane_cost``.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from benchmarks._common import row

SHOTS = 1000
BASELINE = "default.qubit, diff_method='parameter-shift' (circuits executed)"
TARGET = "no more experiments than default.qubit"


def _h2() -> Any:
    import pennylane as qml

    coeffs = [-0.24, 0.17, 0.17, -0.22, -0.22, 0.12, 0.17, 0.045, 0.045, 0.045, 0.045]
    coeffs += [0.12, 0.17, 0.17, 0.12]
    z, x, y = qml.Z, qml.X, qml.Y
    ops = [qml.I(0), z(0), z(1), z(2), z(3), z(0) @ z(1), z(0) @ z(2)]
    ops += [y(0) @ x(1) @ x(2) @ y(3), y(0) @ y(1) @ x(2) @ x(3), x(0) @ x(1) @ y(2) @ y(3)]
    ops += [x(0) @ y(1) @ y(2) @ x(3), z(0) @ z(3), z(1) @ z(2), z(1) @ z(3), z(2) @ z(3)]
    return qml.Hamiltonian(coeffs, ops)


def _vqe(theta: Any) -> Any:
    import pennylane as qml

    qml.BasisState(np.array([1, 1, 0, 0]), wires=range(4))
    qml.DoubleExcitation(theta, wires=[0, 1, 2, 3])
    return qml.expval(_h2())


def _ansatz(weights: Any) -> Any:
    import pennylane as qml

    for i in range(3):
        qml.RY(weights[i], wires=i)
    qml.CNOT(wires=[0, 1])
    qml.CNOT(wires=[1, 2])
    for i in range(3):
        qml.RX(weights[3 + i], wires=i)
    ham = qml.Hamiltonian([0.5, -0.3, 0.2], [qml.Z(0) @ qml.Z(1), qml.X(2), qml.Y(0)])
    return qml.expval(ham)


def _count(device: Any, fn: Callable[..., Any], call: Callable[[Any], Any], key: str) -> tuple:
    """``(figure, jobs)`` of ``call(qnode)`` on ``device``."""
    import pennylane as qml

    qnode = qml.set_shots(qml.QNode(fn, device, diff_method="parameter-shift"), SHOTS)
    with qml.Tracker(device) as tracker:
        call(qnode)
    return tracker.totals.get(key, 0), tracker.totals.get("jobs")


def run(server: Any = None, quick: bool = False) -> list[dict[str, Any]]:
    """One row per call: experiments on qpi.remote against circuits on default.qubit."""
    import pennylane as qml
    from pennylane import numpy as pnp

    from qpi.server import LocalServer

    if server is None:
        with LocalServer(seed=11) as own:
            return run(own, quick)
    weights = pnp.array([0.3, -0.8, 1.1, 0.5, -0.2, 0.9], requires_grad=True)
    theta = pnp.array(0.2, requires_grad=True)
    spsa = qml.SPSAOptimizer(maxiter=1)
    cases = [
        ("forward pass, trainable inputs (3 qubits, 3-term H)", _ansatz, 3, lambda q: q(weights)),
        ("SPSA step (3 qubits, 3-term H)", _ansatz, 3, lambda q: spsa.step(q, weights)),
        ("DoubleExcitation VQE gradient (H2, 15 terms)", _vqe, 4, lambda q: qml.grad(q)(theta)),
    ]
    rows = []
    for name, fn, wires, call in cases:
        remote = qml.device(
            "qpi.remote", wires=wires, url=server.url, api_token=server.api_token, cache=False
        )
        ours, jobs = _count(remote, fn, call, "experiments")
        theirs, _ = _count(qml.device("default.qubit", wires=wires), fn, call, "executions")
        rows.append(
            row(
                f"PennyLane {name}: experiments",
                ours,
                theirs,
                BASELINE,
                unit="count",
                target=TARGET,
                passed=ours <= theirs,
                qpi_jobs=jobs,
            )
        )
    return rows


def main() -> None:
    """Print the figures."""
    for item in run():
        print(item["name"])
        print(f"  qpi.remote:    {item['qpi']:4d} experiments in {item['qpi_jobs']} job(s)")
        print(f"  default.qubit: {item['baseline']:4d} circuits")
        print(f"  ratio: {item['ratio']:.2f}x ({'PASS' if item['passed'] else 'FAIL'})")


if __name__ == "__main__":
    main()
