"""PennyLane tapes to neutral circuit templates plus one row of parameter values.

Every numeric gate parameter of a tape becomes a named input of the template
(``t0, t1, ...`` in order of appearance), and its value goes into the tape's row. Two tapes
that differ only in parameter values therefore get equal templates, which is what lets
[`qpi_pennylane.batch`][qpi_pennylane.batch] send them as ONE parametric circuit with one row each.

The tapes given here have been through the device's preprocessing: every operation is one of
[`GATE_MAP`][qpi_pennylane.translate.GATE_MAP] (or [`DROPPED`][qpi_pennylane.translate.DROPPED]),
and every measurement is diagonal in the computational
basis, so the template measures the measured wires and nothing else.
"""

from __future__ import annotations

from collections.abc import Hashable, Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from qpi.circuit import Circuit, Expr, Instruction, Param
from qpi.errors import ValidationError

if TYPE_CHECKING:
    from pennylane.tape import QuantumScript
    from pennylane.wires import Wires

__all__ = [
    "DROPPED",
    "GATE_MAP",
    "TapeCircuit",
    "TapeTranslator",
    "supported_operation_names",
    "translate_tape",
]

#: PennyLane operation name -> OpenQASM 3 ``stdgates.inc`` gate (or the built-in ``U``).
GATE_MAP: dict[str, str] = {
    "Identity": "id",
    "PauliX": "x",
    "PauliY": "y",
    "PauliZ": "z",
    "Hadamard": "h",
    "S": "s",
    "Adjoint(S)": "sdg",
    "T": "t",
    "Adjoint(T)": "tdg",
    "SX": "sx",
    "RX": "rx",
    "RY": "ry",
    "RZ": "rz",
    "PhaseShift": "p",
    "U1": "p",
    "U2": "u2",
    "U3": "U",
    "Rot": "U",
    "CNOT": "cx",
    "CY": "cy",
    "CZ": "cz",
    "CH": "ch",
    "SWAP": "swap",
    "CRX": "crx",
    "CRY": "cry",
    "CRZ": "crz",
    "ControlledPhaseShift": "cp",
    "Toffoli": "ccx",
    "CSWAP": "cswap",
    "Barrier": "barrier",
}

#: Operations with no observable effect on samples; they are left out of the circuit.
DROPPED: frozenset[str] = frozenset({"GlobalPhase", "Snapshot"})

# Rot(phi, theta, omega) = RZ(omega) RY(theta) RZ(phi) = U(theta, omega, phi) up to a global
# phase, which no measurement can see; every other gate keeps its parameter order.
_PARAM_ORDER: dict[str, tuple[int, ...]] = {"Rot": (1, 2, 0)}


def supported_operation_names() -> frozenset[str]:
    """Names of the PennyLane operations the device sends as they are (no decomposition)."""
    return frozenset(GATE_MAP) | DROPPED


@dataclass(frozen=True)
class TapeCircuit:
    """One tape as a parametric circuit template plus its row of values.

    Attributes:
        template: The neutral circuit; its inputs are ``t0 .. tN`` in order of appearance.
        values: The tape's value for each input, in the same order.
        measured_wires: The wire labels measured into clbits ``0 .. k-1``, in that order.
        key: A hashable structure key: equal keys mean equal templates.
    """

    template: Circuit
    values: tuple[float, ...]
    measured_wires: tuple[Any, ...]
    key: Hashable


def translate_tape(tape: QuantumScript, device_wires: Wires | None = None) -> TapeCircuit:
    """Turn a preprocessed tape into a parametric template and its row of values.

    Args:
        tape: A tape whose operations are all in [`GATE_MAP`][qpi_pennylane.translate.GATE_MAP] or
            [`DROPPED`][qpi_pennylane.translate.DROPPED] and
            whose measurements are diagonal in the computational basis.
        device_wires: The device's wires; wire ``device_wires[i]`` is qubit ``q[i]``. With
            ``None``, the tape's own wires in tape order.

    Returns:
        The template, its values and the measured wires.

    Raises:
        ValidationError: If the tape holds an operation the wire cannot carry (the device's
            preprocessing decomposes every other operation first).
    """
    return TapeTranslator(device_wires).translate(tape)


class TapeTranslator:
    """Translates the tapes of one batch, reusing the work shared between them.

    Parameter-shift and broadcast tapes share most of their operation objects (PennyLane
    copies only the operations whose values change), so an operation seen before is not
    translated again. Keep one translator per batch: it holds on to what it has seen.

    Args:
        device_wires: The device's wires; wire ``device_wires[i]`` is qubit ``q[i]``. With
            ``None``, wires get qubits in the order the batch first uses them.
    """

    def __init__(self, device_wires: Wires | None = None) -> None:
        order = list(device_wires) if device_wires is not None else []
        self._index: dict[Any, int] = {w: i for i, w in enumerate(order)}
        # id(op) -> ((gate, qubits, number of inputs) per instruction, values); the tapes of
        # the batch stay alive while it is translated, so ids are not reused meanwhile.
        self._ops: dict[int, tuple[tuple[tuple[str, tuple[int, ...], int], ...], tuple]] = {}
        self._instructions: dict[tuple[str, tuple[int, ...], int, int], Instruction] = {}
        self._inputs: list[Expr] = []

    def translate(self, tape: QuantumScript) -> TapeCircuit:
        """Translate one tape (see [`translate_tape`][qpi_pennylane.translate.translate_tape])."""
        index = self._index
        for w in tape.wires:
            index.setdefault(w, len(index))
        instructions: list[Instruction] = []
        values: list[float] = []
        for op in tape.operations:
            specs, op_values = self._operation(op)
            for gate, qubits, count in specs:
                instructions.append(self._instruction(gate, qubits, count, len(values)))
                values.extend(op_values[:count])
                op_values = op_values[count:]
        measured = _measured_wires(tape, index)
        used = {q for inst in instructions for q in inst.qubits} | {index[w] for w in measured}
        template = Circuit(
            num_qubits=max(used, default=0) + 1,
            num_clbits=len(measured),
            instructions=instructions,
            parameters=[f"t{i}" for i in range(len(values))],
        )
        for clbit, wire in enumerate(measured):
            template.measure(index[wire], clbit)
        key = (template.num_qubits, template.num_clbits, tuple(template.instructions))
        return TapeCircuit(template, tuple(values), tuple(measured), key)

    def _operation(self, op: Any) -> tuple[tuple[tuple[str, tuple[int, ...], int], ...], tuple]:
        cached = self._ops.get(id(op))
        if cached is None:
            cached = self._ops[id(op)] = _operation_specs(op, self._index)
        return cached

    def _instruction(
        self, gate: str, qubits: tuple[int, ...], count: int, start: int
    ) -> Instruction:
        key = (gate, qubits, count, start)
        inst = self._instructions.get(key)
        if inst is None:
            while len(self._inputs) < start + count:
                self._inputs.append(Param(f"t{len(self._inputs)}"))
            inst = Instruction(gate, qubits, tuple(self._inputs[start : start + count]))
            self._instructions[key] = inst
        return inst


def _operation_specs(
    op: Any, index: dict[Any, int]
) -> tuple[tuple[tuple[str, tuple[int, ...], int], ...], tuple[float, ...]]:
    """``(gate, qubits, number of inputs)`` per instruction an operation becomes, and values."""
    name = op.name
    if name in DROPPED:
        return (), ()
    gate = GATE_MAP.get(name)
    if gate is None:
        raise ValidationError(
            f"operation {name} cannot be sent to a QPI QPU; run the tape through the "
            "qpi.remote device (or qpi_pennylane.dumps), which decomposes it into "
            f"{', '.join(sorted(GATE_MAP))}"
        )
    qubits = tuple(index[w] for w in op.wires)
    if gate == "id":  # Identity may span several wires; stdgates' id takes one
        return tuple(("id", (q,), 0) for q in qubits), ()
    if gate == "barrier":
        return (("barrier", qubits, 0),), ()
    params = _numeric_parameters(op)
    order = _PARAM_ORDER.get(name, range(len(params)))
    return ((gate, qubits, len(params)),), tuple(params[position] for position in order)


def _numeric_parameters(op: Any) -> list[float]:
    out = []
    for value in op.data:
        try:
            out.append(float(value))
        except TypeError:
            # Interface tensors and 0-d arrays: take the plain number out.
            import numpy as np

            out.append(float(np.real(np.asarray(_unwrap(value)))))
    return out


def _unwrap(value: Any) -> Any:
    detach = getattr(value, "detach", None)  # torch tensors
    return detach().cpu().numpy() if callable(detach) else value


def _measured_wires(tape: QuantumScript, index: dict[Any, int]) -> list[Any]:
    wanted: set[Any] = set()
    for mp in tape.measurements:
        wires: Iterable[Any] = mp.wires if len(mp.wires) else tape.wires
        wanted.update(wires)
    return sorted(wanted, key=index.__getitem__)
