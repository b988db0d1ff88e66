"""The canonical OpenQASM 3 writer: a [`Builder`][qpi.qasm3.Builder] fed one instruction at a time.

[`write`][qpi.qasm3.write] feeds a [`Circuit`][qpi.circuit.Circuit] to a
[`Builder`][qpi.qasm3.Builder]; converters of large
native circuits (the Qiskit plugin) feed theirs straight in, skipping the intermediate
``Circuit``. Either way the text is the same, byte for byte.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from types import MappingProxyType
from typing import Any

from qpi.circuit import CONTROL, GATES, Circuit, Expr, Instruction, ParamValue
from qpi.errors import ValidationError
from qpi.payload import CircuitPayload, canonical_json
from qpi.perf import gc_paused
from qpi.qasm3._expressions import Invalid, expression_text

__all__ = ["META_PREFIX", "Builder", "Program", "dumps", "to_payload", "write"]

#: Start of the comment line that carries a circuit's name and metadata.
META_PREFIX = "// qpi:meta "

_HEADER = ("OPENQASM 3.0;", 'include "stdgates.inc";')

# Per gate: (qubits, parameters, "name " for a bare call, "name(" for a parametric one).
_GATE_TEXT: Mapping[str, tuple[int, int, str, str]] = MappingProxyType(
    {name: (nq, np_, f"{name} ", f"{name}(") for name, (nq, np_) in GATES.items()}
)


@dataclass(frozen=True)
class Program:
    """An OpenQASM 3 program as the SDK sends it.

    Attributes:
        text: The OpenQASM 3 program.
        inputs: The program's ``input`` names, in row order. Row order, sorted order and
            declaration order are the same, so the QPU driver binds rows correctly.
        parameters: The circuit's own input names, in the same order as
            [`inputs`][qpi.qasm3.Program.inputs]
            (``parameters[i]`` was renamed to ``inputs[i]``).
    """

    text: str
    inputs: tuple[str, ...]
    parameters: tuple[str, ...]


class Builder:
    """Builds the canonical program text one instruction at a time.

    Each method checks its instruction and raises [`ValidationError`][qpi.errors.ValidationError]
    naming
    it (by position) and what is wrong. Inputs are referred to by the circuit's own names;
    [`build`][qpi.qasm3.Builder.build] renames them ``p0, p1, ...`` in the order it is given (by
    default, the order
    of first use, as [`Circuit.input_names`][qpi.circuit.Circuit.input_names] does).

    Args:
        num_qubits: Qubits of the program (at least 1).
        num_clbits: Classical bits of its single register ``c``.

    Attributes:
        emit: Adds a gate [`prepare`][qpi.qasm3.Builder.prepare] checked: ``emit(prepared)`` for a
            gate without
            parameters, ``emit((prepared, input_name))`` for a one-parameter gate whose angle
            is that input. It is the line list's own ``append``: the cheapest call there is,
            for converters that stream tens of thousands of gates.

    Example:
        ```python
        b = Builder(2, 2)
        b.gate("h", (0,))
        b.input_gate("rz", (1,), "theta")
        b.measure(0, 0)
        program = b.build()  # program.inputs == ("p0",), program.parameters == ("theta",)
        ```
    """

    def __init__(self, num_qubits: int, num_clbits: int = 0) -> None:
        for what, value, least in (("num_qubits", num_qubits, 1), ("num_clbits", num_clbits, 0)):
            if type(value) is not int or value < least:
                raise ValidationError(f"{what} must be an integer >= {least}, got {value!r}")
        self.num_qubits = num_qubits
        self.num_clbits = num_clbits
        # Finished lines, and for lines naming inputs: (prefix, params or input name, operands),
        # rendered by build() once the inputs' wire names are known.
        self._lines: list[Any] = []
        self.emit = self._lines.append
        self._scanned: tuple[int, list[str], list[int]] = (0, [], [])  # see _scan
        self._operands: dict[tuple[int, ...], str] = {}
        self._plain: dict[tuple[str, tuple[int, ...]], str] = {}  # checked bare-gate lines
        self._heads: dict[tuple[str, tuple[int, ...]], tuple[str, str]] = {}  # ("rx(", ops)
        self._blocks: list[str] = []  # the open control-flow blocks, innermost last

    # -- instructions ---------------------------------------------------------------------------

    def gate(self, name: str, qubits: tuple[int, ...], params: tuple[ParamValue, ...] = ()) -> None:
        """Add a ``stdgates.inc`` gate; parameters are numbers or [`Expr`][qpi.circuit.Expr]."""
        if not params:
            try:  # the whole line, once checked, is remembered per (gate, qubits)
                self._lines.append(self._plain[name, qubits])
            except (KeyError, TypeError):
                self._lines.append(self._new_plain(name, qubits))
            return
        if len(params) == 1 and type(params[0]) is Expr and params[0].op == "param":
            self.input_gate(name, qubits, params[0].args[0])  # type: ignore[arg-type]
            return
        spec = _GATE_TEXT.get(name)
        if spec is None or len(qubits) != spec[0] or len(params) != spec[1]:
            self._fail(name, _arity_problem(name, len(qubits), len(params)))
        ops = self._operands.get(qubits) if type(qubits) is tuple else None
        if ops is None:
            ops = self._new_operands(name, qubits)
        if all(type(v) is float and v - v == 0.0 for v in params):  # finite floats
            self._lines.append(f"{spec[3]}{', '.join([repr(v) for v in params])}) {ops}")
        else:
            self._parametric(name, spec[3], params, ops)

    def input_gate(self, name: str, qubits: tuple[int, ...], input_name: str) -> None:
        """Add a one-parameter gate whose angle is the bare input ``input_name``.

        The same as ``gate(name, qubits, (Param(input_name),))``, without building the
        expression: the hot path of converting a large parametric circuit.
        """
        # Kept lean on purpose: it runs once per parametric gate of circuits that may have
        # tens of thousands. The (gate, qubits) head is checked once; names in build().
        try:
            head = self._heads[name, qubits]
        except (KeyError, TypeError):
            head = self._new_head(name, qubits)
        self._lines.append((head, input_name))

    def prepare(self, name: str, qubits: tuple[int, ...]) -> Any:
        """Check a gate on ``qubits`` once, for `emit` to add again and again.

        A converter that meets the same gate on the same qubits many times (a layered ansatz)
        prepares it once and then adds it at the cost of one list append.

        Returns:
            An opaque token for [`emit`][qpi.qasm3.Builder.emit].
        """
        spec = _GATE_TEXT.get(name)
        if spec is None or len(qubits) != spec[0] or spec[1] > 1:
            self._fail(name, _arity_problem(name, len(qubits), spec[1] if spec else 0))
        if spec[1] == 0:
            return self._plain.get((name, qubits)) or self._new_plain(name, qubits)
        return self._heads.get((name, qubits)) or self._new_head(name, qubits)

    def _new_plain(self, name: str, qubits: tuple[int, ...]) -> str:
        spec = _GATE_TEXT.get(name)
        if spec is None or len(qubits) != spec[0] or spec[1] != 0:
            self._fail(name, _arity_problem(name, len(qubits), 0))
        line = self._plain[name, qubits] = spec[2] + self._new_operands(name, qubits)
        return line

    def _new_head(self, name: str, qubits: tuple[int, ...]) -> tuple[str, str]:
        spec = _GATE_TEXT.get(name)
        if spec is None or len(qubits) != spec[0] or spec[1] != 1:
            self._fail(name, _arity_problem(name, len(qubits), 1))
        head = self._heads[name, qubits] = (spec[3], ") " + self._new_operands(name, qubits))
        return head

    def measure(self, qubit: int, clbit: int) -> None:
        """Add ``c[clbit] = measure q[qubit];``."""
        ops = self._operands.get((qubit,)) or self._new_operands("measure", (qubit,))
        if type(clbit) is not int or not 0 <= clbit < self.num_clbits:
            self._fail("measure", f"clbit {clbit!r} is outside 0..{self.num_clbits - 1}")
        self._lines.append(f"c[{clbit}] = measure {ops}")

    def reset(self, qubit: int) -> None:
        """Add ``reset q[qubit];``."""
        ops = self._operands.get((qubit,)) or self._new_operands("reset", (qubit,))
        self._lines.append(f"reset {ops}")

    def barrier(self, qubits: tuple[int, ...] = ()) -> None:
        """Add a barrier on ``qubits`` (on every qubit when empty)."""
        if not qubits:
            self._lines.append("barrier;")
            return
        try:
            ops = self._operands[qubits]
        except (KeyError, TypeError):
            ops = self._new_operands("barrier", qubits)
        self._lines.append(f"barrier {ops}")

    # -- classical control flow -----------------------------------------------------------------

    def open_block(self, kind: str, clbits: tuple[int, ...] = (), value: int = 0) -> None:
        """Open ``if (condition) {`` or ``while (condition) {``, or switch an ``if`` to ``else``.

        The condition reads ``clbits`` (least significant first) as the integer ``value``. It
        is written as OpenQASM 3 that Qiskit's importer (the QPI driver's loader) reads: one
        bit (``c[3]``, ``!c[3]``) or the whole register (``c == 5``); conditions on other
        groups of bits must be split into nested single-bit blocks by the caller.
        """
        if kind == "else":
            if not self._blocks or self._blocks[-1] != "if":
                self._fail("else", "there is no open if block to switch to its else branch")
            self._blocks[-1] = "else"
            self._lines.append("} else {")
            return
        if kind not in ("if", "while"):
            self._fail(kind, "a block is opened by if, while or else")
        self._lines.append(f"{kind} ({self._condition(kind, clbits, value)}) {{")
        self._blocks.append(kind)

    def close_block(self) -> None:
        """Close the innermost open block (``}``)."""
        if not self._blocks:
            self._fail("end", "there is no open block to close")
        self._blocks.pop()
        self._lines.append("}")

    def loop_jump(self, kind: str) -> None:
        """``break;`` or ``continue;`` out of the innermost ``while``."""
        if kind not in ("break", "continue") or "while" not in self._blocks:
            self._fail(kind, "break and continue belong inside a while block")
        self._lines.append(f"{kind};")

    def _condition(self, kind: str, clbits: tuple[int, ...], value: int) -> str:
        if type(clbits) is not tuple or not clbits:
            self._fail(kind, "a condition needs at least one clbit")
        for bit in clbits:
            if type(bit) is not int or not 0 <= bit < self.num_clbits:
                self._fail(kind, f"condition clbit {bit!r} is outside 0..{self.num_clbits - 1}")
        if type(value) is not int or not 0 <= value < 2 ** len(clbits):
            self._fail(kind, f"{len(clbits)} condition bit(s) cannot read {value!r}")
        if len(clbits) == 1:
            return f"c[{clbits[0]}]" if value else f"!c[{clbits[0]}]"
        if clbits != tuple(range(self.num_clbits)):
            self._fail(
                kind,
                f"a condition on clbits {list(clbits)} is neither one bit nor the whole "
                "register; split it into one-bit conditions",
            )
        return f"c == {value}"

    def add(self, inst: Instruction) -> None:
        """Add one [`Instruction`][qpi.circuit.Instruction] of the neutral form."""
        try:
            name, qubits, params, clbits = inst
        except (TypeError, ValueError):
            self._fail(getattr(inst, "name", "?"), "expected (name, qubits, params, clbits)")
        if type(qubits) is not tuple or type(params) is not tuple or type(clbits) is not tuple:
            self._fail(name, "qubits, params and clbits must be tuples")
        if name in _GATE_TEXT:
            if clbits:
                self._fail(name, "a gate writes no clbits")
            self.gate(name, qubits, params)
        elif name == "measure":
            if len(qubits) != 1 or len(clbits) != 1 or params:
                self._fail(name, "measure takes one qubit and one clbit")
            self.measure(qubits[0], clbits[0])
        elif name == "reset" and len(qubits) == 1 and not params and not clbits:
            self.reset(qubits[0])
        elif name == "barrier" and not params and not clbits:
            self.barrier(qubits)
        elif name in ("if", "while") and not qubits and len(params) == 1:
            self.open_block(name, clbits, params[0])  # type: ignore[arg-type]
        elif name in CONTROL and not (qubits or params or clbits):
            if name == "end":
                self.close_block()
            elif name == "else":
                self.open_block(name)
            else:
                self.loop_jump(name)
        else:
            self._fail(name, f"{name!r} is not a gate of stdgates.inc or a directive")

    # -- the program ----------------------------------------------------------------------------

    def inputs_in_use(self) -> list[str]:
        """The inputs the instructions so far refer to, in order of first use."""
        return list(self._scan()[1])

    def _scan(self) -> tuple[int, list[str], list[int]]:
        """(lines scanned, inputs in order of first use, positions of lines naming inputs).

        Done once per batch of lines rather than on every add, to keep adding cheap.
        """
        done, names, positions = self._scanned
        lines = self._lines
        if done == len(lines):
            return self._scanned
        seen = dict.fromkeys(names)
        positions = list(positions)
        for index in range(done, len(lines)):
            line = lines[index]
            if type(line) is str:
                continue
            positions.append(index)
            if len(line) == 2:  # ((prefix, operands), input name)
                seen[line[1]] = None
                continue
            for value in line[1]:
                if isinstance(value, Expr):
                    if value.op == "param":
                        seen[value.args[0]] = None  # type: ignore[index]
                    else:
                        seen.update(dict.fromkeys(sorted(value.parameters())))
        self._scanned = (len(lines), list(seen), positions)
        return self._scanned

    def build(
        self,
        inputs: Sequence[str] | None = None,
        *,
        name: str | None = None,
        metadata: Mapping[str, Any] | None = None,
    ) -> Program:
        """Finish the program.

        Args:
            inputs: The inputs in row order (each renamed ``p<i>``); ``None`` for the order of
                first use. Every input an instruction names must be among them; extra ones are
                declared all the same.
            name: The circuit's name, carried (with ``metadata``) in a ``// qpi:meta`` comment.
            metadata: JSON-serialisable data to carry along.

        Returns:
            The program, its wire input names and the circuit's names in the same order.

        Raises:
            ValidationError: If an instruction names an input missing from ``inputs``, the
                names are not unique non-empty strings, or the metadata is not JSON.
        """
        if self._blocks:
            self._fail(self._blocks[-1], f"{len(self._blocks)} control-flow block(s) left open")
        _, used, _ = self._scan()
        names = _checked_names(used if inputs is None else inputs)
        if inputs is not None and not set(used) <= set(names):
            missing = [n for n in used if n not in set(names)]
            raise ValidationError(f"inputs {missing} are used but not in circuit.parameters")
        wire = _wire_names(len(names))
        body = self._rendered(dict(zip(names, wire, strict=True)))
        lines = list(_HEADER)
        meta = _meta_line(name, metadata)
        if meta is not None:
            lines.append(meta)
        if wire:  # one join, not one f-string per input: circuits may have tens of thousands
            lines.append("input float[64] " + ";\ninput float[64] ".join(wire) + ";")
        if self.num_clbits:
            lines.append(f"bit[{self.num_clbits}] c;")
        lines.append(f"qubit[{self.num_qubits}] q;")
        lines.extend(body)
        lines.append("")  # the text ends with a newline
        return Program("\n".join(lines), tuple(wire), tuple(names))

    # -- internals ------------------------------------------------------------------------------

    def _new_operands(self, name: str, qubits: tuple[int, ...]) -> str:
        """``"q[0], q[1];"`` for a qubit tuple, checked once and remembered."""
        if type(qubits) is tuple and qubits in self._operands:
            return self._operands[qubits]
        if type(qubits) is not tuple:
            self._fail(name, f"qubits must be a tuple of indices, got {qubits!r}")
        for q in qubits:
            if type(q) is not int or not 0 <= q < self.num_qubits:
                self._fail(name, f"qubit {q!r} is outside 0..{self.num_qubits - 1}")
        if len(set(qubits)) != len(qubits):
            self._fail(name, f"the same qubit appears twice in {qubits}")
        text = self._operands[qubits] = ", ".join([f"q[{q}]" for q in qubits]) + ";"
        return text

    def _parametric(self, name: str, prefix: str, params: tuple[Any, ...], ops: str) -> None:
        uses_inputs = False
        for value in params:
            if isinstance(value, Expr):
                uses_inputs = True
            elif isinstance(value, bool) or not isinstance(value, int | float):
                self._fail(name, f"parameter {value!r} must be a finite number or an Expr")
            elif not math.isfinite(value):
                self._fail(name, f"parameter {value!r} is not finite")
        if uses_inputs:
            self._lines.append((prefix, params, ops))
        else:
            self._lines.append(f"{prefix}{', '.join([repr(float(v)) for v in params])}) {ops}")

    def _rendered(self, rename: dict[str, str]) -> list[str]:
        """The body with every input-naming line rendered under ``rename``."""
        lines = list(self._lines)
        texts: dict[int, str] = {}  # expression text by object identity (shared subtrees)
        for index in self._scan()[2]:
            line = lines[index]
            if len(line) == 2:  # input_gate: ((prefix, operands), input name)
                head, input_name = line
                lines[index] = head[0] + rename[input_name] + head[1]
                continue
            prefix, params, ops = line
            parts = []
            for value in params:
                if isinstance(value, Expr):
                    text = texts.get(id(value))
                    if text is None:
                        try:
                            text = texts[id(value)] = expression_text(value, rename)
                        except Invalid as exc:
                            self._fail(prefix[:-1], exc.detail, position=index)
                    parts.append(text)
                else:
                    parts.append(repr(float(value)))
            lines[index] = f"{prefix}{', '.join(parts)}) {ops}"
        return lines

    def _fail(self, name: str, detail: str, *, position: int | None = None) -> Any:
        where = len(self._lines) if position is None else position
        raise ValidationError(f"instruction {where} ({name!r}): {detail}")


def write(circuit: Circuit) -> Program:
    """Serialise a circuit to canonical OpenQASM 3.

    The circuit is validated on the way; a problem is explained by
    [`Circuit.validate`][qpi.circuit.Circuit.validate]'s message when that finds it.

    Args:
        circuit: The circuit to write.

    Returns:
        The program text with its wire input names and the circuit's own names.

    Raises:
        ValidationError: If the circuit is not well formed, names inputs it does not declare,
            or a constant expression divides by zero or overflows.
    """
    try:
        builder = Builder(circuit.num_qubits, circuit.num_clbits)
        with gc_paused():
            add = builder.add
            for inst in circuit.instructions:
                add(inst)
        inputs = None if circuit.parameters is None else list(circuit.parameters)
        return builder.build(inputs, name=circuit.name, metadata=circuit.metadata)
    except ValidationError:
        circuit.validate()  # the standard message, when it finds the problem
        raise


def dumps(circuit: Circuit) -> str:
    """The OpenQASM 3 text of a circuit: ``write(circuit).text``.

    Args:
        circuit: The circuit to write.

    Returns:
        The canonical program text.

    Raises:
        ValidationError: As [`write`][qpi.qasm3.write].
    """
    return write(circuit).text


def to_payload(
    circuit: Circuit | Program,
    parameter_values: Sequence[Sequence[float]] | Mapping[str, Any] | None = None,
    shots: int | None = None,
) -> CircuitPayload:
    """Write a circuit (or take a written program) and pair it with its parameter rows.

    Args:
        circuit: The circuit to send, or a [`Program`][qpi.qasm3.Program] already written.
        parameter_values: Rows of input values, one experiment per row, each in
            ``circuit.input_names()`` (``program.parameters``) order. A mapping
            ``{name: value}`` gives one row, and ``{name: [values...]}`` one row per position;
            keys must be the circuit's inputs.
        shots: Shots for this circuit (``None``: the job's).

    Returns:
        The validated payload entry; its ``inputs`` are the wire names.

    Raises:
        ValidationError: If the circuit is invalid or the rows do not fit its inputs.
    """
    program = circuit if isinstance(circuit, Program) else write(circuit)
    names = list(program.parameters)
    rows = _rows_from(parameter_values, program.parameters)
    payload = CircuitPayload(program.text, rows, shots, inputs=program.inputs)
    # Checked here first so the messages name the circuit's own inputs, not p0, p1, ...
    if names and not payload.parameter_values:
        raise ValidationError(
            f"the circuit has {len(names)} input(s) {names} but no parameter_values; give one "
            "row of values per experiment"
        )
    for number, row in enumerate(payload.parameter_values or ()):
        if len(row) != len(names):
            raise ValidationError(
                f"parameter row {number} has {len(row)} value(s) but the circuit has "
                f"{len(names)} input(s) {names}; give one value per input, in that order"
            )
    payload.validate()
    return payload


def _rows_from(values: Any, names: tuple[str, ...]) -> Any:
    """Rows in ``names`` order from a list of rows or a ``{name: value(s)}`` mapping."""
    if not isinstance(values, Mapping):
        return values
    if set(values) != set(names):
        raise ValidationError(
            f"parameter_values names {sorted(values)} do not match the circuit's inputs "
            f"{sorted(names)}"
        )
    columns = [values[name] for name in names]
    if all(isinstance(v, int | float) or not hasattr(v, "__len__") for v in columns):
        return [columns]
    try:
        return [list(row) for row in zip(*columns, strict=True)]
    except (TypeError, ValueError):
        raise ValidationError(
            "parameter_values as a mapping must give every input one number, or every input "
            "a list of the same length"
        ) from None


def _checked_names(inputs: Iterable[str]) -> list[str]:
    names = list(inputs)
    unique = set(names) if all(map(str.__instancecheck__, names)) else None
    if unique is None or "" in unique:
        bad = next(name for name in names if not isinstance(name, str) or not name)
        raise ValidationError(f"input names must be non-empty strings, got {bad!r}")
    if len(unique) != len(names):
        raise ValidationError(f"parameter names must be unique: {names}")
    return names


def _wire_names(count: int) -> list[str]:
    """``p0..p9``, or ``p00..p99`` and so on: zero-padded so sorted order is numeric order."""
    width = len(str(count - 1)) if count > 1 else 1
    return list(map(f"p%0{width}d".__mod__, range(count)))


def _meta_line(name: str | None, metadata: Mapping[str, Any] | None) -> str | None:
    if not name and not metadata:
        return None
    if metadata is not None and not isinstance(metadata, Mapping):
        raise ValidationError(f"circuit metadata must be a dict, got {type(metadata).__name__}")
    meta = dict(metadata or {})
    if name:
        meta["name"] = name
    try:
        return META_PREFIX + canonical_json(meta)
    except (TypeError, ValueError) as exc:
        raise ValidationError(
            f"circuit name and metadata must be JSON-serialisable (finite numbers, strings, "
            f"lists, dicts): {exc}"
        ) from None


def _arity_problem(name: str, num_qubits: int, num_params: int) -> str:
    spec = GATES.get(name)
    if spec is None:
        return (
            f"{name!r} is not an OpenQASM 3 stdgates.inc gate; decompose it into "
            f"{', '.join(sorted(GATES))} before sending"
        )
    return (
        f"{name} takes {spec[0]} qubit(s) and {spec[1]} parameter(s), got {num_qubits} and "
        f"{num_params}"
    )
