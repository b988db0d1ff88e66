"""Helpers of the Qiskit plugin tests: reference circuits and a 5-sigma comparison."""

from __future__ import annotations

import math
from collections.abc import Mapping

from qiskit import QuantumCircuit
from qiskit.quantum_info import Statevector

#: Standard deviations an observed count may stray from its expectation.
SIGMAS = 5.0


def bell() -> QuantumCircuit:
    qc = QuantumCircuit(2, 2, name="bell")
    qc.h(0)
    qc.cx(0, 1)
    qc.measure([0, 1], [0, 1])
    return qc


def exact_probabilities(circuit: QuantumCircuit, values: Mapping | None = None) -> dict[str, float]:
    """Outcome probabilities of a circuit whose measurements all come last (clbit i ← qubit).

    Keys are clbit strings, clbit 0 rightmost, in the circuit's merged register order.
    """
    bound = circuit.assign_parameters(values) if values else circuit
    measured = {}
    for inst in bound.data:
        if inst.operation.name == "measure":
            measured[bound.find_bit(inst.clbits[0]).index] = bound.find_bit(inst.qubits[0]).index
    unitary = bound.remove_final_measurements(inplace=False)
    qubit_probs = Statevector(unitary).probabilities_dict()
    out: dict[str, float] = {}
    width = circuit.num_clbits
    for key, p in qubit_probs.items():
        bits = ["0"] * width
        for clbit, qubit in measured.items():
            bits[width - 1 - clbit] = key[len(key) - 1 - qubit]
        label = "".join(bits)
        out[label] = out.get(label, 0.0) + p
    return out


def assert_close(counts: Mapping[str, int], probabilities: Mapping[str, float], shots: int) -> None:
    """Every outcome's count is within 5 sigma of ``shots * p`` (binomial)."""
    counts = {k.replace(" ", ""): v for k, v in counts.items()}
    assert sum(counts.values()) == shots
    for key in set(counts) | set(probabilities):
        p = probabilities.get(key, 0.0)
        expected = shots * p
        bound = SIGMAS * math.sqrt(shots * p * (1 - p)) + 0.5
        assert abs(counts.get(key, 0) - expected) <= bound, (key, counts, probabilities)


def assert_estimates(data, target, precision: float) -> None:
    """``data.evs`` within 5 sigma of ``target``, sigma being ``data.stds``.

    ``stds`` is zero where every shot agreed (an expectation of exactly +-1), so the bound has
    a floor of a tenth of the target precision; ``shape`` must match as well.
    """
    import numpy as np

    target = np.asarray(target, dtype=float)
    assert data.evs.shape == target.shape, (data.evs.shape, target.shape)
    bound = SIGMAS * np.maximum(data.stds, 0.1 * precision) + 1e-9
    assert np.all(np.abs(data.evs - target) <= bound), (data.evs, target, data.stds)
