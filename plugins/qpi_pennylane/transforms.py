"""The device's preprocessing: PennyLane's own transforms, plus the few a QPU needs.

[`compile_pipeline`][qpi_pennylane.transforms.compile_pipeline] assembles, in order:

1. [`validate_qpu_measurements`][qpi_pennylane.transforms.validate_qpu_measurements] (only
   measurements computed from samples), then
   [`require_shots`][qpi_pennylane.transforms.require_shots]: a QPU samples, so an analytic
   execution is refused with a message
   that says how to set shots;
2. ``defer_measurements``: mid-circuit measurements and ``qml.cond`` become controlled gates
   (a no-op for tapes without them);
3. ``decompose`` into the gates the wire carries
   ([`qpi_pennylane.translate.GATE_MAP`][qpi_pennylane.translate.GATE_MAP]),
   with [`decompose_or_unitary`][qpi_pennylane.transforms.decompose_or_unitary] for operations that
   only define a matrix;
4. ``validate_device_wires``, and for a device without wires
   [`measure_tape_wires`][qpi_pennylane.transforms.measure_tape_wires];
5. [`split_measurements`][qpi_pennylane.grouping.split_measurements]: PennyLane's
   ``split_non_commuting``
   makes one tape per group of qubit-wise commuting observables, expectation values of
   Hamiltonians split into their terms; ``var``, ``sample`` and ``counts`` of a sum, which
   PennyLane cannot split, keep the sum whole;
6. ``validate_observables``, then
   [`diagonalize_pauli_words`][qpi_pennylane.transforms.diagonalize_pauli_words] for Pauli words and
   [`diagonalize_remaining`][qpi_pennylane.transforms.diagonalize_remaining] for the rest
   (``Hermitian``, ``Projector``, sums): their
   diagonalizing gates are appended and the measurement keeps their eigenvalues, in the
   order of the computational basis;
7. ``decompose`` again (for those diagonalizing gates), and ``broadcast_expand``, which turns
   a broadcast tape into one tape per value. Those tapes differ in values only, so the batch
   sends them as one parametric circuit with one row each.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import pennylane as qml
from pennylane.devices.preprocess import (
    decompose,
    validate_device_wires,
    validate_observables,
)
from pennylane.exceptions import DecompositionUndefinedError, DeviceError
from pennylane.measurements import CountsMP, SampleMeasurement
from pennylane.transforms import broadcast_expand, defer_measurements, diagonalize_measurements
from pennylane.transforms.core import CompilePipeline, transform

from qpi_pennylane.grouping import split_measurements
from qpi_pennylane.translate import supported_operation_names

if TYPE_CHECKING:
    from pennylane.tape import QuantumScript, QuantumScriptBatch
    from pennylane.typing import PostprocessingFn
    from pennylane.wires import Wires

__all__ = [
    "accepts_observable",
    "compile_pipeline",
    "decompose_or_unitary",
    "diagonalize_pauli_words",
    "diagonalize_remaining",
    "measure_tape_wires",
    "require_shots",
    "validate_qpu_measurements",
]


def _identity(results: Any) -> Any:
    return results[0]


@transform
def require_shots(
    tape: QuantumScript, name: str = "qpi.remote"
) -> tuple[QuantumScriptBatch, PostprocessingFn]:
    """Refuse an analytic execution: a QPU returns samples, so the tape needs shots.

    A tape that measures nothing asks for no samples and passes (PennyLane's device tests
    probe the decomposition of an operation that way).

    Raises:
        DeviceError: If the tape measures something but has no shots, with a message saying
            how to set them.
    """
    if not tape.shots and tape.measurements:
        raise DeviceError(
            f"{name} samples on a QPU, so it needs a finite number of shots; set them with "
            "qml.set_shots(qnode, shots=1000), QNode(..., shots=1000), or "
            f"qml.device('{name}', wires=..., shots=1000)"
        )
    return (tape,), _identity


@transform
def validate_qpu_measurements(
    tape: QuantumScript, name: str = "qpi.remote"
) -> tuple[QuantumScriptBatch, PostprocessingFn]:
    """Accept only the measurements computed from samples (``SampleMeasurement``).

    That is ``expval``, ``var``, ``probs``, ``sample``, ``counts``, and custom subclasses of
    ``SampleMeasurement``, which get synthesised samples.

    Raises:
        DeviceError: For ``state``, ``density_matrix``, entropies, shadows and the like, with
            the wording PennyLane's device test suite expects ("not accepted with finite
            shots", "supported").
    """
    for mp in tape.measurements:
        if not isinstance(mp, SampleMeasurement):
            raise DeviceError(
                f"Measurement {mp} is not supported on {name} (not accepted with finite "
                "shots, nor without): a QPU returns samples, so only expval, var, probs, "
                "sample and counts are available; state snapshots (qml.Snapshot, "
                "qml.snapshots) need a simulator such as default.qubit"
            )
    return (tape,), _identity


def accepts_observable(obs: Any) -> bool:
    """Whether an observable can be measured by rotating into the computational basis."""
    if obs.pauli_rep is not None:
        return True
    return bool(obs.has_diagonalizing_gates)


@transform
def measure_tape_wires(tape: QuantumScript) -> tuple[QuantumScriptBatch, PostprocessingFn]:
    """Give a measurement of "all wires" (``qml.counts()``, ``qml.probs()``) the tape's wires.

    Only for a device built without wires: each tape then measures its own wires, in the
    order the tape uses them, as ``default.qubit`` does (a device with wires measures all of
    them, which ``validate_device_wires`` fills in).
    """
    if not any(_measures_all(mp) for mp in tape.measurements):
        return (tape,), _identity
    wires = tape.wires
    measurements = [
        type(mp)(wires=wires, **_keywords(mp)) if _measures_all(mp) else mp
        for mp in tape.measurements
    ]
    return (tape.copy(measurements=measurements),), _identity


def _measures_all(mp: Any) -> bool:
    return mp.obs is None and mp.mv is None and not len(mp.wires)


def _keywords(mp: Any) -> dict[str, Any]:
    return {"all_outcomes": mp.all_outcomes} if isinstance(mp, CountsMP) else {}


@transform
def diagonalize_pauli_words(tape: QuantumScript) -> tuple[QuantumScriptBatch, PostprocessingFn]:
    """PennyLane's ``diagonalize_measurements`` into Z words, keeping ``all_outcomes``.

    PennyLane rebuilds a rotated ``counts`` without its ``all_outcomes=True``, so the
    eigenvalues never seen would be missing from the result; it is put back here.
    """
    (rotated,), postprocess = diagonalize_measurements(tape, supported_base_obs=[qml.Z])
    measurements = [
        CountsMP(obs=new.obs, all_outcomes=True)
        if isinstance(old, CountsMP) and old.all_outcomes and not new.all_outcomes
        else new
        for old, new in zip(tape.measurements, rotated.measurements, strict=True)
    ]
    return (rotated.copy(measurements=measurements),), postprocess


@transform
def diagonalize_remaining(tape: QuantumScript) -> tuple[QuantumScriptBatch, PostprocessingFn]:
    """Turn every observable left after ``diagonalize_measurements`` into eigenvalues.

    An observable that is not diagonal (``Hermitian``, a ``Projector`` onto a superposition)
    gets its diagonalizing gates appended; a sum of Z words is diagonal already. Either way
    the measurement becomes one on the observable's wires with its eigenvalues in the order
    of the computational basis, which is what ``process_counts``/``process_samples`` read.
    (``Sum.eigvals()`` may come sorted instead, so sums get theirs from their Pauli words.)
    Observables that need gates sit on disjoint wires by now, so the rotations do not meet.
    """
    rotations: list[Any] = []
    measurements = []
    for mp in tape.measurements:
        obs = mp.obs
        eigvals = None if obs is None else _basis_eigvals(obs)
        if eigvals is None:
            measurements.append(mp)
            continue
        if obs.pauli_rep is None:
            rotations.extend(obs.diagonalizing_gates())
        if isinstance(mp, CountsMP):
            measurements.append(
                CountsMP(eigvals=eigvals, wires=obs.wires, all_outcomes=mp.all_outcomes)
            )
        else:
            measurements.append(type(mp)(eigvals=eigvals, wires=obs.wires))
    if len(measurements) == len(tape.measurements) and all(
        a is b for a, b in zip(measurements, tape.measurements, strict=True)
    ):
        return (tape,), _identity
    new_tape = tape.copy(operations=[*tape.operations, *rotations], measurements=measurements)
    return (new_tape,), _identity


def _basis_eigvals(obs: Any) -> Any:
    """Eigenvalues in basis order for an observable to replace, ``None`` to keep it as is."""
    pauli = obs.pauli_rep
    if pauli is None:
        return obs.eigvals() if obs.diagonalizing_gates() else None
    if len(pauli) <= 1:
        return None  # a Z word (times a number): PennyLane's own eigvals are in basis order
    return _z_sum_diagonal(pauli, list(obs.wires))


def _z_sum_diagonal(pauli: Any, wires: list[Any]) -> Any:
    """The diagonal of a sum of Z words over ``wires`` (the first wire is the leading bit)."""
    import numpy as np

    size = len(wires)
    outcomes = np.arange(2**size)
    diagonal = np.zeros(2**size)
    for word, coeff in pauli.items():
        sign = np.ones(2**size)
        for wire in word:
            bit = (outcomes >> (size - 1 - wires.index(wire))) & 1
            sign = sign * (1 - 2 * bit)
        diagonal = diagonal + np.real(coeff) * sign
    return diagonal


def decompose_or_unitary(op: Any) -> list[Any]:
    """An operation's decomposition, or its matrix as a ``QubitUnitary`` when it has none.

    Operators such as ``BlockEncode`` or ``DoubleExcitationPlus`` define a matrix but no
    decomposition; PennyLane decomposes a ``QubitUnitary`` of any size into the gate set.

    Raises:
        DecompositionUndefinedError: If the operator has neither.
    """
    if op.has_decomposition:
        return op.decomposition()
    if op.has_matrix and len(op.wires):
        return [qml.QubitUnitary(op.matrix(), wires=op.wires)]
    raise DecompositionUndefinedError(f"Operator {op} not supported and has no decomposition")


def compile_pipeline(
    wires: Wires | None, *, mcm_method: str | None = "deferred", name: str = "qpi.remote"
) -> CompilePipeline:
    """The device's preprocessing pipeline (see the module docstring for the order).

    Args:
        wires: The device's wires (``None`` accepts any).
        mcm_method: How mid-circuit measurements are handled; only ``"deferred"`` is
            available on a QPU that returns counts.
        name: The device name used in error messages.
    """
    gate_names = supported_operation_names()

    def stop(op: Any) -> bool:
        return op.name in gate_names

    pipeline = CompilePipeline()
    # What a QPU cannot measure is refused before shots are asked for: "not supported" is
    # the answer whether or not the tape has shots.
    pipeline.add_transform(validate_qpu_measurements, name=name)
    pipeline.add_transform(require_shots, name=name)
    if mcm_method == "deferred":
        # A QPU measures at the end only; postselection would need a Projector gate.
        pipeline.add_transform(defer_measurements, allow_postselect=False)
    decompose_kwargs = {
        "stopping_condition": stop,
        "decomposer": decompose_or_unitary,
        "skip_initial_state_prep": False,
        "target_gates": set(gate_names),
        "device_wires": wires,
        "name": name,
    }
    pipeline.add_transform(decompose, **decompose_kwargs)
    pipeline.add_transform(validate_device_wires, wires, name=name)
    if wires is None:
        pipeline.add_transform(measure_tape_wires)
    pipeline.add_transform(split_measurements)
    pipeline.add_transform(validate_observables, stopping_condition=accepts_observable, name=name)
    pipeline.add_transform(diagonalize_pauli_words)
    pipeline.add_transform(diagonalize_remaining)
    pipeline.add_transform(decompose, **decompose_kwargs)
    pipeline.add_transform(broadcast_expand)
    return pipeline
