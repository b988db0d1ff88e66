"""Exact outcome distributions from Cirq, and a 5-sigma comparison with sampled results.

An *outcome* is everything one shot records: for every key (sorted) and every instance of
it, the tuple of bits. Its exact probability comes from Cirq itself: measurements are
deferred onto ancillas (``cirq.defer_measurements``, which also applies invert masks), the
measurement-free circuit's final density matrix gives the probability of every basis state,
and each basis state determines one outcome.
"""

from __future__ import annotations

import math
from collections import Counter, defaultdict

import cirq
import numpy as np

Outcome = tuple[tuple[str, tuple[tuple[int, ...], ...]], ...]


def exact_distribution(
    circuit: cirq.AbstractCircuit, resolver: cirq.ParamResolverOrSimilarType = None
) -> dict[Outcome, float]:
    """Exact probability of every outcome of ``circuit`` run at ``resolver``."""
    resolved = cirq.resolve_parameters(circuit, resolver or {})
    deferred = cirq.defer_measurements(resolved)
    measurements = [op for op in deferred.all_operations() if cirq.is_measurement(op)]
    unitary_part = cirq.drop_terminal_measurements(deferred)
    qubits = cirq.QubitOrder.DEFAULT.order_for(deferred.all_qubits())
    position = {q: i for i, q in enumerate(qubits)}
    if any(not cirq.has_unitary(op) for op in unitary_part.all_operations()):
        rho = cirq.final_density_matrix(unitary_part, qubit_order=qubits)
        probabilities = np.real(np.diag(rho))
    else:
        state = cirq.final_state_vector(unitary_part, qubit_order=qubits)
        probabilities = np.abs(state) ** 2
    out: dict[Outcome, float] = defaultdict(float)
    n = len(qubits)
    for index in np.flatnonzero(probabilities > 1e-12):
        bits = [(int(index) >> (n - 1 - i)) & 1 for i in range(n)]
        per_key: dict[str, list[tuple[int, ...]]] = defaultdict(list)
        for op in measurements:
            per_key[cirq.measurement_key_name(op)].append(
                tuple(bits[position[q]] for q in op.qubits)
            )
        out[_outcome(per_key)] += float(probabilities[index])
    return dict(out)


def observed(result: cirq.Result) -> Counter[Outcome]:
    """How often each outcome occurred in ``result``."""
    records = result.records
    counts: Counter[Outcome] = Counter()
    shots = len(next(iter(records.values())))
    for shot in range(shots):
        per_key = {
            key: [tuple(int(b) for b in inst) for inst in data[shot]]
            for key, data in records.items()
        }
        counts[_outcome(per_key)] += 1
    return counts


def assert_matches(result: cirq.Result, exact: dict[Outcome, float], label: str = "") -> None:
    """Every outcome's count is within 5 sigma (at least 5 counts) of its expectation."""
    counts = observed(result)
    shots = sum(counts.values())
    unexpected = set(counts) - set(exact)
    assert not unexpected, (
        f"{label}: outcomes with probability 0 occurred: {sorted(unexpected)[:3]}"
    )
    for outcome, p in exact.items():
        sigma = max(math.sqrt(shots * p * (1 - p)), 1.0)
        got, want = counts.get(outcome, 0), shots * p
        assert abs(got - want) <= 5 * sigma, (
            f"{label}: outcome {outcome} seen {got} times in {shots}, expected {want:.1f} "
            f"(5 sigma = {5 * sigma:.1f})"
        )


def _outcome(per_key) -> Outcome:
    return tuple((key, tuple(per_key[key])) for key in sorted(per_key))
