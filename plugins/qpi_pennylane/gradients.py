"""Parameter-shift gradients computed by the device, so a gradient costs ONE job.

PennyLane's own parameter-shift transform builds the shifted tapes; the device runs them in
the same job as the tapes they differentiate (``execute_and_compute_derivatives``) or in a job
of their own (``compute_derivatives``). A shifted tape differs from its tape in values only,
so each costs one row of the tape's parametric circuit.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from pennylane.tape import QuantumScript

__all__ = ["DerivativePlan", "differentiable"]

#: Measurements the device's parameter-shift differentiates (``var``: see
#: [`differentiable`][qpi_pennylane.gradients.differentiable]).
_DIFFERENTIABLE = ("ExpectationMP", "ProbabilityMP")


def differentiable(tape: QuantumScript | None) -> bool:
    """Whether the device can differentiate ``tape`` itself.

    True for ``expval`` and ``probs``, and for ``var`` of a Pauli word. The variance rule
    needs the observable itself, while the device's preprocessing keeps only the eigenvalues
    of any other observable (``Hermitian``, sums), so such tapes are left to PennyLane's
    transform, which runs before that preprocessing.
    """
    if tape is None:
        return True
    return all(_differentiable(mp) for mp in tape.measurements)


def _eigvals_variance(mp: Any) -> bool:
    # A variance the preprocessing rotated into the Z basis, keeping only eigenvalues.
    return type(mp).__name__ == "VarianceMP" and mp.obs is None and mp.mv is None


def _differentiable(mp: Any) -> bool:
    name = type(mp).__name__
    if name == "VarianceMP":  # a single Pauli word (times a number) keeps its observable
        pauli = getattr(mp.obs, "pauli_rep", None)
        return pauli is not None and len(pauli) == 1
    return name in _DIFFERENTIABLE


@dataclass
class _Part:
    start: int
    stop: int
    postprocess: Callable[[Sequence[Any]], Any] | None


class DerivativePlan:
    """The shifted tapes of a batch, and how their results become jacobians.

    Args:
        tapes: The preprocessed tapes to differentiate (their ``trainable_params`` say
            which parameters).
        gradient_kwargs: Keyword arguments for ``qml.gradients.param_shift`` (the QNode's
            ``gradient_kwargs``, e.g. ``shifts`` or ``broadcast``).

    Raises:
        DeviceError: If a tape asks for the gradient of a variance the device cannot
            differentiate (see [`differentiable`][qpi_pennylane.gradients.differentiable]).
    """

    def __init__(
        self, tapes: Sequence[QuantumScript], gradient_kwargs: Mapping[str, Any] | None = None
    ) -> None:
        import pennylane as qml
        from pennylane.exceptions import DeviceError

        kwargs = {k: v for k, v in (gradient_kwargs or {}).items() if k in _SHIFT_OPTIONS}
        self.tapes: list[QuantumScript] = []
        self._parts: list[_Part] = []
        for tape in tapes:
            if tape.trainable_params and any(_eigvals_variance(mp) for mp in tape.measurements):
                raise DeviceError(
                    "qpi.remote cannot differentiate the variance of an observable that is not "
                    "a Pauli word in a batch whose first circuit it can differentiate; execute "
                    "that circuit on its own, so that PennyLane's parameter-shift transform "
                    "handles it"
                )
            if not tape.trainable_params:
                self._parts.append(_Part(len(self.tapes), len(self.tapes), None))
                continue
            shifted, shift_fn = qml.gradients.param_shift(tape, **kwargs)
            # With broadcast=True the shifts come as one broadcast tape; the QPU runs rows.
            expanded, expand_fn = qml.transforms.broadcast_expand(shifted)
            start = len(self.tapes)
            self.tapes.extend(expanded)
            self._parts.append(_Part(start, len(self.tapes), _compose(shift_fn, expand_fn)))

    def jacobians(self, results: Sequence[Any]) -> tuple[Any, ...]:
        """Per tape, its jacobian from the results of `tapes` (``()`` if no parameter)."""
        out = []
        for part in self._parts:
            if part.postprocess is None:
                out.append(())
            else:
                out.append(part.postprocess(results[part.start : part.stop]))
        return tuple(out)


# The QNode's gradient_kwargs that parameter-shift takes; PennyLane may add others of its own.
_SHIFT_OPTIONS = frozenset({"argnum", "shifts", "gradient_recipes", "fallback_fn", "broadcast"})


def _compose(
    shift_fn: Callable[[Sequence[Any]], Any], expand_fn: Callable[[Sequence[Any]], Any]
) -> Callable[[Sequence[Any]], Any]:
    def postprocess(results: Sequence[Any]) -> Any:
        return shift_fn(expand_fn(results))

    return postprocess
