"""Qiskit ``QuantumCircuit`` → :class:`qpi.circuit.Circuit`, the form the wire carries.

What changes on the way:

* Gates keep their OpenQASM 3 ``stdgates.inc`` names (``u`` becomes ``U``). A few common
  Qiskit gates outside that set are rewritten exactly (``r``, ``cu1``, ``cu3``, ``sxdg``);
  anything else is decomposed first with ``qiskit.transpile(..., optimization_level=0)``,
  which is only paid for when a circuit needs it.
* Parameters stay symbolic: bare parameters and ``+ - * /`` expressions of them become
  :class:`qpi.circuit.Expr`, so a parametric circuit is sent once and bound on the server.
  Functions such as ``sin(θ)`` cannot travel; bind those circuits before running them.
* Classical registers are merged into one flat index space in ``circuit.clbits`` order; the
  :class:`~qpi_qiskit.layout.Layout` kept in the circuit's metadata splits results again.
* Dropped: the global phase (sampling cannot observe it) and ``delay`` (the wire carries no
  timing; a :class:`DelayDroppedWarning` says so).
* Refused with :class:`~qpi.errors.ValidationError`: control flow, ``store`` and classical
  variables (the QPU driver cannot run them), circuits without measurements, and
  non-finite angles.
"""

from __future__ import annotations

import contextlib
import gc
import math
import operator
import re
import warnings
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

from qiskit import QuantumCircuit, transpile
from qiskit.circuit import (
    CONTROL_FLOW_OP_NAMES,
    Parameter,
    ParameterExpression,
    ParameterVectorElement,
)
from qiskit.circuit.parameterexpression import OpCode

from qpi import qasm3
from qpi.circuit import Circuit, Expr, Instruction, Param
from qpi.errors import ValidationError
from qpi.hooks import TranslatedCircuit
from qpi_qiskit.bindings import parameter_rows
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
#: Qiskit gates that keep their name and parameter order, or only change their name.
_PARAMETRIC = {
    name: name
    for name in ("p", "rx", "ry", "rz", "u1", "u2", "u3", "cp", "crx", "cry", "crz", "cu")
} | {"u": "U", "cu1": "cp"}
#: Gates outside ``stdgates.inc`` that have an exact rewrite (up to global phase).
_REWRITTEN = frozenset({"r", "cu3", "sxdg"})
#: Instructions that are dropped (see the module docstring).
_DROPPED = frozenset({"delay", "global_phase"})
#: Instructions that need classical control on the QPU, which the wire cannot carry.
_CLASSICAL = frozenset(CONTROL_FLOW_OP_NAMES) | {"store", "break_loop", "continue_loop"}
#: Everything the converter handles without decomposing.
_KNOWN = _PLAIN | _PARAMETRIC.keys() | _REWRITTEN | _DROPPED | {"measure"}

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
        circuit: The neutral circuit (inputs named after the Qiskit parameters).
        layout: Registers, name and parameter names for result headers.
        names: Every parameter name, in ``QuantumCircuit.parameters`` order (the row order
            callers bind in).
        columns: Positions in ``QuantumCircuit.parameters`` of the inputs sent, when some
            parameter appears only in the (dropped) global phase; ``None`` when all are sent.
    """

    circuit: Circuit
    layout: Layout
    names: tuple[str, ...] = ()
    columns: tuple[int, ...] | None = None


def to_circuit(circuit: QuantumCircuit) -> Circuit:
    """Convert a Qiskit circuit into the neutral form :mod:`qpi.qasm3` writes.

    Args:
        circuit: The circuit. It must measure at least one qubit.

    Returns:
        The neutral circuit: inputs in ``circuit.parameters`` order, one classical register,
        and the register layout in its metadata.

    Raises:
        ValidationError: For control flow, classical variables, circuits without
            measurements, parameter functions other than ``+ - * /``, or non-finite angles.
    """
    return convert(circuit).circuit


def dumps(circuit: QuantumCircuit) -> str:
    """The exact OpenQASM 3 text this SDK sends for ``circuit``.

    Parameters stay symbolic (``input float[64]`` declarations), registers are merged into
    one, and the layout travels in a ``// qpi:meta`` comment.

    Raises:
        ValidationError: As :func:`to_circuit`.
    """
    with _gc_paused():  # one pause over both steps: one collection afterwards, not two
        return qasm3.dumps(convert(circuit).circuit)


def translate(
    circuit: QuantumCircuit, bindings: Any = None, *, shots: int | None = None
) -> TranslatedCircuit:
    """Convert a circuit and its bindings into one wire entry of a job.

    Args:
        circuit: The circuit.
        bindings: Its parameter bindings (see :func:`qpi_qiskit.bindings.parameter_rows`).
        shots: Shots for this circuit (``None``: the job's).

    Returns:
        The entry, with the circuit's :class:`~qpi_qiskit.layout.Layout` as
        ``context["layout"]``.

    Raises:
        ValidationError: As :func:`to_circuit`, or for bindings that do not fit.
    """
    with _gc_paused():  # one pause over both steps: one collection afterwards, not two
        converted = convert(circuit)
        rows = parameter_rows(
            converted.names, bindings, where=f"circuit {circuit.name!r}", columns=converted.columns
        )
        payload = qasm3.to_payload(converted.circuit, rows, shots)
    return TranslatedCircuit(payload, plugin="qiskit", context={"layout": converted.layout})


def convert(circuit: QuantumCircuit) -> Converted:
    """Convert ``circuit``, keeping the layout and parameter columns alongside.

    Raises:
        ValidationError: As :func:`to_circuit`.
    """
    if not isinstance(circuit, QuantumCircuit):
        raise ValidationError(f"expected a qiskit QuantumCircuit, got {type(circuit).__name__}")
    original, circuit = circuit, _decomposed(circuit)
    with _gc_paused():
        instructions, symbols, delays, objects = _instructions(circuit)
        all_names = _parameter_names(circuit, objects, symbols) if circuit.num_parameters else []
    if delays:
        warnings.warn(
            f"circuit {circuit.name!r}: {delays} delay instruction(s) dropped; the QPI wire "
            "format carries no timing",
            DelayDroppedWarning,
            stacklevel=3,
        )
    names = [n for n in all_names if n in symbols]
    columns = None
    if len(names) != len(all_names):
        columns = tuple(i for i, n in enumerate(all_names) if n in symbols)
    layout = _layout(circuit, names, original)
    neutral = Circuit(
        num_qubits=circuit.num_qubits,
        num_clbits=circuit.num_clbits,
        instructions=instructions,
        parameters=names,
        name=_stable_name(original),
        metadata={META_KEY: layout.to_meta()},
    )
    return Converted(neutral, layout, tuple(all_names), columns)


# -- checks and decomposition -----------------------------------------------------------------


def _decomposed(circuit: QuantumCircuit) -> QuantumCircuit:
    """The circuit itself when every instruction is known, else its decomposition."""
    ops = circuit.count_ops()  # counted in Rust, so the common case costs well under 1 ms
    where = f"circuit {circuit.name!r}"
    classical = sorted(_CLASSICAL.intersection(ops))
    if classical or circuit.num_vars or circuit.num_stretches:
        what = ", ".join(classical) if classical else "classical variables"
        raise ValidationError(
            f"{where} uses {what}; the QPI wire format carries no classical control flow or "
            "variables. Run the branches as separate circuits, or unroll the loops."
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
    left = sorted(set(circuit.count_ops()) - _KNOWN)
    if left:
        raise ValidationError(
            f"{where}: {', '.join(left)} has no decomposition into OpenQASM 3 standard gates; "
            "replace it with standard gates"
        )
    return circuit


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


def _layout(circuit: QuantumCircuit, names: list[str], original: QuantumCircuit) -> Layout:
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
    )


# -- the instruction loop ---------------------------------------------------------------------


@contextlib.contextmanager
def _gc_paused() -> Iterator[None]:
    """Pause the cyclic garbage collector (the caller's setting is restored).

    Converting a large circuit allocates hundreds of thousands of small objects; the
    collections they trigger would double the time and never find garbage.
    """
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def _instructions(
    circuit: QuantumCircuit,
) -> tuple[list[Instruction], set[str], int, dict[str, Any]]:
    """Translate every instruction; returns them, the input names used, and dropped delays.

    This loop is the cost of serialising a large circuit: it reads only ``name``, ``qubits``
    and, where a gate has them, ``params`` and ``clbits``; it maps each distinct qubit tuple
    to indices once; and it expects the caller to pause the garbage collector.
    """
    qubit_index = {bit: i for i, bit in enumerate(circuit.qubits)}
    clbit_index = {bit: i for i, bit in enumerate(circuit.clbits)}
    index_cache: dict[tuple[Any, ...], tuple[int, ...]] = {}
    cached = index_cache.get
    symbols: dict[str, Expr] = {}  # bare parameters by name, one Expr each
    objects: dict[str, Any] = {}  # and the Qiskit parameter objects, to sort them
    symbol = symbols.get
    used: set[str] = set()  # inputs used inside expressions
    out: list[Instruction] = []
    append = out.append
    new = tuple.__new__
    isfinite = math.isfinite
    delays = 0

    def value(p: Any) -> float | Expr:
        if type(p) is float:
            if not isfinite(p):
                raise _not_finite(circuit, p)
            return p
        if type(p) in _SYMBOLS:
            key = p.name
            return symbol(key) or _first_use(symbols, objects, key, p)
        return _value(circuit, p, used)

    for inst in circuit.data:
        name = inst.name
        qubits = inst.qubits
        idx = cached(qubits)
        if idx is None:
            idx = index_cache[qubits] = tuple(qubit_index[q] for q in qubits)
        if name in _PLAIN:
            if idx or name != "barrier":
                append(new(Instruction, (name, idx, (), ())))
        elif name == "measure":
            append(new(Instruction, ("measure", idx, (), (clbit_index[inst.clbits[0]],))))
        elif name == "r":
            # R(θ, φ) = U(θ, φ - π/2, π/2 - φ) exactly; φ = π/2 is RY (how Qiskit
            # decomposes ry) and φ = 0 is RX.
            theta, phi = inst.params
            if type(theta) in _SYMBOLS:  # the common case, inlined
                key = theta.name
                theta = symbol(key) or _first_use(symbols, objects, key, theta)
            else:
                theta = value(theta)
            if phi == _HALF_PI:
                append(new(Instruction, ("ry", idx, (theta,), ())))
            elif phi == 0:
                append(new(Instruction, ("rx", idx, (theta,), ())))
            else:
                phi = value(phi)
                append(new(Instruction, ("U", idx, (theta, phi - _HALF_PI, _HALF_PI - phi), ())))
        elif name in _PARAMETRIC:
            params = tuple([value(p) for p in inst.params])
            append(new(Instruction, (_PARAMETRIC[name], idx, params, ())))
        elif name == "cu3":
            theta, phi, lam = (value(p) for p in inst.params)
            append(new(Instruction, ("cu", idx, (theta, phi, lam, 0.0), ())))
        elif name == "sxdg":
            append(new(Instruction, ("rx", idx, (-_HALF_PI,), ())))
        elif name == "delay":
            delays += 1
        # global_phase: dropped, sampling cannot observe it
    used.update(symbols)
    return out, used, delays, objects


def _first_use(symbols: dict[str, Expr], objects: dict[str, Any], key: str, p: Any) -> Expr:
    objects[key] = p
    expr = symbols[key] = Param(key)
    return expr


def _parameter_names(circuit: QuantumCircuit, objects: dict[str, Any], used: set[str]) -> list[str]:
    """Parameter names in ``circuit.parameters`` order.

    Building ``circuit.parameters`` creates one Python object per parameter (about a third of
    the cost of converting a large parametric circuit), so when every parameter appeared as a
    bare gate angle, the objects already in hand are sorted the way Qiskit sorts them:
    by name, with vector elements by (vector name, index).
    """
    if len(objects) == circuit.num_parameters and used.issubset(objects):
        return [p.name for p in sorted(objects.values(), key=_qiskit_order)]
    return [p.name for p in circuit.parameters]


def _qiskit_order(p: Any) -> tuple[str, int]:
    if type(p) is ParameterVectorElement:
        return p.vector.name, p.index
    return p.name, -1


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
