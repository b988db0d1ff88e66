"""A small framework-neutral circuit form: what the wire can carry, and nothing more.

Plugins translate native circuits (Qiskit, PennyLane, Cirq) into a [`Circuit`][qpi.circuit.Circuit];
[`qpi.qasm3`][qpi.qasm3] writes it as OpenQASM 3 and parses that text back. The form has qubit and
clbit counts, gates from OpenQASM 3's ``stdgates.inc`` whose parameters are numbers, named
inputs or arithmetic expressions of inputs, ``measure``, ``reset`` and ``barrier``, and
classical control flow as block markers (``if``/``else``/``while`` on measured bits).

Instructions are plain named tuples so that building a 40,000-instruction circuit stays cheap.
"""

from __future__ import annotations

import math
import operator
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, NamedTuple, TypeAlias

from qpi import display
from qpi.errors import ValidationError

__all__ = [
    "CONTROL",
    "GATES",
    "Circuit",
    "Expr",
    "Instruction",
    "Param",
    "ParamValue",
    "evaluate",
    "parameters_of",
]

#: Gates of ``stdgates.inc`` (plus the built-in ``U``), as ``name: (num_qubits, num_params)``.
GATES: dict[str, tuple[int, int]] = {
    "id": (1, 0),
    "x": (1, 0),
    "y": (1, 0),
    "z": (1, 0),
    "h": (1, 0),
    "s": (1, 0),
    "sdg": (1, 0),
    "t": (1, 0),
    "tdg": (1, 0),
    "sx": (1, 0),
    "p": (1, 1),
    "phase": (1, 1),
    "rx": (1, 1),
    "ry": (1, 1),
    "rz": (1, 1),
    "u1": (1, 1),
    "u2": (1, 2),
    "u3": (1, 3),
    "U": (1, 3),
    "cx": (2, 0),
    "CX": (2, 0),
    "cy": (2, 0),
    "cz": (2, 0),
    "ch": (2, 0),
    "swap": (2, 0),
    "cp": (2, 1),
    "cphase": (2, 1),
    "crx": (2, 1),
    "cry": (2, 1),
    "crz": (2, 1),
    "cu": (2, 4),
    "ccx": (3, 0),
    "cswap": (3, 0),
}

#: Non-gate instructions the form carries.
DIRECTIVES: frozenset[str] = frozenset({"measure", "reset", "barrier"})
#: Classical control flow: block markers, written as OpenQASM 3 ``if``/``else``/``while``.
#: ``if`` and ``while`` open a block on a condition, ``else`` switches the open ``if`` block
#: to its other branch, ``end`` closes a block, and ``break``/``continue`` act on the
#: innermost ``while``.
CONTROL: frozenset[str] = frozenset({"if", "else", "end", "while", "break", "continue"})

_BINARY_OPS: dict[str, Callable[[float, float], float]] = {
    "+": operator.add,
    "-": operator.sub,
    "*": operator.mul,
    "/": operator.truediv,
}

_UNARY_OPS: dict[str, Callable[[float], float]] = {
    "neg": operator.neg,
}


@dataclass(frozen=True, slots=True)
class Expr:
    """An arithmetic expression of named inputs.

    ``op`` is ``"param"`` (``args == (name,)``), one of ``+ - * /`` (two operands) or ``"neg"``
    (one operand). Operands are numbers or other expressions. Build expressions with
    [`Param`][qpi.circuit.Param] and Python operators: ``2 * Param("theta") + 0.5``.
    """

    op: str
    args: tuple[Expr | float | str, ...]

    def __post_init__(self) -> None:
        if self.op == "param":
            if len(self.args) != 1 or not isinstance(self.args[0], str) or not self.args[0]:
                raise ValidationError("a parameter expression needs exactly one non-empty name")
        elif self.op in _BINARY_OPS or self.op in _UNARY_OPS:
            arity = 2 if self.op in _BINARY_OPS else 1
            if len(self.args) != arity:
                raise ValidationError(f"operator {self.op!r} takes {arity} operand(s)")
            for arg in self.args:
                if not isinstance(arg, Expr):
                    _operand(arg)  # numbers only, and finite
        else:
            raise ValidationError(
                f"unsupported expression operator {self.op!r}; use + - * / or negation"
            )

    # Python operators build trees, so plugins can translate symbolic values naturally.
    def __add__(self, other: Expr | float) -> Expr:
        return Expr("+", (self, _operand(other)))

    def __radd__(self, other: float) -> Expr:
        return Expr("+", (_operand(other), self))

    def __sub__(self, other: Expr | float) -> Expr:
        return Expr("-", (self, _operand(other)))

    def __rsub__(self, other: float) -> Expr:
        return Expr("-", (_operand(other), self))

    def __mul__(self, other: Expr | float) -> Expr:
        return Expr("*", (self, _operand(other)))

    def __rmul__(self, other: float) -> Expr:
        return Expr("*", (_operand(other), self))

    def __truediv__(self, other: Expr | float) -> Expr:
        return Expr("/", (self, _operand(other)))

    def __rtruediv__(self, other: float) -> Expr:
        return Expr("/", (_operand(other), self))

    def __neg__(self) -> Expr:
        return Expr("neg", (self,))

    @property
    def name(self) -> str:
        """The input's name, for a bare ``param`` expression."""
        if self.op != "param":
            raise AttributeError("only a bare parameter has a name")
        return self.args[0]  # type: ignore[return-value]

    def parameters(self) -> frozenset[str]:
        """The names of the inputs this expression depends on."""
        if self.op == "param":
            return frozenset((self.args[0],))  # type: ignore[arg-type]
        names: frozenset[str] = frozenset()
        for arg in self.args:
            if isinstance(arg, Expr):
                names |= arg.parameters()
        return names

    def evaluate(self, values: Mapping[str, float]) -> float:
        """Evaluate the expression with the inputs in ``values``.

        Raises:
            ValidationError: If an input the expression needs is missing.
        """
        if self.op == "param":
            try:
                return float(values[self.args[0]])  # type: ignore[index]
            except KeyError:
                raise ValidationError(f"no value given for input {self.args[0]!r}") from None
        operands = [evaluate(arg, values) for arg in self.args]  # type: ignore[arg-type]
        if self.op in _BINARY_OPS:
            try:
                return _BINARY_OPS[self.op](operands[0], operands[1])
            except ZeroDivisionError:
                raise ValidationError(
                    f"division by zero evaluating an expression with inputs {dict(values)}"
                ) from None
        return _UNARY_OPS[self.op](operands[0])

    def rename(self, mapping: Mapping[str, str]) -> Expr:
        """Return the same expression with inputs renamed through ``mapping``."""
        if self.op == "param":
            return Expr("param", (mapping.get(self.args[0], self.args[0]),))  # type: ignore[call-overload]
        return Expr(
            self.op, tuple(a.rename(mapping) if isinstance(a, Expr) else a for a in self.args)
        )


def Param(name: str) -> Expr:  # noqa: N802 - reads like a constructor on purpose
    """A named input, e.g. ``Param("theta")``; combine with numbers and operators.

    Raises:
        ValidationError: If ``name`` is not a non-empty string.
    """
    if type(name) is not str or not name:
        raise ValidationError(f"an input name must be a non-empty string, got {name!r}")
    # Checked above, so skip __post_init__: converters create one per circuit parameter, and
    # a 20,000-parameter circuit should not pay for 20,000 generic validations.
    expr = object.__new__(Expr)
    object.__setattr__(expr, "op", "param")
    object.__setattr__(expr, "args", (name,))
    return expr


ParamValue: TypeAlias = float | Expr


def _operand(value: Expr | float) -> Expr | float:
    if isinstance(value, Expr):
        return value
    if isinstance(value, bool) or not isinstance(value, int | float):
        try:
            value = float(value)  # numpy scalars and the like
        except (TypeError, ValueError):
            raise ValidationError(
                f"expression operand must be a number or an Expr, got {type(value).__name__}"
            ) from None
    if not math.isfinite(value):
        raise ValidationError(f"expression operand must be finite, got {value!r}")
    return float(value)


def evaluate(value: ParamValue, values: Mapping[str, float]) -> float:
    """Evaluate a gate parameter (a number or an `Expr`) with input ``values``."""
    if isinstance(value, Expr):
        return value.evaluate(values)
    return float(value)


def parameters_of(value: ParamValue) -> frozenset[str]:
    """The input names a gate parameter depends on (empty for a number)."""
    if isinstance(value, Expr):
        return value.parameters()
    return frozenset()


class Instruction(NamedTuple):
    """One instruction: a gate, ``measure``, ``reset``, ``barrier``, or a control-flow marker.

    Attributes:
        name: A key of [`GATES`][qpi.circuit.GATES], ``"measure"``, ``"reset"``, ``"barrier"``, or
            one of
            [`CONTROL`][qpi.circuit.CONTROL].
        qubits: Qubit indices the instruction acts on (for ``measure``, one qubit; none for
            control flow).
        params: Gate parameters: numbers or [`Expr`][qpi.circuit.Expr] (empty for non-parametric
            gates).
            For ``if``/``while``: ``(value,)``, the integer the condition bits must read.
        clbits: For ``measure``, the one clbit that receives the outcome; for ``if``/``while``
            the condition's bits, least significant first; else empty.
    """

    name: str
    qubits: tuple[int, ...]
    params: tuple[ParamValue, ...] = ()
    clbits: tuple[int, ...] = ()


@dataclass
class Circuit:
    """A circuit in the neutral form.

    Attributes:
        num_qubits: Number of qubits (indices ``0 .. num_qubits-1``).
        num_clbits: Number of classical bits in the single wire register ``c``.
        instructions: The instructions, in order.
        parameters: Names of the free inputs, in the caller's order. Rows of parameter
            values are given in this order. ``None`` means "collect them from the
            instructions in order of first use".
        name: An optional circuit name (kept in metadata, not in the QASM program).
        metadata: Free-form JSON-serialisable data a plugin wants to travel with the
            circuit (e.g. register layout); the writer embeds it in a QASM comment so a job
            can be rebuilt from the server's record alone.
    """

    num_qubits: int
    num_clbits: int = 0
    instructions: list[Instruction] = field(default_factory=list)
    parameters: Sequence[str] | None = None
    name: str | None = None
    metadata: dict | None = None

    def __repr__(self) -> str:
        return display.circuit_repr(self)

    # -- building -------------------------------------------------------------------------------

    def append(
        self,
        name: str,
        qubits: Iterable[int],
        params: Iterable[ParamValue] = (),
        clbits: Iterable[int] = (),
    ) -> Circuit:
        """Append one instruction (unchecked; call `validate` when done). Returns self."""
        self.instructions.append(Instruction(name, tuple(qubits), tuple(params), tuple(clbits)))
        return self

    def measure(self, qubit: int, clbit: int) -> Circuit:
        """Append ``c[clbit] = measure q[qubit];``. Returns self."""
        self.instructions.append(Instruction("measure", (qubit,), (), (clbit,)))
        return self

    # The same instruction methods as qpi.qasm3.Builder, so a converter can stream a native
    # circuit into either one: a Circuit to inspect, or the program text directly.

    def gate(self, name: str, qubits: tuple[int, ...], params: tuple[ParamValue, ...] = ()) -> None:
        """Append a gate (unchecked; see [`validate`][qpi.circuit.Circuit.validate])."""
        self.instructions.append(Instruction(name, qubits, params, ()))

    def input_gate(self, name: str, qubits: tuple[int, ...], input_name: str) -> None:
        """Append a one-parameter gate whose angle is the bare input ``input_name``."""
        self.instructions.append(Instruction(name, qubits, (Param(input_name),), ()))

    def prepare(self, name: str, qubits: tuple[int, ...]) -> tuple[str, tuple[int, ...]]:
        """A token for [`emit`][qpi.qasm3.Builder.emit] (as ``qpi.qasm3.Builder.prepare``)."""
        return (name, qubits)

    def emit(self, item: Any) -> None:
        """Append a prepared gate (as ``qpi.qasm3.Builder.emit``).

        ``item`` is the token of [`prepare`][qpi.qasm3.Builder.prepare], or ``(token, input_name)``
        for a gate whose
        one angle is that input.
        """
        if type(item[0]) is tuple:
            (name, qubits), input_name = item
            self.instructions.append(Instruction(name, qubits, (Param(input_name),), ()))
        else:
            self.instructions.append(Instruction(item[0], item[1], (), ()))

    def reset(self, qubit: int) -> None:
        """Append ``reset q[qubit];``."""
        self.instructions.append(Instruction("reset", (qubit,), (), ()))

    def open_block(self, kind: str, clbits: tuple[int, ...] = (), value: int = 0) -> None:
        """Open an ``if`` or ``while`` block on ``clbits`` reading ``value``, or ``else``.

        ``clbits`` are the condition's bits, least significant first.
        """
        params: tuple[ParamValue, ...] = () if kind == "else" else (value,)
        self.instructions.append(Instruction(kind, (), params, tuple(clbits)))

    def close_block(self) -> None:
        """Close the innermost open block."""
        self.instructions.append(Instruction("end", (), (), ()))

    def loop_jump(self, kind: str) -> None:
        """``break`` or ``continue`` the innermost ``while``."""
        self.instructions.append(Instruction(kind, (), (), ()))

    def barrier(self, qubits: tuple[int, ...] = ()) -> None:
        """Append a barrier on ``qubits`` (on every qubit when empty)."""
        self.instructions.append(Instruction("barrier", tuple(qubits), (), ()))

    # -- queries --------------------------------------------------------------------------------

    def input_names(self) -> list[str]:
        """The free inputs in row order: `parameters`, or first use in the instructions."""
        if self.parameters is not None:
            return list(self.parameters)
        seen: dict[str, None] = {}
        for inst in self.instructions:
            for value in inst.params:
                if isinstance(value, Expr):
                    for name in sorted(value.parameters()):
                        seen.setdefault(name, None)
        return list(seen)

    def has_measurements(self) -> bool:
        """Whether any instruction is a ``measure``."""
        return any(inst.name == "measure" for inst in self.instructions)

    def validate(self) -> None:
        """Check the circuit is well formed and carries only what the wire can carry.

        Raises:
            ValidationError: Naming the first offending instruction and what to change.
        """
        if not isinstance(self.num_qubits, int) or self.num_qubits < 1:
            raise ValidationError(f"a circuit needs at least one qubit, got {self.num_qubits!r}")
        if not isinstance(self.num_clbits, int) or self.num_clbits < 0:
            raise ValidationError(f"num_clbits must be >= 0, got {self.num_clbits!r}")
        declared = set(self.parameters) if self.parameters is not None else None
        if self.parameters is not None:
            if not all(isinstance(name, str) and name for name in self.parameters):
                raise ValidationError(
                    f"parameter names must be non-empty strings: {list(self.parameters)}"
                )
            if len(declared) != len(self.parameters):  # type: ignore[arg-type]
                raise ValidationError(f"parameter names must be unique: {list(self.parameters)}")
        for pos, inst in enumerate(self.instructions):
            _validate_instruction(pos, inst, self.num_qubits, self.num_clbits, declared)
        _validate_blocks(self.instructions)

    def __len__(self) -> int:
        return len(self.instructions)


def _validate_instruction(
    pos: int, inst: Instruction, num_qubits: int, num_clbits: int, declared: set[str] | None
) -> None:
    where = f"instruction {pos} ({inst.name})"
    if inst.name in GATES:
        nq, np_ = GATES[inst.name]
        if len(inst.qubits) != nq or len(inst.params) != np_:
            raise ValidationError(
                f"{where}: {inst.name} takes {nq} qubit(s) and {np_} parameter(s), "
                f"got {len(inst.qubits)} and {len(inst.params)}"
            )
        if inst.clbits:
            raise ValidationError(f"{where}: a gate writes no clbits")
    elif inst.name == "measure":
        if len(inst.qubits) != 1 or len(inst.clbits) != 1:
            raise ValidationError(f"{where}: measure takes one qubit and one clbit")
    elif inst.name in ("reset", "barrier"):
        if inst.params or inst.clbits or (inst.name == "reset" and len(inst.qubits) != 1):
            raise ValidationError(f"{where}: {inst.name} takes qubits only (reset: one)")
    elif inst.name in ("if", "while"):
        value = inst.params[0] if len(inst.params) == 1 else None
        if inst.qubits or not inst.clbits or type(value) is not int:
            raise ValidationError(f"{where}: {inst.name} takes condition clbits and one integer")
        if not 0 <= value < 2 ** len(inst.clbits):
            raise ValidationError(
                f"{where}: {len(inst.clbits)} condition bit(s) cannot read {value}"
            )
    elif inst.name in CONTROL:
        if inst.qubits or inst.params or inst.clbits:
            raise ValidationError(f"{where}: {inst.name} takes no operands")
    else:
        raise ValidationError(
            f"{where}: {inst.name!r} is not an OpenQASM 3 stdgates.inc gate; decompose it into "
            f"{', '.join(sorted(GATES))} before sending"
        )
    for q in inst.qubits:
        if isinstance(q, bool) or not isinstance(q, int) or not 0 <= q < num_qubits:
            raise ValidationError(f"{where}: qubit {q!r} is outside 0..{num_qubits - 1}")
    if len(set(inst.qubits)) != len(inst.qubits):
        raise ValidationError(f"{where}: the same qubit appears twice in {inst.qubits}")
    for c in inst.clbits:
        if isinstance(c, bool) or not isinstance(c, int) or not 0 <= c < num_clbits:
            raise ValidationError(f"{where}: clbit {c!r} is outside 0..{num_clbits - 1}")
    for value in inst.params:
        if isinstance(value, Expr):
            if declared is not None and not value.parameters() <= declared:
                missing = sorted(value.parameters() - declared)
                raise ValidationError(f"{where}: inputs {missing} are not in circuit.parameters")
        elif isinstance(value, bool) or not isinstance(value, int | float):
            raise ValidationError(
                f"{where}: parameter {value!r} must be a number or an Expr, "
                f"not {type(value).__name__}"
            )
        elif not math.isfinite(value):
            raise ValidationError(f"{where}: parameter {value!r} is not finite")


def _validate_blocks(instructions: Sequence[Instruction]) -> None:
    """Check that blocks nest: all closed, ``else`` in an ``if``, jumps inside a ``while``."""
    open_blocks: list[str] = []
    for pos, inst in enumerate(instructions):
        name = inst.name
        if name in ("if", "while"):
            open_blocks.append(name)
        elif name == "else":
            if not open_blocks or open_blocks[-1] != "if":
                raise ValidationError(f"instruction {pos} (else): no open if block to switch")
            open_blocks[-1] = "else"
        elif name == "end":
            if not open_blocks:
                raise ValidationError(f"instruction {pos} (end): no open block to close")
            open_blocks.pop()
        elif name in ("break", "continue") and "while" not in open_blocks:
            raise ValidationError(f"instruction {pos} ({name}): not inside a while block")
    if open_blocks:
        raise ValidationError(f"{len(open_blocks)} control-flow block(s) left open")
