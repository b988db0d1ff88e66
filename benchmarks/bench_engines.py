"""Simulation engines: the built-in QPUs against Qiskit Aer run directly, by job shape.

Three sweeps, each figure the CPU time of one job's simulation as the server's worker spends
it (``qpi.server.executors.run_job`` on the job's payload: parsing, engine choice, simulation,
the driver-shaped result), against the CPU time of ``AerSimulator.run`` on the same circuits
already built as Qiskit objects (what a user with Aer installed would run). CPU time counts
every thread, so the figures hold on a loaded machine; both sides use the same threads.

- **qubits** (``mock``): a layered circuit (per layer ``h``, ``rx`` on every qubit, then a
  ``cx`` ladder; 4 layers), 1,024 shots, 10 to 26 qubits. Target: within 1.5x of Aer at 20,
  22 and 24 qubits.
- **rows** (``mock`` and ``qiskit_aer``): a 10-qubit, 2-layer ``ry``/``cx`` ansatz with one
  input, 1,024 shots, 10 to 100,000 parameter rows; Aer directly uses ``parameter_binds``.
  Target: ``qiskit_aer`` within 1.5x of Aer at 1,000 rows.
- **circuits** (``mock`` and ``qiskit_aer``): 1 to 1,000 different 4-qubit circuits in one
  job, 1,024 shots each; Aer directly gets the list in one ``run``. Target: ``qiskit_aer``
  within 1.5x of Aer at 1,000 circuits.

Run it with ``python -m benchmarks --only engines`` (``--quick`` stops at 20 qubits, 1,000
rows and 100 circuits).
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from typing import Any

from benchmarks._common import median, row

SHOTS = 1024
SEED = 5
BASELINE = "Qiskit Aer directly (AerSimulator.run)"
TARGET = "within 1.5x of Aer directly"


def cpu(func: Callable[[], Any], repeats: int) -> float:
    """Median process CPU seconds (all threads) of ``func()``."""
    samples = []
    for _ in range(repeats):
        start = time.process_time()
        func()
        samples.append(time.process_time() - start)
    return median(samples)


def layered(num_qubits: int, layers: int = 4) -> tuple[str, Any]:
    """The qubits sweep's circuit: OpenQASM 3 text and the same circuit built in Qiskit."""
    from qiskit import QuantumCircuit

    qc = QuantumCircuit(num_qubits, num_qubits)
    lines = ["OPENQASM 3.0;", 'include "stdgates.inc";', f"bit[{num_qubits}] c;"]
    lines.append(f"qubit[{num_qubits}] q;")
    for layer in range(layers):
        angle = 0.1 + 0.2 * layer
        for q in range(num_qubits):
            qc.h(q)
            qc.rx(angle, q)
            lines += [f"h q[{q}];", f"rx({angle!r}) q[{q}];"]
        for q in range(num_qubits - 1):
            qc.cx(q, q + 1)
            lines.append(f"cx q[{q}], q[{q + 1}];")
    qc.measure(range(num_qubits), range(num_qubits))
    lines.append("c = measure q;")
    return "\n".join(lines) + "\n", qc


def ansatz(num_qubits: int = 10) -> tuple[str, Any]:
    """The rows sweep's circuit: one input ``theta``, as text and as a Qiskit circuit."""
    from qiskit import QuantumCircuit
    from qiskit.circuit import Parameter

    theta = Parameter("theta")
    qc = QuantumCircuit(num_qubits, num_qubits)
    lines = ["OPENQASM 3.0;", 'include "stdgates.inc";', "input float[64] theta;"]
    lines += [f"bit[{num_qubits}] c;", f"qubit[{num_qubits}] q;"]
    for layer in range(2):
        for q in range(num_qubits):
            qc.ry(theta * (q + 1) + layer, q)
            lines.append(f"ry(theta * {q + 1} + {layer}) q[{q}];")
        for q in range(num_qubits - 1):
            qc.cx(q, q + 1)
            lines.append(f"cx q[{q}], q[{q + 1}];")
    qc.measure(range(num_qubits), range(num_qubits))
    lines.append("c = measure q;")
    return "\n".join(lines) + "\n", qc


def small(index: int) -> tuple[str, Any]:
    """The circuits sweep's ``index``-th circuit: 4 qubits, angles that differ per circuit."""
    from qiskit import QuantumCircuit

    angle = 0.001 * index
    qc = QuantumCircuit(4, 4)
    lines = ["OPENQASM 3.0;", 'include "stdgates.inc";', "bit[4] c;", "qubit[4] q;"]
    for q in range(4):
        qc.ry(angle + q, q)
        lines.append(f"ry({angle + q!r}) q[{q}];")
    for q in range(3):
        qc.cx(q, q + 1)
        lines.append(f"cx q[{q}], q[{q + 1}];")
    qc.measure(range(4), range(4))
    lines.append("c = measure q;")
    return "\n".join(lines) + "\n", qc


def ours(executor: str, circuits: list[dict[str, Any]]) -> Callable[[], Any]:
    """A job run the way a worker runs it."""
    from qpi.server import executors

    payload = {"circuits": circuits, "shots": SHOTS}

    def run() -> None:
        result = executors.run_job(
            payload,
            executor_type=executor,
            backend_name=executor,
            seed=SEED,
            max_qubits=30,
            max_shots=10**6,
            threads=_threads(),
        )
        assert "error" not in result, result

    return run


def aer(circuits: list[Any], binds: list[dict[Any, list[float]]] | None = None) -> Callable:
    """The same circuits on Aer directly."""
    from qiskit_aer import AerSimulator

    simulator = AerSimulator(seed_simulator=SEED)

    def run() -> None:
        options = {"parameter_binds": binds} if binds else {}
        assert simulator.run(circuits, shots=SHOTS, **options).result().success

    return run


def _threads() -> int:
    import os

    return os.cpu_count() or 1


def _compare(name: str, mine: Callable, theirs: Callable, repeats: int, gate: bool) -> dict:
    figure, baseline = cpu(mine, repeats), cpu(theirs, repeats)
    passed = figure <= 1.5 * baseline if gate else None
    return row(name, figure, baseline, BASELINE, target=TARGET if gate else None, passed=passed)


def qubit_rows(quick: bool) -> list[dict[str, Any]]:
    sizes = (10, 14, 18, 20) if quick else (10, 14, 18, 20, 22, 24, 26)
    out = []
    for n in sizes:
        text, qc = layered(n)
        repeats = 3 if n <= 20 else 1
        out.append(
            _compare(
                f"mock, {n} qubits x 4 layers, CPU s",
                ours("mock", [{"circuit": text}]),
                aer([qc]),
                repeats,
                n in (20, 22, 24),
            )
        )
    return out


def sweep_rows(quick: bool) -> list[dict[str, Any]]:
    counts = (10, 1000) if quick else (10, 1000, 10_000, 100_000)
    text, qc = ansatz()
    theta = next(iter(qc.parameters))
    out = []
    for count in counts:
        values = [[2 * math.pi * k / count] for k in range(count)]
        baseline = aer([qc], [{theta: [v[0] for v in values]}])
        circuits = [{"circuit": text, "parameter_values": values}]
        repeats = 3 if count <= 1000 else 1
        for executor in ("mock", "qiskit_aer"):
            out.append(
                _compare(
                    f"{executor}, 10 qubits x {count} rows, CPU s",
                    ours(executor, circuits),
                    baseline,
                    repeats,
                    executor == "qiskit_aer" and count == 1000,
                )
            )
    return out


def circuit_rows(quick: bool) -> list[dict[str, Any]]:
    counts = (1, 100) if quick else (1, 100, 1000)
    out = []
    for count in counts:
        built = [small(k) for k in range(count)]
        circuits = [{"circuit": text} for text, _ in built]
        baseline = aer([qc for _, qc in built])
        for executor in ("mock", "qiskit_aer"):
            out.append(
                _compare(
                    f"{executor}, {count} circuits of 4 qubits, CPU s",
                    ours(executor, circuits),
                    baseline,
                    3,
                    executor == "qiskit_aer" and count == 1000,
                )
            )
    return out


def run(quick: bool = False) -> list[dict[str, Any]]:
    """Every sweep's rows (the server is not needed: workers run ``run_job``)."""
    from qpi.server.workers import configure_environment

    configure_environment()  # as in the workers: OpenMP threads sleep when idle
    return [*qubit_rows(quick), *sweep_rows(quick), *circuit_rows(quick)]
