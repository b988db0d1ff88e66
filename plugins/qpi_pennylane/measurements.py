"""Counts from a QPU turned into PennyLane measurement results, in PennyLane's shapes.

A QPU returns counts only (``{bitstring: count}``, clbit 0 rightmost). ``expval``, ``var``,
``probs`` and ``counts`` are exact functions of the counts, computed by each measurement's own
``process_counts``. ``sample`` needs one outcome per shot in shot order, which the QPU does not
return: the samples are rebuilt from the counts and put in a random order drawn from a seeded
generator. The order is therefore synthesised (every statistic of the samples is the QPU's),
and it is the same every time the same result is processed, so a result replayed from the
cache gives the very same samples.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

import numpy as np

if TYPE_CHECKING:
    from pennylane.measurements import MeasurementProcess
    from pennylane.tape import QuantumScript

__all__ = [
    "counts_in_wire_order",
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
    return {key[::-1]: int(n) for key, n in sorted(counts.items(), key=lambda kv: kv[0][::-1]) if n}


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
    keys = sorted(counts)
    if not keys:
        return np.zeros((0, num_wires), dtype=np.int64)
    bits = np.array([[ch == "1" for ch in key] for key in keys], dtype=np.int64)
    bits = bits.reshape(len(keys), num_wires)
    samples = np.repeat(bits, [counts[key] for key in keys], axis=0)
    rng.shuffle(samples, axis=0)
    return samples


def measurement_results(
    measurements: Sequence[MeasurementProcess],
    counts: Mapping[str, int],
    wire_order: Sequence[Any],
    rng: np.random.Generator,
) -> list[Any]:
    """The result of each measurement of one tape, from one experiment's counts.

    Args:
        measurements: The tape's measurements (diagonal in the computational basis).
        counts: Counts in wire order over ``wire_order``.
        wire_order: The measured wires, first wire leftmost in the keys.
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
            out.append(mp.process_counts(dict(counts), wires))
            continue
        # qml.sample, and custom SampleMeasurements, which only promise process_samples.
        if samples is None:
            samples = samples_from_counts(counts, len(wires), rng)
        out.append(mp.process_samples(samples, wires))
    return out


def tape_result(
    tape: QuantumScript,
    counts: Sequence[Mapping[str, int]],
    wire_order: Sequence[Any],
    rngs: Sequence[np.random.Generator],
) -> Any:
    """Assemble a tape's result in PennyLane's shape.

    Args:
        tape: The executed tape.
        counts: Counts in wire order, one per shot-vector component (one for plain shots).
        wire_order: The measured wires.
        rngs: One generator per component, for synthesised samples.

    Returns:
        A single measurement's result, a tuple over measurements, and for a shot vector a
        tuple of those over the components.
    """
    per_component = []
    for component_counts, rng in zip(counts, rngs, strict=True):
        values = measurement_results(tape.measurements, component_counts, wire_order, rng)
        per_component.append(values[0] if len(values) == 1 else tuple(values))
    if tape.shots.has_partitioned_shots:
        return tuple(per_component)
    return per_component[0]
