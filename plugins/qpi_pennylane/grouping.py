"""Which measurements of a tape one run on a QPU can serve, and splitting the rest.

A QPU run measures every qubit in one basis, so a tape's measurements can share one run when
their observables commute qubit-wise (on every wire, at most one of X, Y, Z is asked for)
and any other observable (``Hermitian``, ``Projector``) is alone on its wires.
[`split_measurements`][qpi_pennylane.grouping.split_measurements] hands tapes to PennyLane's
``split_non_commuting``, which groups
measurements that way and splits expectation values of sums into their terms. PennyLane
cannot split a sum inside ``var``, ``sample`` or ``counts`` (the sum is measured as one), so
a tape with one stays whole when one run serves it, and otherwise each such measurement gets
a tape of its own; its terms must commute qubit-wise.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any

from pennylane.exceptions import DeviceError
from pennylane.measurements import ExpectationMP
from pennylane.transforms import split_non_commuting
from pennylane.transforms.core import transform

if TYPE_CHECKING:
    from pennylane.tape import QuantumScript, QuantumScriptBatch
    from pennylane.typing import PostprocessingFn

__all__ = ["measurable_together", "split_measurements"]


def measurable_together(measurements: Sequence[Any]) -> bool:
    """Whether one run in one measurement basis serves every measurement.

    Measurements of wires (``probs``, ``sample``, ``counts`` without an observable) and of
    mid-circuit measurement values read those wires in the Z basis.
    """
    letters: dict[Any, str] = {}
    claimed: set[Any] = set()  # wires of non-Pauli observables, which need them alone
    for mp in measurements:
        obs = mp.obs
        if obs is None:
            if not len(mp.wires):
                return False  # "every wire": leave it to PennyLane's grouping
            words = [dict.fromkeys(mp.wires, "Z")]
        elif obs.pauli_rep is not None:
            words = [dict(word) for word in obs.pauli_rep]
        else:
            wires = set(obs.wires)
            if wires & claimed or wires & letters.keys():
                return False
            claimed |= wires
            continue
        for word in words:
            for wire, letter in word.items():
                if wire in claimed or letters.setdefault(wire, letter) != letter:
                    return False
    return True


def _is_whole_sum(mp: Any) -> bool:
    """A sum that must be measured as one: not an expectation value, more than one term."""
    obs = mp.obs
    if obs is None or isinstance(mp, ExpectationMP) or obs.pauli_rep is None:
        return False
    return len(obs.pauli_rep) > 1


def _is_expval_sum(mp: Any) -> bool:
    pauli = getattr(mp.obs, "pauli_rep", None)
    return isinstance(mp, ExpectationMP) and pauli is not None and len(pauli) > 1


@transform
def split_measurements(tape: QuantumScript) -> tuple[QuantumScriptBatch, PostprocessingFn]:
    """One tape per group of measurements a single run can serve (see the module docstring).

    Raises:
        DeviceError: For ``var``, ``sample`` or ``counts`` of a sum whose terms do not
            commute qubit-wise: no single measurement basis estimates it.
    """
    measurements = list(tape.measurements)
    whole = [i for i, mp in enumerate(measurements) if _is_whole_sum(mp)]
    if not whole:
        return split_non_commuting(tape)
    for i in whole:
        if not measurable_together([measurements[i]]):
            raise DeviceError(
                f"{measurements[i]} is not supported on qpi.remote: the terms of the sum do not "
                "commute qubit-wise, so no single measurement basis gives its samples; measure "
                "its expval, or its terms separately"
            )
    # Expectations of sums are left to PennyLane, which splits them into terms.
    if measurable_together(measurements) and not any(map(_is_expval_sum, measurements)):
        return (tape,), _first
    rest = [i for i in range(len(measurements)) if i not in whole]
    groups: list[tuple[list[int], Sequence[QuantumScript], Callable[[Any], Any]]] = [
        ([i], [tape.copy(measurements=[measurements[i]])], _first) for i in whole
    ]
    if rest:
        sub = tape.copy(measurements=[measurements[i] for i in rest])
        sub_tapes, sub_fn = split_non_commuting(sub)
        groups.append((rest, sub_tapes, sub_fn))
    tapes = [t for _, group_tapes, _ in groups for t in group_tapes]
    return tapes, _Reassemble(groups, len(measurements), tape.shots.has_partitioned_shots)


def _first(results: Any) -> Any:
    return results[0]


class _Reassemble:
    """Put the results of the groups back in the order of the tape's measurements."""

    def __init__(
        self,
        groups: Sequence[tuple[list[int], Sequence[QuantumScript], Callable[[Any], Any]]],
        count: int,
        partitioned: bool,
    ) -> None:
        self._groups = [(indices, len(tapes), fn) for indices, tapes, fn in groups]
        self._count = count
        self._partitioned = partitioned

    def __call__(self, results: Sequence[Any]) -> Any:
        per_group = []
        start = 0
        for indices, size, fn in self._groups:
            per_group.append((indices, fn(results[start : start + size])))
            start += size
        if not self._partitioned:
            return self._ordered(per_group)
        components = len(per_group[0][1])
        return tuple(
            self._ordered([(indices, value[k]) for indices, value in per_group])
            for k in range(components)
        )

    def _ordered(self, per_group: Sequence[tuple[list[int], Any]]) -> Any:
        out: list[Any] = [None] * self._count
        for indices, value in per_group:
            if len(indices) == 1:
                out[indices[0]] = value
            else:
                for position, index in enumerate(indices):
                    out[index] = value[position]
        return out[0] if self._count == 1 else tuple(out)
