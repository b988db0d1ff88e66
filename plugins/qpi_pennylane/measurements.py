"""Counts from a QPU turned into PennyLane measurement results, in PennyLane's shapes.

A QPU returns counts only (``{bitstring: count}``, clbit 0 rightmost). ``expval``, ``var``,
``probs`` and ``counts`` are exact functions of the counts. They are computed from the counts
parsed once into arrays ([`Outcomes`][qpi_pennylane.outcomes.Outcomes]): an expectation value of a
Pauli word is a parity of columns, of any other diagonal observable its eigenvalues indexed by
outcome, so the many terms of a Hamiltonian cost a few numpy calls each, not a walk over the
counts dict each. Measurements this does not cover (``mv`` of mid-circuit measurements kept
as such, very wide ``probs``) use the measurement's own ``process_counts``.

``sample`` needs one outcome per shot in shot order, which the QPU does not return: the
samples are rebuilt from the counts and put in a random order drawn from a seeded generator.
The order is therefore synthesised (every statistic of the samples is the QPU's), and it is
the same every time the same result is processed, so a result replayed from the cache gives
the very same samples.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

import numpy as np

from qpi_pennylane.outcomes import MAX_DENSE_WIRES, Outcomes, outcome_values

if TYPE_CHECKING:
    from pennylane.measurements import MeasurementProcess
    from pennylane.tape import QuantumScript
    from pennylane.wires import Wires

__all__ = [
    "counts_in_wire_order",
    "measurement_result",
    "measurement_results",
    "sample_rng",
    "samples_from_counts",
    "tape_result",
]


def counts_in_wire_order(counts: Mapping[str, int]) -> dict[str, int]:
    """Re-key QPU counts the PennyLane way, sorted by outcome.

    Args:
        counts: ``{bitstring: count}`` with clbit 0 rightmost (the QPU's convention).

    Returns:
        ``{bitstring: count}`` with clbit 0 (the first measured wire) leftmost, zero counts
        dropped and keys in ascending order, so that equal counts give equal dicts.
    """
    width = max((len(key) for key in counts), default=0)
    return Outcomes.from_qpu(counts, width).to_counts()


def sample_rng(*entropy: int) -> np.random.Generator:
    """A generator seeded from non-negative integers (seed, result fingerprint, position)."""
    return np.random.default_rng(np.random.SeedSequence([int(e) for e in entropy]))


def samples_from_counts(
    counts: Mapping[str, int], num_wires: int, rng: np.random.Generator
) -> np.ndarray:
    """One row of bits per shot, in a shuffled order.

    Args:
        counts: Counts in wire order (see
            [`counts_in_wire_order`][qpi_pennylane.measurements.counts_in_wire_order]).
        num_wires: The number of measured wires (the length of every key).
        rng: The generator that orders the shots.

    Returns:
        An ``int64`` array of shape ``(shots, num_wires)``.
    """
    return Outcomes.from_wire_order(counts, num_wires).samples(rng)


def measurement_result(mp: MeasurementProcess, outcomes: Outcomes, wires: Wires) -> Any:
    """The result of one ``expval``, ``var``, ``probs`` or ``counts`` from parsed counts.

    Args:
        mp: The measurement (diagonal in the computational basis).
        outcomes: The experiment's outcomes over ``wires``.
        wires: The measured wires, in the order of the outcome columns.

    Returns:
        What ``mp.process_counts`` returns for the same counts, with ``counts`` of every
        outcome (``all_outcomes=True``) in ascending order, as ``default.qubit`` gives them.
    """
    from pennylane.measurements import CountsMP, ExpectationMP, ProbabilityMP, VarianceMP

    kind = type(mp)
    if mp.mv is not None or not len(outcomes.freq):
        return _counted(mp, outcomes, wires)
    positions = wires.indices(mp.wires) if len(mp.wires) else list(range(len(wires)))
    if kind is ProbabilityMP and len(positions) <= MAX_DENSE_WIRES:
        return outcomes.histogram(positions) / outcomes.shots
    if kind is CountsMP:
        return _counts(mp, outcomes, positions, wires)
    if kind in (ExpectationMP, VarianceMP):
        values = _values(mp, outcomes, positions)
        if values is not None:
            mean = float(values @ outcomes.freq) / outcomes.shots
            if kind is ExpectationMP:
                return np.float64(mean)
            return np.float64(float(values**2 @ outcomes.freq) / outcomes.shots - mean**2)
    return _counted(mp, outcomes, wires)


def _counted(mp: Any, outcomes: Outcomes, wires: Wires) -> Any:
    """PennyLane's own ``process_counts`` (the fallback), from a wire-order counts dict."""
    return mp.process_counts(outcomes.to_counts(), wires)


def _values(mp: Any, outcomes: Outcomes, positions: list[int]) -> np.ndarray | None:
    """The observable's value per outcome, or ``None`` to leave it to ``process_counts``."""
    pauli = getattr(mp.obs, "pauli_rep", None) if mp.obs is not None else None
    if pauli is not None and len(pauli) == 1:
        ((word, coeff),) = pauli.items()
        if all(letter == "Z" for letter in word.values()):
            z_positions = [positions[list(mp.wires).index(w)] for w in word]
            return float(np.real(coeff)) * outcomes.parity(z_positions)
    if len(positions) > MAX_DENSE_WIRES:
        return None
    eigvals = mp.eigvals()
    if eigvals is None or np.iscomplexobj(eigvals) or len(eigvals) != 2 ** len(positions):
        return None
    return outcome_values(outcomes, positions, eigvals)


def _counts(mp: Any, outcomes: Outcomes, positions: list[int], wires: Wires) -> dict[Any, Any]:
    if mp.obs is not None or mp.eigvals() is not None:
        result = _counted(mp, outcomes, wires)
        if not mp.all_outcomes:
            return result
        # Every eigenvalue, in the observable's order, as default.qubit lists them.
        return {value: result.get(value, 0) for value in dict.fromkeys(mp.eigvals().tolist())}
    width = len(positions)
    if mp.all_outcomes and width <= MAX_DENSE_WIRES:
        histogram = outcomes.histogram(positions).astype(np.int64).tolist()
        return {format(i, f"0{width}b") if width else "": n for i, n in enumerate(histogram)}
    return outcomes.marginal(positions).to_counts()


def measurement_results(
    measurements: Sequence[MeasurementProcess],
    outcomes: Outcomes,
    wire_order: Sequence[Any],
    rng: np.random.Generator,
) -> list[Any]:
    """The result of each measurement of one tape, from one experiment's outcomes.

    Args:
        measurements: The tape's measurements (diagonal in the computational basis).
        outcomes: The experiment's outcomes over ``wire_order``.
        wire_order: The measured wires, in the order of the outcome columns.
        rng: Orders synthesised samples (used only by ``qml.sample``).

    Returns:
        One result per measurement.
    """
    from pennylane.measurements import CountsMP, ExpectationMP, ProbabilityMP, VarianceMP
    from pennylane.wires import Wires

    from_counts = (ExpectationMP, VarianceMP, ProbabilityMP, CountsMP)
    wires = Wires(list(wire_order))
    samples = None
    out = []
    for mp in measurements:
        if type(mp) in from_counts:  # exact functions of the counts: no samples needed
            out.append(measurement_result(mp, outcomes, wires))
            continue
        # qml.sample, and custom SampleMeasurements, which only promise process_samples.
        if samples is None:
            samples = outcomes.samples(rng)
        out.append(mp.process_samples(samples, wires))
    return out


def tape_result(
    tape: QuantumScript,
    counts: Sequence[Outcomes | Mapping[str, int]],
    wire_order: Sequence[Any],
    rngs: Sequence[np.random.Generator],
) -> Any:
    """Assemble a tape's result in PennyLane's shape.

    Args:
        tape: The executed tape.
        counts: One per shot-vector component (one for plain shots): parsed
            [`Outcomes`][qpi_pennylane.outcomes.Outcomes], or counts in wire order.
        wire_order: The measured wires.
        rngs: One generator per component, for synthesised samples.

    Returns:
        A single measurement's result, a tuple over measurements, and for a shot vector a
        tuple of those over the components.
    """
    per_component = []
    for component_counts, rng in zip(counts, rngs, strict=True):
        outcomes = (
            component_counts
            if isinstance(component_counts, Outcomes)
            else Outcomes.from_wire_order(component_counts, len(wire_order))
        )
        values = measurement_results(tape.measurements, outcomes, wire_order, rng)
        per_component.append(values[0] if len(values) == 1 else tuple(values))
    if tape.shots.has_partitioned_shots:
        return tuple(per_component)
    return per_component[0]
