"""Qiskit ``QuantumCircuit`` → `qpi.circuit.Circuit`, the form the wire carries.

What changes on the way:

* Gates keep their OpenQASM 3 ``stdgates.inc`` names (``u`` becomes ``U``). A few common
  Qiskit gates outside that set are rewritten exactly (``r``, ``cu1``, ``cu3``, ``sxdg``);
  anything else is decomposed first with ``qiskit.transpile(..., optimization_level=0)``,
  which is only paid for when a circuit needs it.
* Parameters stay symbolic: bare parameters and ``+ - * /`` expressions of them become
  [`qpi.circuit.Expr`][qpi.circuit.Expr], so a parametric circuit is sent once and bound on the
  server.
  Functions such as ``sin(θ)`` cannot travel; bind those circuits before running them.
* Classical registers are merged into one flat index space in ``circuit.clbits`` order; the
  [`Layout`][qpi_qiskit.layout.Layout] kept in the circuit's metadata splits results again.
* Dropped: the global phase (sampling cannot observe it) and ``delay`` (the wire carries no
  timing; a [`DelayDroppedWarning`][qpi_qiskit.convert.DelayDroppedWarning] says so).
* Control flow travels as OpenQASM 3 ``if``/``else``/``while`` (``switch`` as an ``if``
  chain, ``for`` unrolled, ``box`` inlined; see ``qpi_qiskit.flow``). Whether a QPU can run
  it is the backend's check, not the converter's.
* Refused with [`ValidationError`][qpi.errors.ValidationError]: ``store`` and classical variables
  (the
  QPU driver's loader cannot read them), circuits without measurements, and non-finite
  angles.
"""

from __future__ import annotations

import dataclasses
import math
import operator
import re
import warnings
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from qiskit import QuantumCircuit, transpile
from qiskit.circuit import (
    Parameter,
    ParameterExpression,
    ParameterVectorElement,
)
from qiskit.circuit.parameterexpression import OpCode

from qpi import qasm3
from qpi.circuit import Circuit, Expr, Param
from qpi.errors import ValidationError
from qpi.hooks import TranslatedCircuit
from qpi.perf import gc_paused
from qpi_qiskit.bindings import parameter_rows
from qpi_qiskit.flow import FLOW, stream_flow
from qpi_qiskit.layout import META_KEY, Layout

__all__ = [
    "BASIS_GATES",
    "Converted",
    "DelayDroppedWarning",
    "convert",
    "dumps",
    "to_circuit",
    "translate",
]

#: Qiskit instructions that keep their name and take no parameters.
_PLAIN = frozenset(
    ("id", "x", "y", "z", "h", "s", "sdg", "t", "tdg", "sx", "cx", "cy", "cz", "ch", "swap",
     "ccx", "cswap", "reset", "barrier")
)  # fmt: skip
#: The bare gates among them (everything but the two directives).
_GATES = _PLAIN - {"reset", "barrier"}
#: Qiskit gates that keep their name and parameter order, or only change their name.
_PARAMETRIC = {
    name: name
    for name in ("p", "rx", "ry", "rz", "u1", "u2", "u3", "cp", "crx", "cry", "crz", "cu")
} | {"u": "U", "cu1": "cp"}
#: Gates outside ``stdgates.inc`` that have an exact rewrite (up to global phase).
_REWRITTEN = frozenset({"r", "cu3", "sxdg"})
#: Parametric gates with exactly one angle (the hot path of the instruction loop).
_ONE_PARAMETER = frozenset({"p", "rx", "ry", "rz", "u1", "cp", "crx", "cry", "crz", "cu1"})
#: Instructions that are dropped (see the module docstring).
_DROPPED = frozenset({"delay", "global_phase"})
#: Classical instructions the wire cannot carry.
_CLASSICAL = frozenset({"store"})
#: Everything the converter handles without decomposing.
_KNOWN = _PLAIN | _PARAMETRIC.keys() | _REWRITTEN | _DROPPED | FLOW | {"measure"}

#: The basis circuits are decomposed into when they hold other gates (Qiskit names;
#: barriers are always kept, and ``transpile`` refuses them in ``basis_gates``).
BASIS_GATES: tuple[str, ...] = (
    *sorted(_PLAIN - {"reset", "barrier"}),
    "p", "rx", "ry", "rz", "u", "cp", "crx", "cry", "crz", "cu",
    "measure", "reset",
)  # fmt: skip

#: The suffix Qiskit's naming counter adds: ``-<count>``, and ``-<pid>`` in a subprocess.
_COUNTED = re.compile(r"-\d+(?:-\d+)?")
_HALF_PI = math.pi / 2
_SYMBOLS = (Parameter, ParameterVectorElement)
_BINARY: dict[Any, Callable[[Any, Any], Any]] = {
    OpCode.ADD: operator.add,
    OpCode.SUB: operator.sub,
    OpCode.MUL: operator.mul,
    OpCode.DIV: operator.truediv,
    OpCode.RSUB: lambda lhs, rhs: rhs - lhs,
    OpCode.RDIV: lambda lhs, rhs: rhs / lhs,
}


class DelayDroppedWarning(UserWarning):
    """A circuit's ``delay`` instructions were dropped: the QPI wire carries no timing."""


@dataclass(frozen=True)
class Converted:
    """A converted circuit and what is needed to bind rows and read results.

    Attributes:
        program: The OpenQASM 3 program, or the neutral circuit (for
            [`to_circuit`][qpi_qiskit.convert.to_circuit]).
        layout: Registers, name and input names (in wire order) for result headers.
        source: The circuit that was converted (after any decomposition); its
            ``parameters`` give the order callers bind rows in.
    """

    program: qasm3.Program | Circuit
    layout: Layout
    source: QuantumCircuit


def to_circuit(circuit: QuantumCircuit) -> Circuit:
    """Convert a Qiskit circuit into the neutral form [`qpi.qasm3`][qpi.qasm3] writes.

    Args:
        circuit: The circuit. It must measure at least one qubit.

    Returns:
        The neutral circuit: inputs in order of first use, one classical register, and the
        register layout in its metadata. ``qpi.qasm3.dumps`` of it equals
        [`dumps`][qpi_qiskit.convert.dumps].

    Raises:
        ValidationError: For control flow, classical variables, circuits without
            measurements, parameter functions other than ``+ - * /``, or non-finite angles.
    """
    return convert(circuit, text=False).program  # type: ignore[return-value]


def dumps(circuit: QuantumCircuit) -> str:
    """The exact OpenQASM 3 text this SDK sends for ``circuit``.

    Parameters stay symbolic (``input float[64]`` declarations, in order of first use),
    registers are merged into one, and the layout travels in a ``// qpi:meta`` comment.

    Raises:
        ValidationError: As [`to_circuit`][qpi_qiskit.convert.to_circuit].
    """
    return convert(circuit).program.text  # type: ignore[union-attr]


def translate(
    circuit: QuantumCircuit,
    bindings: Any = None,
    *,
    shots: int | None = None,
    primitive: Mapping[str, Any] | None = None,
) -> TranslatedCircuit:
    """Convert a circuit and its bindings into one wire entry of a job.

    Args:
        circuit: The circuit.
        bindings: Its parameter bindings, in ``circuit.parameters`` order (see
            [`qpi_qiskit.bindings.parameter_rows`][qpi_qiskit.bindings.parameter_rows]).
        shots: Shots for this circuit (``None``: the job's).
        primitive: What a primitive needs to rebuild its result from the job alone
            (see [`Layout.primitive`][qpi_qiskit.layout.Layout]); it travels in the text.

    Returns:
        The entry, with the circuit's [`Layout`][qpi_qiskit.layout.Layout] as
        ``context["layout"]``.

    Raises:
        ValidationError: As [`to_circuit`][qpi_qiskit.convert.to_circuit], or for bindings that do
            not fit.
    """
    converted = convert(circuit, primitive=primitive)
    program = converted.program
    rows = None
    if bindings is not None or converted.source.num_parameters:
        # Rows come in circuit.parameters order; the wire declares inputs in order of first
        # use (and never a parameter used only in the dropped global phase): pick columns.
        names = [p.name for p in converted.source.parameters]
        position = {name: i for i, name in enumerate(names)}
        columns = [position[name] for name in program.parameters]  # type: ignore[union-attr]
        rows = parameter_rows(names, bindings, where=f"circuit {circuit.name!r}", columns=columns)
    payload = qasm3.to_payload(program, rows, shots)  # type: ignore[arg-type]
    return TranslatedCircuit(payload, plugin="qiskit", context={"layout": converted.layout})


def convert(
    circuit: QuantumCircuit, *, text: bool = True, primitive: Mapping[str, Any] | None = None
) -> Converted:
    """Convert ``circuit`` into a program (or a neutral circuit), keeping its layout.

    The instructions are streamed straight into a [`qpi.qasm3.Builder`][qpi.qasm3.Builder] (or a
    [`Circuit`][qpi.circuit.Circuit] when ``text`` is false): both produce the same text.

    Raises:
        ValidationError: As [`to_circuit`][qpi_qiskit.convert.to_circuit].
    """
    if not isinstance(circuit, QuantumCircuit):
        raise ValidationError(f"expected a qiskit QuantumCircuit, got {type(circuit).__name__}")
    original, circuit = circuit, _decomposed(circuit)
    sink: qasm3.Builder | Circuit
    if text:
        sink = qasm3.Builder(circuit.num_qubits, circuit.num_clbits)
    else:
        sink = Circuit(circuit.num_qubits, circuit.num_clbits)
    with gc_paused():
        delays = _stream(circuit, sink)
        names = sink.inputs_in_use() if text else sink.input_names()  # type: ignore[union-attr]
        layout = _layout(circuit, names, original, primitive)
        metadata = {META_KEY: layout.to_meta()}
        if text:
            program: qasm3.Program | Circuit = sink.build(  # type: ignore[union-attr]
                None,
                name=_stable_name(original),
                metadata=metadata,  # inputs: first use
            )
        else:
            program = dataclasses.replace(
                sink, parameters=names, name=_stable_name(original), metadata=metadata
            )
    if delays:
        warnings.warn(
            f"circuit {circuit.name!r}: {delays} delay instruction(s) dropped; the QPI wire "
            "format carries no timing",
            DelayDroppedWarning,
            stacklevel=3,
        )
    return Converted(program, layout, circuit)


# -- checks and decomposition -----------------------------------------------------------------


def _decomposed(circuit: QuantumCircuit) -> QuantumCircuit:
    """The circuit itself when every instruction is known, else its decomposition."""
    ops = circuit.count_ops()  # counted in Rust, so the common case costs well under 1 ms
    if FLOW.intersection(ops):
        ops = _all_ops(circuit)  # inside blocks as well
    where = f"circuit {circuit.name!r}"
    classical = sorted(_CLASSICAL.intersection(ops))
    if classical or circuit.num_vars or circuit.num_stretches:
        what = ", ".join(classical) if classical else "classical variables"
        raise ValidationError(
            f"{where} uses {what}; the QPI wire carries control flow on measured bits, but "
            "no classical variables or stores. Condition on measured bits instead."
        )
    if not ops.get("measure"):
        raise ValidationError(
            f"{where} has no measurements, so a QPU would return nothing; add "
            "circuit.measure_all() or measure the qubits you want to read"
        )
    if _KNOWN.issuperset(ops):
        return circuit
    unknown = sorted(set(ops) - _KNOWN)
    try:
        circuit = transpile(circuit, basis_gates=list(BASIS_GATES), optimization_level=0)
    except Exception as exc:  # noqa: BLE001 - any transpiler failure means "cannot send this"
        raise ValidationError(
            f"{where}: cannot decompose {', '.join(unknown)} into OpenQASM 3 standard gates "
            f"({type(exc).__name__}: {exc}); replace them with standard gates"
        ) from exc
    left = sorted(set(_all_ops(circuit)) - _KNOWN)
    if left:
        raise ValidationError(
            f"{where}: {', '.join(left)} has no decomposition into OpenQASM 3 standard gates; "
            "replace it with standard gates"
        )
    return circuit


def _all_ops(circuit: QuantumCircuit) -> dict[str, int]:
    """Instruction counts of ``circuit`` and of every block inside it."""
    counts = dict(circuit.count_ops())
    for inst in circuit.data:
        for block in getattr(inst.operation, "blocks", ()):
            for name, count in _all_ops(block).items():
                counts[name] = counts.get(name, 0) + count
    return counts


def _stable_name(circuit: QuantumCircuit) -> str | None:
    """The circuit's name without the counters Qiskit appends, or ``None`` for default names.

    Qiskit names an unnamed circuit ``circuit-<n>`` and a bound copy ``<name>-<n>`` from a
    process-wide counter, so the same circuit gets a different name in every session. Such
    names are not sent: they would make identical payloads differ, and the cache miss.
    """
    name = circuit.name
    base = getattr(circuit, "_base_name", None)  # what Qiskit appends its counters to
    counted = isinstance(base, str) and name != base and name.startswith(base)
    if counted and _COUNTED.fullmatch(name[len(base) :]):
        name = base
    return None if name == QuantumCircuit.prefix else name


def _layout(
    circuit: QuantumCircuit,
    names: list[str],
    original: QuantumCircuit,
    primitive: Mapping[str, Any] | None = None,
) -> Layout:
    """The layout of ``circuit``, named after the circuit the user gave (``original``)."""
    clbit_index = {bit: i for i, bit in enumerate(circuit.clbits)}
    return Layout(
        name=original.name,
        num_qubits=circuit.num_qubits,
        num_clbits=circuit.num_clbits,
        qregs=tuple((reg.name, reg.size) for reg in circuit.qregs),
        cregs=tuple((reg.name, tuple(clbit_index[b] for b in reg)) for reg in circuit.cregs),
        parameters=tuple(names),
        metadata=dict(original.metadata or {}),
        primitive=dict(primitive or {}),
    )


# -- the instruction loop ---------------------------------------------------------------------


def _stream(
    circuit: QuantumCircuit,
    sink: qasm3.Builder | Circuit,
    qubit_index: dict[Any, int] | None = None,
    clbit_index: dict[Any, int] | None = None,
) -> int:
    """Feed every instruction to ``sink``; returns the number of delays dropped.

    This loop is the cost of serialising a large circuit: it reads only ``name``, ``qubits``
    and, where a gate has them, ``params`` and ``clbits``; it maps each distinct qubit tuple to
    indices once; a gate whose angle is a bare parameter goes to ``sink.input_gate`` without
    building an expression; and it expects the caller to pause the garbage collector.
    """
    if qubit_index is None:  # the top level; a block gets its bits' indices in the circuit
        qubit_index = {bit: i for i, bit in enumerate(circuit.qubits)}
        clbit_index = {bit: i for i, bit in enumerate(circuit.clbits)}
    assert clbit_index is not None
    index_cache: dict[tuple[Any, ...], tuple[int, ...]] = {}

    def idx_of(qubits: tuple[Any, ...]) -> tuple[int, ...]:
        idx = index_cache.get(qubits)
        if idx is None:
            idx = index_cache[qubits] = tuple([qubit_index[q] for q in qubits])
        return idx

    used: set[str] = set()  # inputs used inside expressions (read by _value)
    gate, input_gate, measure = sink.gate, sink.input_gate, sink.measure
    isfinite = math.isfinite
    delays = 0

    def value(p: Any) -> float | Expr:
        if type(p) is float:
            if not isfinite(p):
                raise _not_finite(circuit, p)
            return p
        if type(p) in _SYMBOLS:
            return Param(p.name)
        return _value(circuit, p, used)

    # Locals, and the branches in order of frequency: this loop runs once per instruction.
    # A gate met again on the same qubits (every layer of an ansatz) costs one dict lookup:
    # its checked form is prepared by the sink once and kept here by (name, Qiskit qubits).
    prepared: dict[tuple[str, tuple[Any, ...]], tuple[int, Any, str]] = {}
    emit, symbols, half_pi = sink.emit, _SYMBOLS, _HALF_PI
    bare, one, r_gate = _BARE, _ONE, _R
    for inst in circuit.data:
        name = inst.name
        qubits = inst.qubits
        known = prepared.get((name, qubits))
        if known is None:
            known = prepared[name, qubits] = _prepare(sink, name, idx_of(qubits))
        route, token, renamed = known
        if route is bare:
            emit(token)
            continue
        if route is one:
            p = inst.params[0]
            if type(p) in symbols:  # the common case of a parametric circuit
                emit((token, p.name))
            else:
                gate(renamed, idx_of(qubits), (value(p),))
            continue
        if route is r_gate:
            # R(θ, φ) = U(θ, φ - π/2, π/2 - φ) exactly; φ = π/2 is RY (how Qiskit
            # decomposes ry) and φ = 0 is RX: those keep the prepared fast path.
            theta, phi = inst.params
            if (phi == half_pi or phi == 0) and type(theta) in symbols:
                emit((token[phi == 0], theta.name))
                continue
        idx = idx_of(qubits)
        if name == "measure":
            measure(idx[0], clbit_index[inst.clbits[0]])
        elif name == "r":
            # R(θ, φ) = U(θ, φ - π/2, π/2 - φ) exactly; φ = π/2 is RY (how Qiskit
            # decomposes ry) and φ = 0 is RX.
            theta, phi = inst.params
            if phi == _HALF_PI or phi == 0:
                axis = "ry" if phi == _HALF_PI else "rx"
                if type(theta) in symbols:
                    input_gate(axis, idx, theta.name)
                else:
                    gate(axis, idx, (value(theta),))
            else:
                theta, phi = value(theta), value(phi)
                gate("U", idx, (theta, phi - _HALF_PI, _HALF_PI - phi))
        elif name == "barrier":
            sink.barrier(idx)
        elif name == "reset":
            sink.reset(idx[0])
        elif name in _PARAMETRIC:
            gate(_PARAMETRIC[name], idx, tuple([value(p) for p in inst.params]))
        elif name == "cu3":
            theta, phi, lam = (value(p) for p in inst.params)
            gate("cu", idx, (theta, phi, lam, 0.0))
        elif name == "sxdg":
            gate("rx", idx, (-_HALF_PI,))
        elif name == "delay":
            delays += 1
        elif name in FLOW:
            delays += stream_flow(
                inst, sink, qubit_index, clbit_index, lambda b, q, c: _stream(b, sink, q, c)
            )
        elif name != "global_phase":  # dropped: sampling cannot observe it
            raise ValidationError(f"circuit {circuit.name!r}: cannot send {name!r}")
    return delays


_BARE, _ONE, _R, _OTHER = 0, 1, 2, 3


def _prepare(
    sink: qasm3.Builder | Circuit, name: str, idx: tuple[int, ...]
) -> tuple[int, Any, str]:
    """How the loop handles ``name`` on ``idx``: (route, the sink's token, the wire name)."""
    if name in _GATES:
        return _BARE, sink.prepare(name, idx), name
    if name in _ONE_PARAMETER:
        wire = _PARAMETRIC[name]
        return _ONE, sink.prepare(wire, idx), wire
    if name == "r":  # tokens for its two common cases: (ry, rx)
        return _R, (sink.prepare("ry", idx), sink.prepare("rx", idx)), name
    return _OTHER, None, name


def _value(circuit: QuantumCircuit, p: Any, used: set[str]) -> float | Expr:
    """A gate parameter that is neither a float nor a bare parameter."""
    if isinstance(p, ParameterExpression):
        if isinstance(p, Parameter):
            used.add(p.name)
            return Param(p.name)
        expr = _expression(circuit, p)
        if isinstance(expr, Expr):
            used.update(expr.parameters())
        elif not math.isfinite(expr):
            raise _not_finite(circuit, p)
        return expr
    try:
        number = float(p)
    except (TypeError, ValueError):
        raise ValidationError(
            f"circuit {circuit.name!r}: gate parameter {p!r} is not a number or a parameter "
            "expression"
        ) from None
    if not math.isfinite(number):
        raise _not_finite(circuit, p)
    return number


def _expression(circuit: QuantumCircuit, p: ParameterExpression) -> float | Expr:
    """Rebuild ``p`` from Qiskit's postfix replay of it, with ``+ - * /`` only."""
    stack: list[Any] = []
    for step in p._qpy_replay:  # the operation log QPY serialises expressions from
        for operand in (step.lhs, step.rhs):
            if operand is not None:
                stack.append(_leaf(circuit, p, operand))
        apply = _BINARY.get(step.op)
        if apply is None:
            raise ValidationError(
                f"circuit {circuit.name!r}: the gate angle {p} uses "
                f"{str(step.op).rsplit('.', 1)[-1].lower()}, but the QPI wire carries only "
                "+ - * / of parameters and numbers; bind this parameter client-side with "
                "circuit.assign_parameters(...) before running"
            )
        rhs, lhs = stack.pop(), stack.pop()
        try:
            stack.append(apply(lhs, rhs))
        except ZeroDivisionError:
            raise ValidationError(
                f"circuit {circuit.name!r}: the gate angle {p} divides by zero"
            ) from None
    if len(stack) != 1:
        raise ValidationError(f"circuit {circuit.name!r}: cannot read the gate angle {p}")
    return stack[0]


def _leaf(circuit: QuantumCircuit, p: ParameterExpression, operand: Any) -> float | Expr:
    if isinstance(operand, Parameter):
        return Param(operand.name)
    if isinstance(operand, complex):
        if operand.imag:
            raise ValidationError(
                f"circuit {circuit.name!r}: the gate angle {p} has a complex coefficient"
            )
        return operand.real
    if isinstance(operand, ParameterExpression):
        return _expression(circuit, operand)
    return float(operand)


def _not_finite(circuit: QuantumCircuit, p: Any) -> ValidationError:
    return ValidationError(
        f"circuit {circuit.name!r}: gate angle {p!r} is not finite; a QPU cannot run it"
    )
