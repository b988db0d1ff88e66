"""Serialising a large parametric circuit: ``qpi.qasm3.dumps`` against ``qiskit.qasm3.dumps``.

The circuit is ``real_amplitudes(100, reps=200)`` (already ``ry``/``cx`` in Qiskit 2.x;
``decompose()`` would turn ``ry`` into ``r``, which is not a ``stdgates.inc`` gate) plus
``measure_all``: 100 qubits and 40,001 instructions. The same gate list is built as a
Qiskit ``QuantumCircuit`` and as a :class:`qpi.circuit.Circuit` (directly, not through the
Qiskit plugin), and each serialiser is timed on its own form, unbound and bound. Figures are
the median of several repeats, measured side by side in one process.

Run it with ``python -m benchmarks.bench_qasm3``.
"""

from __future__ import annotations

import statistics
import sys
import time
from collections.abc import Callable
from typing import Any

NUM_QUBITS = 100
REPS = 200
REPEATS = 7
BASELINE = "qiskit.qasm3.dumps"


def build_qiskit(bound: bool) -> Any:
    """The benchmark circuit as a Qiskit ``QuantumCircuit`` (parametric or bound)."""
    import numpy as np
    from qiskit.circuit.library import real_amplitudes

    qc = real_amplitudes(NUM_QUBITS, reps=REPS)
    qc.measure_all()
    if bound:
        values = np.random.default_rng(7).uniform(-np.pi, np.pi, qc.num_parameters)
        qc = qc.assign_parameters(values)
    return qc


def to_circuit(qc: Any) -> Any:
    """The same gate list as a :class:`qpi.circuit.Circuit`, translated here, not by a plugin."""
    from qiskit.circuit import ParameterExpression

    from qpi.circuit import Circuit, Instruction, Param

    qubit_index = {bit: i for i, bit in enumerate(qc.qubits)}
    clbit_index = {bit: i for i, bit in enumerate(qc.clbits)}
    params: dict[Any, Any] = {}

    def value(param: Any) -> Any:
        if isinstance(param, ParameterExpression) and param.parameters:
            (symbol,) = param.parameters  # real_amplitudes uses bare parameters only
            if symbol not in params:
                params[symbol] = Param(symbol.name)
            return params[symbol]
        return float(param)

    instructions = [
        Instruction(
            inst.operation.name,
            tuple(qubit_index[q] for q in inst.qubits),
            tuple(value(p) for p in inst.operation.params),
            tuple(clbit_index[c] for c in inst.clbits),
        )
        for inst in qc.data
    ]
    return Circuit(
        qc.num_qubits,
        qc.num_clbits,
        instructions,
        parameters=[p.name for p in qc.parameters],
    )


def _median_time(func: Callable[[], Any], repeats: int) -> float:
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        func()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def run(
    repeats: int = REPEATS, *, parse: bool = False, server: Any = None, quick: bool = False
) -> list[dict]:
    """Time both serialisers on the unbound and the bound circuit.

    Args:
        repeats: Timed runs per figure (the median is reported; Qiskit gets half as many).
        parse: Also time ``qpi.qasm3.parse`` against ``qiskit.qasm3.loads`` on the unbound
            text (Qiskit's loader takes about half a minute here, so it runs once).
        server: Ignored (no server is needed); accepted for the runner.
        quick: Three repeats instead of ``repeats``.

    Returns:
        One row per case: ``name``, ``qpi`` and ``baseline`` seconds (medians),
        ``baseline_name``, ``ratio`` (baseline / qpi) and ``instructions``.
    """
    from qiskit import qasm3 as qiskit_qasm3

    from qpi import qasm3

    if quick:
        repeats = 3
    rows = []
    for bound in (False, True):
        qc = build_qiskit(bound)
        circuit = to_circuit(qc)
        qasm3.dumps(circuit)  # warm caches and imports outside the timed region
        ours = _median_time(lambda: qasm3.dumps(circuit), repeats)  # noqa: B023
        theirs = _median_time(lambda: qiskit_qasm3.dumps(qc), max(3, repeats // 2))  # noqa: B023
        rows.append(
            {
                "name": f"dumps {'bound' if bound else 'parametric'} "
                f"{NUM_QUBITS}q x {len(circuit)} instructions",
                "qpi": ours,
                "baseline": theirs,
                "baseline_name": BASELINE,
                "ratio": theirs / ours,
                "instructions": len(circuit),
            }
        )
    if parse:
        rows.append(_parse_row(repeats))
    return rows


def _parse_row(repeats: int) -> dict:
    from qiskit import qasm3 as qiskit_qasm3

    from qpi import qasm3

    circuit = to_circuit(build_qiskit(False))
    text = qasm3.dumps(circuit)
    ours = _median_time(lambda: qasm3.parse(text), repeats)
    theirs = _median_time(lambda: qiskit_qasm3.loads(text), 1)
    return {
        "name": f"parse parametric {NUM_QUBITS}q x {len(circuit)} instructions",
        "qpi": ours,
        "baseline": theirs,
        "baseline_name": "qiskit.qasm3.loads",
        "ratio": theirs / ours,
        "instructions": len(circuit),
    }


def main() -> None:
    """Print the figures as a table (``--parse`` adds the parser against Qiskit's loader)."""
    rows = run(parse="--parse" in sys.argv[1:])
    print(f"{'case':<46} {'qpi (ms)':>10} {'baseline (ms)':>14} {'ratio':>8}  baseline")
    for row in rows:
        print(
            f"{row['name']:<46} {row['qpi'] * 1e3:>10.1f} {row['baseline'] * 1e3:>14.1f} "
            f"{row['ratio']:>7.1f}x  {row['baseline_name']}"
        )


if __name__ == "__main__":
    main()
