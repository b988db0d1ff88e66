"""Serialising a large Qiskit circuit: ``qpi_qiskit.dumps`` against ``qiskit.qasm3.dumps``.

The circuit is ``real_amplitudes(100, reps=200)`` plus ``measure_all``: 100 qubits and 40,001
instructions (20,100 ``ry`` rotations, 19,800 ``cx``, one barrier, 100 measurements), the same
circuit the core writer's benchmark uses; and its ``decompose()``, where Qiskit 2 turns each
``ry`` into an ``r`` gate with two angles. Each is timed parametric (20,100 free parameters)
and bound. ``qpi_qiskit.dumps`` is the whole path
the SDK takes when it sends a circuit: the conversion from ``QuantumCircuit`` (``r`` rewritten
as ``ry``, registers merged, parameters kept symbolic) and the :mod:`qpi.qasm3` writer. Both
functions are timed as a user calls them, alternately in one process (so drifts in machine
load hit both alike); figures are medians.

Run it with ``python -m benchmarks.bench_qiskit_dumps``.
"""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable
from typing import Any

NUM_QUBITS = 100
REPS = 200
REPEATS = 7
BASELINE = "qiskit.qasm3.dumps"


def build(bound: bool, decomposed: bool = False) -> Any:
    """The benchmark circuit (parametric, or bound to seeded random angles)."""
    import numpy as np
    from qiskit.circuit.library import real_amplitudes

    qc = real_amplitudes(NUM_QUBITS, reps=REPS)
    if decomposed:
        qc = qc.decompose()
    qc.measure_all()
    if bound:
        values = np.random.default_rng(7).uniform(-np.pi, np.pi, qc.num_parameters)
        qc = qc.assign_parameters(values)
    return qc


def _interleaved_medians(
    ours: Callable[[], Any], theirs: Callable[[], Any], repeats: int
) -> tuple[float, float]:
    """Median seconds of each function, timed alternately so load drifts hit both alike."""
    times: tuple[list[float], list[float]] = ([], [])
    for _ in range(repeats):
        for func, sink in ((ours, times[0]), (theirs, times[1])):
            start = time.perf_counter()
            func()
            sink.append(time.perf_counter() - start)
    return statistics.median(times[0]), statistics.median(times[1])


def run(repeats: int = REPEATS, *, server: Any = None, quick: bool = False) -> list[dict]:
    """Time both functions on the parametric and the bound circuit.

    Args:
        repeats: Timed runs of each function per figure (the median is reported).
        server: Ignored (no server is needed); accepted for the runner.
        quick: Three repeats instead of ``repeats``.

    Returns:
        One row per case: ``name``, ``qpi`` and ``baseline`` seconds (medians),
        ``baseline_name``, ``ratio`` (baseline / qpi), ``instructions`` and ``bytes`` (of
        the text qpi sends).
    """
    import qpi_qiskit
    from qiskit import qasm3 as qiskit_qasm3

    if quick:
        repeats = 3
    rows = []
    for decomposed, bound in ((False, False), (False, True), (True, False), (True, True)):
        qc = build(bound, decomposed)
        text = qpi_qiskit.dumps(qc)  # imports and first-call costs stay out of the timing
        ours, theirs = _interleaved_medians(
            lambda: qpi_qiskit.dumps(qc),  # noqa: B023
            lambda: qiskit_qasm3.dumps(qc),  # noqa: B023
            repeats,
        )
        rows.append(
            {
                "name": f"qiskit dumps {'bound' if bound else 'parametric'}"
                f"{' (r gates)' if decomposed else ''} {NUM_QUBITS}q x {len(qc.data)} instr.",
                "qpi": ours,
                "baseline": theirs,
                "baseline_name": BASELINE,
                "ratio": theirs / ours,
                "instructions": len(qc.data),
                "bytes": len(text.encode()),
            }
        )
    return rows


def main() -> None:
    """Print the figures as a table."""
    rows = run()
    print(f"{'case':<52} {'qpi (ms)':>10} {'qiskit (ms)':>12} {'ratio':>8}")
    for row in rows:
        print(
            f"{row['name']:<52} {row['qpi'] * 1e3:>10.1f} {row['baseline'] * 1e3:>12.1f} "
            f"{row['ratio']:>7.1f}x"
        )


if __name__ == "__main__":
    main()
