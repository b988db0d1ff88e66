"""Turn a ``cirq.Circuit`` into the neutral `qpi.circuit.Circuit` the wire carries.

Rules, in the order they are applied:

* **Qubits** are numbered in ``sorted(circuit.all_qubits())`` order: ``q[0]`` is the smallest
  qubit (``LineQubit(0)`` before ``LineQubit(1)``, ``GridQubit(0, 1)`` before
  ``GridQubit(1, 0)``). Only qubits (dimension 2) can be carried.
* **Gates** are decomposed with ``cirq.decompose`` until every piece maps exactly onto a gate of
  OpenQASM 3's ``stdgates.inc``. ``XPowGate``/``YPowGate``/``ZPowGate`` of any (symbolic)
  exponent become ``x``/``y``/``z``/``s``/``t``/``sx``/... for the named powers and
  ``rx``/``ry``/``rz``/``p`` otherwise; a global phase is dropped (it is unobservable), but
  when such a gate is controlled its phase becomes a phase on the control, so controlled
  versions stay exact. ``CZPowGate`` becomes ``cp``, ``CXPowGate`` ``cx`` (or ``h cp h``),
  and ``SWAP``, ``CCX``, ``CCZ``, ``CSWAP`` map directly. Anything Cirq can decompose
  (``MatrixGate``, ``PhasedXPowGate``, ``FSimGate``, ``ISWAP``, controlled gates, ...) is
  decomposed; a gate with a numeric unitary on up to three qubits and no decomposition is
  decomposed through ``cirq.MatrixGate``.
* **Symbols** (``sympy``) become OpenQASM 3 ``input``s (see
  [`qpi_cirq.expressions`][qpi_cirq.expressions]);
  an expression the wire cannot carry raises [`ValidationError`][qpi.errors.ValidationError] naming
  the operation and the expression.
* **Measurements** write to one classical register. Each measurement (each *instance* of a
  key) takes the next contiguous range of clbits; the layout, the invert masks and the qubit
  order travel in ``Circuit.metadata["cirq"]`` so results can be rebuilt from the program
  text alone.
* ``cirq.ResetChannel`` becomes ``reset``. Noise channels, classically controlled operations
  and qudits raise [`ValidationError`][qpi.errors.ValidationError] naming the operation.
"""

from __future__ import annotations

import cmath
import math
from collections.abc import Mapping, Sequence
from types import MappingProxyType
from typing import Any

import cirq
import sympy

from qpi.circuit import Circuit, ParamValue, parameters_of
from qpi.errors import ValidationError
from qpi_cirq.expressions import real_number, to_expr

__all__ = ["METADATA_KEY", "PLUGIN_NAME", "dumps", "to_circuit"]

#: The name this plugin signs its translations with (``TranslatedCircuit.plugin``).
PLUGIN_NAME = "cirq"

#: Key of ``Circuit.metadata`` under which the Cirq layout travels.
METADATA_KEY = "cirq"

#: ``Z**t`` for these ``t mod 2`` is a named gate of ``stdgates.inc`` (up to global phase).
_NAMED_Z_POWERS: Mapping[float, str] = MappingProxyType(
    {0.5: "s", 1.5: "sdg", 0.25: "t", 1.75: "tdg"}
)


def to_circuit(circuit: cirq.AbstractCircuit) -> Circuit:
    """Convert a Cirq circuit to the neutral form sent on the wire.

    Args:
        circuit: The circuit; it may hold symbols (they become inputs).

    Returns:
        The neutral circuit. ``parameters`` are the sorted names of the symbols the wire
        program uses; ``metadata["cirq"]`` holds ``qubits`` (``str`` of each qubit, in index
        order), ``measurements`` (one ``{"key", "clbits", "invert"}`` entry per measurement,
        in circuit order) and ``symbols`` (the same names as ``parameters``).

    Raises:
        ValidationError: For an operation the wire cannot carry, naming it.
    """
    if not isinstance(circuit, cirq.AbstractCircuit):
        raise ValidationError(
            f"expected a cirq.Circuit or cirq.FrozenCircuit, got {type(circuit).__name__}"
        )
    qubits = sorted(circuit.all_qubits())
    for qubit in qubits:
        if qubit.dimension != 2:
            raise ValidationError(
                f"qudit {qubit} has dimension {qubit.dimension}; the wire carries qubits only"
            )
    builder = _Builder(qubits)
    for moment_index, moment in enumerate(circuit):
        for op in moment:
            builder.add(op, _Location(op, moment_index))
    return builder.finish()


class _Location:
    """Where an operation sits, for error messages, written out only when one is raised.

    ``str(op)`` is not free, and for some operations it fails outright (a symbolic
    ``PauliStringPhasor`` compares its exponent with 0), so it must never run for a circuit
    that converts fine.
    """

    __slots__ = ("moment", "op")

    def __init__(self, op: cirq.Operation, moment: int) -> None:
        self.op = op
        self.moment = moment

    def __str__(self) -> str:
        return f"operation {_describe(self.op)} (moment {self.moment})"

    def __format__(self, spec: str) -> str:
        return format(str(self), spec)


def dumps(circuit: cirq.AbstractCircuit) -> str:
    """The OpenQASM 3 program this SDK sends for ``circuit`` (symbols become ``input``s).

    Raises:
        ValidationError: For an operation the wire cannot carry, naming it.
    """
    from qpi import qasm3

    return qasm3.dumps(to_circuit(circuit))


def _angle(exponent: Any, where: str, scale: float = 1.0) -> ParamValue:
    """``pi * scale * exponent`` as a gate parameter (a float, or an expression of inputs)."""
    if not cirq.is_parameterized(exponent):
        return math.pi * scale * real_number(exponent, where)
    return to_expr(sympy.pi * scale * exponent, where)


def _numeric_mod2(exponent: Any) -> float | None:
    """``exponent mod 2`` for a numeric exponent, ``None`` for a symbolic one."""
    if cirq.is_parameterized(exponent):
        return None
    return float(exponent) % 2.0


# -- gates ----------------------------------------------------------------------------------------

_POW_GATES = (cirq.XPowGate, cirq.YPowGate, cirq.ZPowGate)
_ALWAYS_NATIVE = (
    cirq.MeasurementGate,
    cirq.ResetChannel,
    cirq.GlobalPhaseGate,
    cirq.IdentityGate,
    cirq.XPowGate,
    cirq.YPowGate,
    cirq.ZPowGate,
    cirq.CZPowGate,
    cirq.CXPowGate,
    cirq.CSwapGate,
)
#: Gates that map directly only as whole (odd integer) powers; others are decomposed.
_NATIVE_AT_ONE = (cirq.HPowGate, cirq.SwapPowGate, cirq.CCXPowGate, cirq.CCZPowGate)


def _is_native(op: cirq.Operation) -> bool:
    """Whether ``op`` maps exactly onto wire instructions without further decomposition."""
    op = op.untagged
    if isinstance(op, cirq.ControlledOperation):
        return _controlled_parts(op) is not None
    gate = op.gate
    if gate is None or any(q.dimension != 2 for q in op.qubits):
        return False
    if isinstance(gate, _ALWAYS_NATIVE):
        return True
    if isinstance(gate, _NATIVE_AT_ONE):
        return _numeric_mod2(gate.exponent) == 1.0
    return False


def _controlled_parts(
    op: cirq.ControlledOperation,
) -> tuple[tuple[cirq.Qid, ...], tuple[int, ...], cirq.Operation] | None:
    """Controls, control values and target of a controlled op this module maps itself.

    That is a single-qubit power gate (``rx``, ``Y**t``, ...) under one control, or a global
    phase under one or two controls: the pieces Cirq leaves when it pulls the global phase
    out of a controlled gate, and which it cannot decompose further when they are symbolic.
    """
    sub = op.sub_operation.untagged
    controls = tuple(op.controls)
    if any(q.dimension != 2 for q in (*controls, *sub.qubits)):
        return None
    values = list(op.control_values.expand())
    if len(values) != 1:
        return None
    (value,) = values
    if isinstance(sub.gate, _POW_GATES) and len(controls) == 1 and value[0] in (0, 1):
        return controls, tuple(value), sub
    if (
        isinstance(sub.gate, cirq.GlobalPhaseGate)
        and len(controls) in (1, 2)
        and all(v in (0, 1) for v in value)
    ):
        return controls, tuple(value), sub
    return None


def _global_phase_angle(coefficient: Any, where: str) -> ParamValue:
    """The angle ``phi`` of a global phase coefficient ``e^{i phi}``."""
    if not cirq.is_parameterized(coefficient):
        return cmath.phase(complex(coefficient))
    # Cirq writes symbolic phases as ``(1.0*I)**x`` (``from_phase_and_exponent``) or
    # ``exp(I*x)``; both have an exactly known angle.
    if isinstance(coefficient, sympy.Pow) and coefficient.base.is_number:
        base = complex(coefficient.base)
        if abs(abs(base) - 1.0) < 1e-12:
            return to_expr(cmath.phase(base) * coefficient.exp, where)
    if isinstance(coefficient, sympy.exp):
        angle = sympy.expand(coefficient.args[0] / sympy.I)
        if angle.is_real is not False:
            return to_expr(angle, where)
    raise ValidationError(
        f"{where}: the global phase {coefficient} of a controlled gate is not of the form "
        "exp(i*x); resolve its symbols before running"
    )


class _Builder:
    """Accumulates one conversion: instructions, clbit allocation and the key layout."""

    def __init__(self, qubits: Sequence[cirq.Qid]) -> None:
        self.index = {q: i for i, q in enumerate(qubits)}
        self.circuit = Circuit(num_qubits=max(1, len(qubits)))
        self.measurements: list[dict[str, Any]] = []
        self.key_sizes: dict[str, int] = {}
        self.num_clbits = 0

    # -- driving -----------------------------------------------------------------------------

    def add(self, op: cirq.Operation, where: str) -> None:
        """Decompose ``op`` and append its pieces; ``where`` names it in errors."""
        for piece in _decompose(op, where):
            self._emit(piece.untagged, where)

    def finish(self) -> Circuit:
        """The finished circuit, with its parameters and layout metadata."""
        names: set[str] = set()
        for inst in self.circuit.instructions:
            for value in inst.params:
                names |= parameters_of(value)
        symbols = sorted(names)
        qubits = sorted(self.index, key=self.index.__getitem__)
        self.circuit.num_clbits = self.num_clbits
        self.circuit.parameters = symbols
        self.circuit.metadata = {
            METADATA_KEY: {
                "qubits": [str(q) for q in qubits],
                "measurements": self.measurements,
                "symbols": symbols,
            }
        }
        self.circuit.validate()
        return self.circuit

    # -- emitting ----------------------------------------------------------------------------

    def _gate(self, name: str, qubits: Sequence[cirq.Qid], *params: ParamValue) -> None:
        self.circuit.append(name, [self.index[q] for q in qubits], params)

    def _emit(self, op: cirq.Operation, where: str) -> None:
        if isinstance(op, cirq.ControlledOperation):
            parts = _controlled_parts(op)
            if parts is None:
                raise _unsupported(op, where)
            self._emit_controlled(*parts, where)
            return
        gate = op.gate
        if isinstance(gate, cirq.MeasurementGate):
            self._emit_measurement(op, gate, where)
        elif isinstance(gate, cirq.ResetChannel):
            self._gate("reset", op.qubits)
        elif isinstance(gate, cirq.GlobalPhaseGate):
            pass  # unobservable outside a control, and controls are handled above
        elif isinstance(gate, cirq.IdentityGate):
            for qubit in op.qubits:
                self._gate("id", (qubit,))
        elif isinstance(gate, _POW_GATES):
            self._emit_pow(gate, op.qubits[0], where)
        elif isinstance(gate, cirq.CZPowGate):
            self._emit_cz_pow(gate, op.qubits, where)
        elif isinstance(gate, cirq.CXPowGate):
            self._emit_cx_pow(gate, op.qubits, where)
        elif isinstance(gate, cirq.CSwapGate):
            self._gate("cswap", op.qubits)
        elif _is_native(op):
            self._emit_whole_power(gate, op.qubits)
        else:
            raise _unsupported(op, where)

    def _emit_pow(self, gate: cirq.EigenGate, qubit: cirq.Qid, where: str) -> None:
        # The gate's global phase is dropped here: this op is not under a control.
        axis = _axis(gate)
        turns = _numeric_mod2(gate.exponent)
        if turns == 0.0:
            return
        if turns == 1.0:
            self._gate(axis, (qubit,))
        elif axis == "z" and turns in _NAMED_Z_POWERS:
            self._gate(_NAMED_Z_POWERS[turns], (qubit,))
        elif axis == "x" and turns == 0.5:
            self._gate("sx", (qubit,))
        elif axis == "z" and gate.global_shift != -0.5:
            # Z**t is diag(1, e^{i pi t}): exactly ``p``, which reads better than ``rz``.
            self._gate("p", (qubit,), _angle(gate.exponent, where))
        else:
            self._gate(f"r{axis}", (qubit,), _angle(gate.exponent, where))

    def _emit_cz_pow(self, gate: cirq.CZPowGate, qubits: Sequence[cirq.Qid], where: str) -> None:
        turns = _numeric_mod2(gate.exponent)
        if turns == 0.0:
            return
        if turns == 1.0:
            self._gate("cz", qubits)
        else:
            self._gate("cp", qubits, _angle(gate.exponent, where))

    def _emit_cx_pow(self, gate: cirq.CXPowGate, qubits: Sequence[cirq.Qid], where: str) -> None:
        turns = _numeric_mod2(gate.exponent)
        if turns == 0.0:
            return
        if turns == 1.0:
            self._gate("cx", qubits)
            return
        # CX**t is CZ**t conjugated by H on the target: exact, phases included.
        target = qubits[1]
        self._gate("h", (target,))
        self._gate("cp", qubits, _angle(gate.exponent, where))
        self._gate("h", (target,))

    def _emit_whole_power(self, gate: cirq.Gate, qubits: Sequence[cirq.Qid]) -> None:
        if isinstance(gate, cirq.HPowGate):
            self._gate("h", qubits)
        elif isinstance(gate, cirq.SwapPowGate):
            self._gate("swap", qubits)
        elif isinstance(gate, cirq.CCXPowGate):
            self._gate("ccx", qubits)
        else:  # CCZ: H on the target turns it into a Toffoli
            self._gate("h", qubits[2:])
            self._gate("ccx", qubits)
            self._gate("h", qubits[2:])

    def _emit_controlled(
        self,
        controls: tuple[cirq.Qid, ...],
        values: tuple[int, ...],
        sub: cirq.Operation,
        where: str,
    ) -> None:
        flipped = [c for c, v in zip(controls, values, strict=True) if v == 0]
        for control in flipped:
            self._gate("x", (control,))
        if isinstance(sub.gate, cirq.GlobalPhaseGate):
            phase = _global_phase_angle(sub.gate.coefficient, where)
            self._gate("p" if len(controls) == 1 else "cp", controls, phase)
        else:
            self._emit_controlled_pow(sub.gate, controls[0], sub.qubits[0], where)
        for control in flipped:
            self._gate("x", (control,))

    def _emit_controlled_pow(
        self, gate: cirq.EigenGate, control: cirq.Qid, target: cirq.Qid, where: str
    ) -> None:
        axis = _axis(gate)
        if gate.global_shift == -0.5:  # rx/ry/rz: the controlled rotation is a stdgates gate
            self._gate(f"cr{axis}", (control, target), _angle(gate.exponent, where))
            return
        # Axis**t with shift s is e^{i pi t s} * Axis**t; under a control the phase e^{i pi t s}
        # lands on the control qubit, and Axis**t is CZ**t in the axis' basis.
        basis = {"x": (("h",), ("h",)), "y": (("sdg", "h"), ("h", "s")), "z": ((), ())}[axis]
        for name in basis[0]:
            self._gate(name, (target,))
        if gate.global_shift != 0:
            self._gate("p", (control,), _angle(gate.exponent, where, gate.global_shift))
        self._gate("cp", (control, target), _angle(gate.exponent, where))
        for name in basis[1]:
            self._gate(name, (target,))

    def _emit_measurement(self, op: cirq.Operation, gate: cirq.MeasurementGate, where: str) -> None:
        if gate.confusion_map:
            raise ValidationError(
                f"{where}: a measurement with a confusion map models readout noise, which "
                "the wire cannot carry; remove the confusion_map"
            )
        key = cirq.measurement_key_name(op)
        size = len(op.qubits)
        if self.key_sizes.setdefault(key, size) != size:
            raise ValidationError(
                f"{where}: key {key!r} is measured on {size} qubit(s) here but on "
                f"{self.key_sizes[key]} before; every measurement of a key needs the same "
                "number of qubits"
            )
        invert = list(gate.full_invert_mask())
        clbits = list(range(self.num_clbits, self.num_clbits + size))
        for qubit, clbit in zip(op.qubits, clbits, strict=True):
            self.circuit.measure(self.index[qubit], clbit)
        self.num_clbits += size
        self.measurements.append(
            {"key": key, "clbits": clbits, "invert": [int(bit) for bit in invert]}
        )


def _axis(gate: cirq.Gate) -> str:
    """``"x"``, ``"y"`` or ``"z"`` for an ``XPowGate``, ``YPowGate`` or ``ZPowGate``."""
    for cls, axis in zip(_POW_GATES, "xyz", strict=True):
        if isinstance(gate, cls):
            return axis
    raise AssertionError(f"not a power gate: {gate!r}")


# -- decomposition --------------------------------------------------------------------------------

#: Widest gate decomposed through its unitary (``cirq.MatrixGate`` handles up to three).
_MAX_MATRIX_QUBITS = 3


def _decompose(op: cirq.Operation, where: str) -> list[cirq.Operation]:
    """``op`` as native pieces; stuck pieces with a numeric unitary go through MatrixGate."""
    if isinstance(op.untagged, cirq.ClassicallyControlledOperation):
        raise ValidationError(
            f"{where}: classically controlled operations cannot be carried; the QPU driver "
            "runs no classical control flow (defer the measurement with "
            "cirq.defer_measurements, or split the circuit)"
        )
    try:
        pieces = cirq.decompose(op, keep=_is_native, on_stuck_raise=None)
    except (ValueError, TypeError) as exc:
        raise ValidationError(f"{where}: Cirq could not decompose it: {exc}") from exc
    if not _decomposition_is_exact(op, pieces):
        # Cirq's own decomposition is wrong here (ThreeQubitDiagonalGate on some qubit
        # orders, Cirq 1.7): send the unitary itself, which MatrixGate decomposes exactly.
        pieces = [cirq.MatrixGate(cirq.unitary(op)).on(*op.qubits)]
    out: list[cirq.Operation] = []
    for piece in pieces:
        if _is_native(piece):
            out.append(piece)
            continue
        matrix = _matrix_gate(piece)
        if matrix is None:
            raise _unsupported(piece, where)
        try:
            parts = cirq.decompose(matrix, keep=_is_native, on_stuck_raise=None)
        except (ValueError, TypeError) as exc:  # pragma: no cover - MatrixGate always decomposes
            raise ValidationError(f"{where}: Cirq could not decompose it: {exc}") from exc
        for part in parts:
            if not _is_native(part):  # pragma: no cover - same reason
                raise _unsupported(part, where)
        out.extend(parts)
    return out


def _decomposition_is_exact(op: cirq.Operation, pieces: Sequence[cirq.Operation]) -> bool:
    """Whether ``pieces`` implement ``op``'s unitary (up to global phase).

    Checked for numeric gates on up to three qubits that Cirq had to decompose, where the
    unitaries are at most 8x8; wider or symbolic operations, and decompositions that use
    other qubits, are trusted as they are.
    """
    if (
        _is_native(op)
        or len(pieces) == 1
        and pieces[0] is op
        or not 1 <= len(op.qubits) <= _MAX_MATRIX_QUBITS
        or cirq.is_parameterized(op)
        or cirq.is_measurement(op)
        or any(q.dimension != 2 for q in op.qubits)
        or not cirq.has_unitary(op)
    ):
        return True
    used = {q for piece in pieces for q in piece.qubits}
    if not used <= set(op.qubits) or any(not cirq.has_unitary(piece) for piece in pieces):
        return True
    built = cirq.Circuit(pieces).unitary(qubit_order=op.qubits)
    return cirq.allclose_up_to_global_phase(built, cirq.unitary(op), atol=1e-8)


def _matrix_gate(op: cirq.Operation) -> cirq.Operation | None:
    """``op`` as a ``cirq.MatrixGate``, if it is a small numeric unitary."""
    if (
        cirq.is_parameterized(op)
        or not 1 <= len(op.qubits) <= _MAX_MATRIX_QUBITS
        or any(q.dimension != 2 for q in op.qubits)
        or cirq.is_measurement(op)
        or not cirq.has_unitary(op)
    ):
        return None
    return cirq.MatrixGate(cirq.unitary(op)).on(*op.qubits)


def _describe(op: cirq.Operation) -> str:
    """A short name for ``op`` in messages: ``str(op)`` unless that is a long repr or matrix."""
    if isinstance(op.gate, cirq.MeasurementGate):  # str() of a measurement is a long repr
        key = cirq.measurement_key_name(op)
        return f"measure({', '.join(map(str, op.qubits))}, key={key!r})"
    try:
        text = str(op)
    except (TypeError, ValueError):  # str() of some symbolic operations compares symbols
        text = ""
    if text and len(text) <= 120 and "\n" not in text:
        return text
    kind = type(op.gate).__name__ if op.gate is not None else type(op).__name__
    return f"{kind} on {', '.join(map(str, op.qubits))}"


def _unsupported(piece: cirq.Operation, where: str) -> ValidationError:
    """The error for a piece nothing maps, saying why in Cirq's own terms."""
    name = _describe(piece)
    part = "" if str(where).startswith(f"operation {name} ") else f": its part {name}"
    if isinstance(piece.untagged, cirq.ClassicallyControlledOperation):
        reason = "classically controlled operations cannot be carried"
    elif cirq.is_measurement(piece):
        reason = "only computational-basis measurements (cirq.measure) can be carried"
    elif not cirq.has_unitary(piece) and not cirq.is_parameterized(piece):
        reason = (
            "it is not unitary (a noise channel?); the wire carries gates, measure and reset "
            "only, so run noisy circuits on a local simulator"
        )
    elif cirq.is_parameterized(piece):
        reason = (
            "Cirq cannot decompose it symbolically into OpenQASM 3 gates; resolve its "
            "symbols (cirq.resolve_parameters) before running"
        )
    else:
        reason = (
            "it has no decomposition into OpenQASM 3 stdgates.inc gates; give the gate a "
            f"_decompose_ method, or a _unitary_ if it acts on at most {_MAX_MATRIX_QUBITS} "
            "qubits"
        )
    return ValidationError(f"{where}{part}: {reason}")
