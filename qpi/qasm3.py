"""OpenQASM 3 for the neutral circuit form: a canonical writer and a parser for its subset.

:func:`write` turns a :class:`~qpi.circuit.Circuit` into the exact text the SDK sends. The
text is canonical: equal circuits give equal text, byte for byte, so payload fingerprints (and
cache hits) do not depend on how a circuit was built. Inputs are renamed ``p0, p1, ...``
(zero-padded, so their sorted order is their row order, which is how the QPU driver binds
rows), numbers are printed as the shortest string that reads back to the same float, and
constant sub-expressions are folded.

:func:`parse` reads that text back, and the hand-written subset people commonly send:
register declarations, ``input`` parameters, the gates of ``stdgates.inc``, ``measure``,
``reset`` and ``barrier``, with arithmetic parameter expressions. Valid OpenQASM outside the
subset raises :class:`QasmUnsupportedError`, so a caller can fall back to a full
implementation (``qiskit.qasm3.loads``); malformed text raises :class:`QasmSyntaxError`
naming the line and column.

Example:
    ```python
    from qpi.circuit import Circuit, Param
    from qpi import qasm3

    bell = Circuit(2, 2).append("h", [0]).append("cx", [0, 1])
    bell.append("rz", [1], [Param("theta")]).measure(0, 0).measure(1, 1)
    print(qasm3.dumps(bell))
    assert qasm3.dumps(qasm3.parse(qasm3.dumps(bell))) == qasm3.dumps(bell)
    ```
"""

from __future__ import annotations

import gc
import json
import math
import re
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from types import MappingProxyType
from typing import Any, NoReturn

from qpi.circuit import GATES, Circuit, Expr, Instruction, Param, ParamValue
from qpi.errors import ValidationError
from qpi.payload import CircuitPayload, canonical_json

__all__ = [
    "META_PREFIX",
    "Program",
    "QasmError",
    "QasmSyntaxError",
    "QasmUnsupportedError",
    "dumps",
    "parse",
    "to_payload",
    "write",
]

#: Start of the comment line that carries a circuit's name and metadata.
META_PREFIX = "// qpi:meta "

_HEADER = ("OPENQASM 3.0;", 'include "stdgates.inc";')

# Per gate: (qubits, parameters, "name " for a bare call, "name(" for a parametric one).
_GATE_TEXT: Mapping[str, tuple[int, int, str, str]] = MappingProxyType(
    {name: (nq, np_, f"{name} ", f"{name}(") for name, (nq, np_) in GATES.items()}
)

# Operator precedence when printing and parsing expressions; atoms bind tightest.
_PRECEDENCE: Mapping[str, int] = MappingProxyType({"+": 1, "-": 1, "*": 2, "/": 2, "neg": 3})
_ATOM = 4


@dataclass(frozen=True)
class Program:
    """An OpenQASM 3 program as the SDK sends it.

    Attributes:
        text: The OpenQASM 3 program.
        inputs: The program's ``input`` names, in row order. Row order, sorted order and
            declaration order are the same, so the QPU driver binds rows correctly.
        parameters: The circuit's own input names, in the same order as :attr:`inputs`
            (``parameters[i]`` was renamed to ``inputs[i]``).
    """

    text: str
    inputs: tuple[str, ...]
    parameters: tuple[str, ...]


# -- errors ------------------------------------------------------------------------------------


class QasmError(ValidationError):
    """OpenQASM text that :func:`parse` cannot turn into a circuit.

    The message starts with ``line:column`` of the offending token.

    Attributes:
        line: 1-based line of the problem (``None`` if not tied to a place).
        column: 1-based column of the problem (``None`` if not tied to a place).
    """

    def __init__(self, message: str, *, line: int | None = None, column: int | None = None):
        if line is not None:
            message = f"{line}:{column}: {message}"
        super().__init__(message)
        self.line = line
        self.column = column

    def __reduce__(self) -> tuple[Any, ...]:
        return (type(self), (str(self),), {"line": self.line, "column": self.column})


class QasmSyntaxError(QasmError):
    """The text is not valid OpenQASM (or refers to something it never declared)."""


class QasmUnsupportedError(QasmError):
    """Valid OpenQASM that is outside the subset :func:`parse` reads.

    Load such programs with a full implementation instead, e.g. ``qiskit.qasm3.loads``.
    """


# -- writer ------------------------------------------------------------------------------------


def write(circuit: Circuit) -> Program:
    """Serialise a circuit to canonical OpenQASM 3.

    The circuit is validated on the way (cheaply: the full :meth:`Circuit.validate` runs only
    to explain a problem).

    Args:
        circuit: The circuit to write.

    Returns:
        The program text with its wire input names and the circuit's own names.

    Raises:
        ValidationError: If the circuit is not well formed, names inputs it does not declare,
            or a constant expression divides by zero or overflows.
    """
    _check_sizes(circuit)
    names = _input_names(circuit)
    wire = _wire_names(len(names))
    lines = list(_HEADER)
    meta = _meta_line(circuit)
    if meta is not None:
        lines.append(meta)
    lines.extend([f"input float[64] {name};" for name in wire])
    if circuit.num_clbits:
        lines.append(f"bit[{circuit.num_clbits}] c;")
    lines.append(f"qubit[{circuit.num_qubits}] q;")
    with _gc_paused():
        _write_body(circuit, dict(zip(names, wire)), lines)
    lines.append("")  # the text ends with a newline
    return Program("\n".join(lines), tuple(wire), tuple(names))


def dumps(circuit: Circuit) -> str:
    """The OpenQASM 3 text of a circuit: ``write(circuit).text``.

    Args:
        circuit: The circuit to write.

    Returns:
        The canonical program text.

    Raises:
        ValidationError: As :func:`write`.
    """
    return write(circuit).text


def to_payload(
    circuit: Circuit,
    parameter_values: Sequence[Sequence[float]] | Mapping[str, Any] | None = None,
    shots: int | None = None,
) -> CircuitPayload:
    """Write a circuit and pair it with its parameter rows, ready for a job.

    Args:
        circuit: The circuit to send.
        parameter_values: Rows of input values, one experiment per row, each in
            ``circuit.input_names()`` order. A mapping ``{name: value}`` gives one row, and
            ``{name: [values...]}`` one row per position; keys must be the circuit's inputs.
        shots: Shots for this circuit (``None``: the job's).

    Returns:
        The validated payload entry; its ``inputs`` are the wire names.

    Raises:
        ValidationError: If the circuit is invalid or the rows do not fit its inputs.
    """
    program = write(circuit)
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


def _check_sizes(circuit: Circuit) -> None:
    for attr, least in (("num_qubits", 1), ("num_clbits", 0)):
        value = getattr(circuit, attr)
        if type(value) is not int or value < least:
            circuit.validate()  # explains it
            raise ValidationError(f"{attr} must be an integer >= {least}, got {value!r}")


def _input_names(circuit: Circuit) -> list[str]:
    """The circuit's inputs in row order (as :meth:`Circuit.input_names`, checked and fast)."""
    if circuit.parameters is not None:
        names = list(circuit.parameters)
        for name in names:
            if not isinstance(name, str) or not name:
                raise ValidationError(f"input names must be non-empty strings, got {name!r}")
        if len(set(names)) != len(names):
            raise ValidationError(f"parameter names must be unique: {names}")
        return names
    seen: dict[str, None] = {}
    for inst in circuit.instructions:
        for value in getattr(inst, "params", ()):
            if isinstance(value, Expr):
                if value.op == "param":
                    seen.setdefault(value.args[0], None)  # type: ignore[arg-type]
                else:
                    for name in sorted(value.parameters()):
                        seen.setdefault(name, None)
    return list(seen)


def _wire_names(count: int) -> list[str]:
    """``p0..p9``, or ``p00..p99`` and so on: zero-padded so sorted order is numeric order."""
    width = len(str(count - 1)) if count > 1 else 1
    return [f"p{i:0{width}d}" for i in range(count)]


def _meta_line(circuit: Circuit) -> str | None:
    if not circuit.name and not circuit.metadata:
        return None
    if circuit.metadata is not None and not isinstance(circuit.metadata, Mapping):
        raise ValidationError(
            f"circuit metadata must be a dict, got {type(circuit.metadata).__name__}"
        )
    meta = dict(circuit.metadata or {})
    if circuit.name:
        meta["name"] = circuit.name
    try:
        return META_PREFIX + canonical_json(meta)
    except (TypeError, ValueError) as exc:
        raise ValidationError(
            f"circuit name and metadata must be JSON-serialisable (finite numbers, strings, "
            f"lists, dicts): {exc}"
        ) from None


class _Invalid(Exception):
    """Raised inside the writer's loop; turned into a ValidationError with a full message."""

    def __init__(self, inst: Any, detail: str) -> None:
        super().__init__(detail)
        self.inst = inst
        self.detail = detail


def _write_body(circuit: Circuit, rename: dict[str, str], lines: list[str]) -> None:
    """Append one line per instruction; the hot loop of :func:`write`."""
    instructions = circuit.instructions
    render = _ParamText(rename)
    operand_cache: dict[tuple[int, ...], str] = {}
    gates = _GATE_TEXT
    num_qubits = circuit.num_qubits
    num_clbits = circuit.num_clbits
    append = lines.append
    inst: Any = None
    try:
        for inst in instructions:
            name, qubits, params, clbits = inst
            ops = operand_cache.get(qubits)
            if ops is None:
                ops = operand_cache[qubits] = _operands(qubits, num_qubits)
            spec = gates.get(name)
            if spec is not None:
                if len(qubits) != spec[0] or len(params) != spec[1] or clbits:
                    raise _Invalid(inst, "wrong number of qubits, parameters or clbits")
                if len(params) == 1:  # most parametric gates; skips a list and a join
                    append(f"{spec[3]}{render(params[0])}) {ops}")
                elif params:
                    append(spec[3] + ", ".join([render(v) for v in params]) + ") " + ops)
                else:
                    append(spec[2] + ops)
            elif name == "measure":
                if len(qubits) != 1 or len(clbits) != 1 or params:
                    raise _Invalid(inst, "measure takes one qubit and one clbit")
                clbit = clbits[0]
                if type(clbit) is not int or not 0 <= clbit < num_clbits:
                    raise _Invalid(inst, f"clbit {clbit!r} is outside 0..{num_clbits - 1}")
                append(f"c[{clbit}] = measure {ops}")
            elif name == "barrier" and not params and not clbits:
                append(f"barrier {ops}" if qubits else "barrier;")
            elif name == "reset" and len(qubits) == 1 and not params and not clbits:
                append(f"reset {ops}")
            else:
                raise _Invalid(inst, f"{name!r} is not a gate of stdgates.inc or a directive")
    except _Invalid as exc:
        _explain(circuit, inst if exc.inst is None else exc.inst, exc.detail)
    except (TypeError, ValueError) as exc:  # e.g. an Instruction built with lists
        _explain(circuit, inst, f"qubits, params and clbits must be tuples ({exc})")


def _operands(qubits: tuple[int, ...], num_qubits: int) -> str:
    """``"q[0], q[1];"`` for a qubit tuple, checking the indices."""
    for q in qubits:
        if type(q) is not int or not 0 <= q < num_qubits:
            raise _Invalid(None, f"qubit {q!r} is outside 0..{num_qubits - 1}")
    if len(set(qubits)) != len(qubits):
        raise _Invalid(None, f"the same qubit appears twice in {qubits}")
    return ", ".join([f"q[{q}]" for q in qubits]) + ";"


def _explain(circuit: Circuit, inst: Any, detail: str) -> NoReturn:
    """Raise the full validation message for a problem the fast path found."""
    circuit.validate()  # raises with the standard message in nearly every case
    where = "an instruction"
    for pos, candidate in enumerate(circuit.instructions):
        if candidate is inst:
            where = f"instruction {pos} ({getattr(inst, 'name', inst)!r})"
            break
    raise ValidationError(f"{where}: {detail}")


class _ParamText:
    """Formats gate parameters, caching expression text by object identity."""

    def __init__(self, rename: dict[str, str]) -> None:
        self._rename = rename
        self._cache: dict[int, str] = {}

    def __call__(self, value: ParamValue) -> str:
        if type(value) is float:
            if value - value == 0.0:  # false for inf and nan
                return repr(value)
        elif isinstance(value, Expr):
            if value.op == "param":
                try:
                    return self._rename[value.args[0]]  # type: ignore[index]
                except KeyError:
                    raise _Invalid(None, f"input {value.args[0]!r} is not declared") from None
            text = self._cache.get(id(value))
            if text is None:
                text = self._cache[id(value)] = _expression_text(value, self._rename)
            return text
        elif (
            isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)
        ):
            return repr(float(value))
        raise _Invalid(None, f"parameter {value!r} is not a finite number or an Expr")


def _expression_text(expr: Expr, rename: Mapping[str, str]) -> str:
    """The text of a whole gate parameter: constants folded, minimal parentheses."""
    node = _render(expr, rename)
    return repr(node) if isinstance(node, float) else node[0]


def _render(node: Expr | float | str, rename: Mapping[str, str]) -> float | tuple[str, int]:
    """A folded constant, or ``(text, precedence)`` of an expression with inputs."""
    if not isinstance(node, Expr):
        return _constant(node)
    op = node.op
    if op == "param":
        try:
            return rename[node.args[0]], _ATOM  # type: ignore[index]
        except KeyError:
            raise _Invalid(None, f"input {node.args[0]!r} is not declared") from None
    if op == "neg":
        inner = _render(node.args[0], rename)
        if isinstance(inner, float):
            return -inner
        text, prec = inner
        # Binary operands need parentheses ("-(p0 * p1)"); "-(-p0)" reads better than "--p0".
        if prec < _PRECEDENCE["neg"] or text.startswith("-"):
            text = f"({text})"
        return "-" + text, _PRECEDENCE["neg"]
    prec = _PRECEDENCE[op]
    left = _render(node.args[0], rename)
    right = _render(node.args[1], rename)
    if isinstance(left, float) and isinstance(right, float):
        return _fold(op, left, right)
    # Left-associative: the right operand needs parentheses at equal precedence too.
    return f"{_operand_text(left, prec)} {op} {_operand_text(right, prec + 1)}", prec


def _operand_text(node: float | tuple[str, int], least: int) -> str:
    if isinstance(node, float):
        text = repr(node)
        return f"({text})" if text.startswith("-") else text
    text, prec = node
    return text if prec >= least else f"({text})"


def _constant(value: Any) -> float:
    if isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value):
        return float(value)
    raise _Invalid(None, f"expression operand {value!r} is not a finite number or an Expr")


def _fold(op: str, left: float, right: float) -> float:
    """Evaluate a constant sub-expression exactly as :meth:`Expr.evaluate` would."""
    try:
        value = _arith(op, left, right)
    except ZeroDivisionError:
        raise _Invalid(None, f"constant expression {left!r} / {right!r} divides by zero") from None
    if not math.isfinite(value):
        raise _Invalid(None, f"constant expression {left!r} {op} {right!r} is not finite")
    return value


def _arith(op: str, left: float, right: float) -> float:
    if op == "+":
        return left + right
    if op == "-":
        return left - right
    if op == "*":
        return left * right
    return left / right


@contextmanager
def _gc_paused() -> Iterator[None]:
    """Pause the cyclic collector: the hot loops allocate many small acyclic objects."""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


# -- tokenizer ---------------------------------------------------------------------------------

# The token patterns, tried in this order at each position (whitespace before a token is
# skipped by the pattern itself). The one capturing group makes ``findall`` return the token
# texts directly, in C; kinds are then read off the texts, and offsets are only recomputed
# when an error needs a line and column.
_TOKEN_PATTERNS: tuple[str, ...] = (
    r"//[^\n]*|/\*.*?\*/",  # comments
    r"/\*",  # a comment that is never closed: an error
    r"(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?",  # numbers
    r"[^\W\d]\w*",  # identifiers, Unicode letters included (π)
    r'"[^"\n]*"' + r"|'[^'\n]*'",  # strings
    r"->|\*\*|==|!=|<=|>=|<<|>>|&&|\|\||\+\+|[-+*/%&|^]=",  # two-character operators
    r"[;,()\[\]{}=+\-*/:@<>!~^&|%$#.]",  # one-character operators
    r"\Z",  # the end, as an empty token
    r"/\*|.",  # anything else: an error
)
_TOKEN = re.compile(r"\s*(" + "|".join(_TOKEN_PATTERNS) + ")", re.S)

_OPERATORS = frozenset(
    ["->", "**", "==", "!=", "<=", ">=", "<<", ">>", "&&", "||", "++", "+=", "-=", "*=", "/=",
     "%=", "&=", "|=", "^=", ";", ",", "(", ")", "[", "]", "{", "}", "=", "+", "-", "*", "/",
     ":", "@", "<", ">", "!", "~", "^", "&", "|", "%", "$", "#", "."]
)  # fmt: skip
_FIRST_CHAR_KIND: Mapping[str, str] = MappingProxyType(
    {
        **{c: "id" for c in "_abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"},
        **{c: "num" for c in "0123456789"},
        '"': "str",
        "'": "str",
    }
)

_END = "<end>"


def _tokenize(text: str) -> tuple[list[str], list[str], list[tuple[str, int]]]:
    """Split ``text`` into token kinds and texts, and collect the ``qpi:meta`` comments.

    Punctuation's kind is its own text (``";"``, ``"->"``), so the parser compares kinds only.
    """
    texts: list[str] = _TOKEN.findall(text)
    while texts and not texts[-1]:  # the empty match(es) at the end
        texts.pop()
    first = _FIRST_CHAR_KIND
    operators = _OPERATORS
    kinds = [t if t in operators else first.get(t[0], "") for t in texts]
    metas: list[tuple[str, int]] = []
    if "" in kinds:  # comments, non-ASCII identifiers, numbers like .5, bad characters
        kinds, texts, metas = _classify_rest(text, kinds, texts)
    # Padding: look-ahead of a few tokens never runs off the end.
    kinds.extend([_END] * 4)
    texts.extend(["end of input"] * 4)
    return kinds, texts, metas


def _classify_rest(
    text: str, kinds: list[str], texts: list[str]
) -> tuple[list[str], list[str], list[tuple[str, int]]]:
    """The slow path of :func:`_tokenize`: drop comments, classify the rare tokens."""
    out_kinds: list[str] = []
    out_texts: list[str] = []
    metas: list[tuple[str, int]] = []
    for index, (kind, token) in enumerate(zip(kinds, texts)):
        if not kind:
            if token.startswith("//") or (token.startswith("/*") and len(token) >= 4):
                if token.startswith(META_PREFIX):
                    metas.append((token[len(META_PREFIX) :], _raw_offsets(text)[index]))
                continue
            if token.isidentifier():
                kind = "id"
            elif token[0] == "." and len(token) > 1:
                kind = "num"
            else:
                raise _syntax_at(text, _raw_offsets(text)[index], _bad_character(token))
        out_kinds.append(kind)
        out_texts.append(token)
    return out_kinds, out_texts, metas


def _raw_offsets(text: str) -> list[int]:
    """Start offset of every token :data:`_TOKEN` finds, comments included."""
    return [match.start(1) for match in _TOKEN.finditer(text)]


def _token_offsets(text: str) -> list[int]:
    """Start offset of every token the parser sees (comments skipped), then the end."""
    offsets = []
    for match in _TOKEN.finditer(text):
        token = match.group(1)
        if not (token.startswith("//") or (token.startswith("/*") and len(token) >= 4)):
            offsets.append(match.start(1))
    return offsets


def _bad_character(value: str) -> str:
    if value == "/*":
        return "unterminated /* comment"
    return f"unexpected character {value!r}"


def _position(text: str, offset: int) -> tuple[int, int]:
    line = text.count("\n", 0, offset) + 1
    column = offset - (text.rfind("\n", 0, offset) + 1) + 1
    return line, column


def _error_at(cls: type[QasmError], text: str, offset: int, message: str) -> QasmError:
    line, column = _position(text, offset)
    return cls(message, line=line, column=column)


def _syntax_at(text: str, offset: int, message: str) -> QasmError:
    return _error_at(QasmSyntaxError, text, offset, message)


# -- parser ------------------------------------------------------------------------------------

#: Valid OpenQASM 3 words that start something outside the subset.
_UNSUPPORTED_WORDS: frozenset[str] = frozenset(
    {
        "gate", "opaque", "def", "defcal", "defcalgrammar", "cal", "extern", "let", "const",
        "if", "else", "for", "while", "switch", "break", "continue", "return", "end", "box",
        "delay", "stretch", "duration", "ctrl", "negctrl", "inv", "pow", "gphase", "qreg",
        "creg", "int", "uint", "float", "angle", "bool", "complex", "array", "output",
        "durationof", "sizeof", "pragma", "readonly", "mutable", "void", "case", "default",
    }
)  # fmt: skip

#: Named constants of OpenQASM 3.
_CONSTANTS: Mapping[str, float] = MappingProxyType(
    {"pi": math.pi, "π": math.pi, "tau": math.tau, "τ": math.tau, "euler": math.e, "ℇ": math.e}
)

_INPUT_TYPES = frozenset({"float", "angle"})


@dataclass
class _Register:
    start: int
    size: int
    scalar: bool  # declared without a size: `qubit q;`


def parse(text: str) -> Circuit:
    """Read an OpenQASM 3 program of the supported subset into a circuit.

    Registers are flattened in declaration order into one qubit and one clbit index space.
    Inputs become :attr:`Circuit.parameters` in sorted order (the order the QPU driver binds
    rows in); gate parameters refer to them by their original names. The ``// qpi:meta``
    comment :func:`write` emits is read back into ``name`` and ``metadata``; classical
    registers other than a single ``c`` are recorded as ``metadata["creg_sizes"]``.

    Args:
        text: The program.

    Returns:
        The circuit.

    Raises:
        QasmSyntaxError: If the text is not valid OpenQASM; the message gives line:column.
        QasmUnsupportedError: If the program is valid but uses something outside the subset
            (gate definitions, control flow, modifiers, OpenQASM 2, ...).
    """
    if not isinstance(text, str):
        raise QasmSyntaxError(f"expected OpenQASM text, got {type(text).__name__}")
    with _gc_paused():
        return _Parser(text).program()


class _Parser:
    """A recursive-descent parser over the token lists of :func:`_tokenize`."""

    def __init__(self, text: str) -> None:
        self.text = text
        self.kinds, self.texts, self.metas = _tokenize(text)
        self.i = 0
        self.qubits: dict[str, _Register] = {}
        self.clbits: dict[str, _Register] = {}
        self.inputs: dict[str, Expr] = {}
        self.num_qubits = 0
        self.num_clbits = 0
        self.stdgates = False
        self.instructions: list[Instruction] = []
        self.statements: Mapping[str, Callable[[], None]] = {
            "include": self.include,
            "input": self.input,
            "qubit": self.qubit,
            "bit": self.bit,
            "measure": self.measure_arrow,
            "reset": self.reset,
            "barrier": self.barrier,
        }

    # -- helpers ---------------------------------------------------------------------------

    def fail(
        self, message: str, at: int | None = None, cls: type[QasmError] = QasmSyntaxError
    ) -> NoReturn:
        """Raise ``cls`` for the token at ``at`` (default: the current one)."""
        offsets = _token_offsets(self.text)  # recomputed only now: errors are rare
        offset = offsets[min(self.i if at is None else at, len(offsets) - 1)]
        raise _error_at(cls, self.text, offset, message)

    def unsupported(self, message: str, at: int | None = None) -> NoReturn:
        self.fail(message, at, QasmUnsupportedError)

    def expect(self, kind: str, what: str) -> str:
        """Consume a token of ``kind`` and return its text, or fail saying ``what`` was due."""
        i = self.i
        if self.kinds[i] != kind:
            self.fail(f"expected {what}, found {self.describe(i)}")
        self.i = i + 1
        return self.texts[i]

    def describe(self, i: int) -> str:
        return self.texts[i] if self.kinds[i] == _END else repr(self.texts[i])

    def integer(self, what: str) -> int:
        i = self.i
        text = self.expect("num", what)
        if not text.isdigit():
            self.fail(f"{what} must be a non-negative integer, found {text!r}", i)
        return int(text)

    def declare(self, name: str, at: int) -> None:
        if name in self.qubits or name in self.clbits or name in self.inputs:
            self.fail(f"{name!r} is already declared", at)
        if name in _CONSTANTS or name in GATES or name in self.statements:
            self.fail(f"{name!r} is a reserved name and cannot be declared", at)

    # -- program ---------------------------------------------------------------------------

    def program(self) -> Circuit:
        self.version()
        kinds = self.kinds
        while kinds[self.i] != _END:
            self.statement()
        return self.circuit()

    def version(self) -> None:
        if self.texts[0] != "OPENQASM" or self.kinds[0] != "id":
            return  # the version statement is optional in OpenQASM 3
        self.i = 1
        at = self.i
        version = self.expect("num", "a version number after OPENQASM")
        if version.split(".")[0] == "2":
            self.unsupported("OpenQASM 2 programs are not supported by this parser", at)
        if version.split(".")[0] != "3":
            self.fail(f"unknown OpenQASM version {version!r}; expected 3 or 3.0", at)
        self.expect(";", "';' after the version")

    def statement(self) -> None:
        i = self.i
        kind = self.kinds[i]
        if kind != "id":
            if kind in ("@", "#"):
                self.unsupported("annotations and pragmas are not supported")
            if kind == "$":
                self.unsupported("physical qubits ($n) are not supported")
            self.fail(f"expected a statement, found {self.describe(i)}")
        word = self.texts[i]
        handler = self.statements.get(word)
        if handler is not None:
            self.i = i + 1
            handler()
        elif word in GATES:
            self.gate_call(word)
        elif word in self.clbits:
            self.measure_assign()
        elif word in _UNSUPPORTED_WORDS:
            self.unsupported(f"{word!r} statements are not supported")
        elif word == "OPENQASM":
            self.fail("the OPENQASM version must be the first statement")
        elif self.kinds[i + 1] in ("(", "id"):
            self.unsupported(f"gate {word!r} is not in stdgates.inc")
        elif word in self.qubits or word in self.inputs:
            self.unsupported(f"assignment to {word!r}: only bit registers receive measurements")
        elif self.kinds[i + 1] in ("=", "[") or self.kinds[i + 1].endswith("="):
            self.fail(f"{word!r} is not declared; declare it (e.g. bit[1] {word};) before use")
        else:
            self.fail(f"unknown statement starting with {word!r}")

    def circuit(self) -> Circuit:
        if self.num_qubits == 0:
            self.unsupported("the program declares no qubits", self.kinds.index(_END))
        name, metadata = self.meta()
        cregs = [[n, r.size] for n, r in self.clbits.items()]
        if cregs and not (len(cregs) == 1 and cregs[0][0] == "c"):
            metadata = {**(metadata or {}), "creg_sizes": cregs}
        return Circuit(
            num_qubits=self.num_qubits,
            num_clbits=self.num_clbits,
            instructions=self.instructions,
            parameters=sorted(self.inputs),
            name=name,
            metadata=metadata,
        )

    def meta(self) -> tuple[str | None, dict | None]:
        if not self.metas:
            return None, None
        body, offset = self.metas[-1]
        try:
            data = json.loads(body)
        except json.JSONDecodeError as exc:
            raise _syntax_at(
                self.text, offset, f"the qpi:meta comment is not JSON: {exc}"
            ) from None
        if not isinstance(data, dict):
            raise _syntax_at(self.text, offset, "the qpi:meta comment must hold a JSON object")
        name = data.pop("name", None) if isinstance(data.get("name"), str) else None
        return name, (data or None)

    # -- declarations ----------------------------------------------------------------------

    def include(self) -> None:
        at = self.i
        path = self.expect("str", "a quoted file name after include")[1:-1]
        if path != "stdgates.inc":
            self.unsupported(f'include "{path}": only "stdgates.inc" is supported', at)
        self.stdgates = True
        self.expect(";", "';' after the include")

    def input(self) -> None:
        at = self.i
        kind = self.expect("id", "a type after input (float[64], float or angle)")
        if kind not in _INPUT_TYPES:
            self.unsupported(f"input of type {kind!r}: only float and angle inputs", at)
        if self.kinds[self.i] == "[":
            self.i += 1
            self.integer("a type width")
            self.expect("]", "']' after the type width")
        at = self.i
        name = self.expect("id", "an input name")
        self.declare(name, at)
        self.inputs[name] = Param(name)
        self.end_declaration()

    def qubit(self) -> None:
        size, name = self.sized_declaration("qubit")
        self.qubits[name] = _Register(self.num_qubits, size or 1, size is None)
        self.num_qubits += size or 1

    def bit(self) -> None:
        size, name = self.sized_declaration("bit")
        self.clbits[name] = _Register(self.num_clbits, size or 1, size is None)
        self.num_clbits += size or 1

    def sized_declaration(self, what: str) -> tuple[int | None, str]:
        size = None
        if self.kinds[self.i] == "[":
            self.i += 1
            at = self.i
            size = self.integer(f"the {what} register size")
            if size == 0:
                self.fail(f"a {what} register needs at least one {what}", at)
            self.expect("]", f"']' after the {what} register size")
        at = self.i
        name = self.expect("id", f"a {what} register name")
        self.declare(name, at)
        self.end_declaration()
        return size, name

    def end_declaration(self) -> None:
        if self.kinds[self.i] == "=":
            self.unsupported("initialised declarations are not supported")
        self.expect(";", "';' after the declaration")

    # -- operands --------------------------------------------------------------------------

    def operand(self, registers: dict[str, _Register], what: str) -> tuple[list[int], bool]:
        """A register or one indexed element: ``(indices, is_whole_register)``."""
        i = self.i
        if self.kinds[i] == "$":
            self.unsupported("physical qubits ($n) are not supported")
        name = self.expect("id", f"a {what} operand")
        register = registers.get(name)
        if register is None:
            self.fail(f"{name!r} is not a declared {what} register", i)
        if self.kinds[self.i] != "[":
            indices = list(range(register.start, register.start + register.size))
            return indices, not register.scalar
        self.i += 1
        at = self.i
        if self.kinds[at] != "num" or self.kinds[at + 1] != "]":
            self.unsupported("only integer literal indices are supported (no slices or sets)")
        index = self.integer("an index")
        self.i += 1
        if index >= register.size:
            self.fail(f"index {index} is out of range for {name!r} of size {register.size}", at)
        return [register.start + index], False

    def broadcast(self, operands: list[tuple[list[int], bool]], at: int) -> list[tuple[int, ...]]:
        """Expand whole-register operands into one qubit tuple per register element."""
        sizes = {len(indices) for indices, whole in operands if whole}
        if len(sizes) > 1:
            self.fail(f"registers of different sizes {sorted(sizes)} in one statement", at)
        count = sizes.pop() if sizes else 1
        groups = [
            tuple(indices[k] if whole else indices[0] for indices, whole in operands)
            for k in range(count)
        ]
        for group in groups:
            if len(set(group)) != len(group):
                self.fail(f"the same qubit is used twice in one gate call {group}", at)
        return groups

    # -- statements ------------------------------------------------------------------------

    def gate_call(self, name: str) -> None:
        at = self.i
        if not self.stdgates and name != "U":  # U is built in; the rest come from stdgates
            self.fail(f'gate {name!r} needs include "stdgates.inc"; add it after the version')
        self.i += 1
        num_qubits, num_params = GATES[name]
        params: tuple[ParamValue, ...] = ()
        if self.kinds[self.i] == "(":
            self.i += 1
            params = self.arguments()
        if len(params) != num_params:
            self.fail(f"{name} takes {num_params} parameter(s), got {len(params)}", at)
        if self.kinds[self.i] == "@":
            self.unsupported("gate modifiers (ctrl @, inv @, pow @) are not supported")
        qubits = self.indexed_qubits()
        if qubits is None:  # whole registers (broadcast) or an error to report
            self.broadcast_call(name, params, num_qubits, at)
            return
        self.expect(";", "';' after the gate call")
        if len(qubits) != num_qubits:
            self.fail(f"{name} acts on {num_qubits} qubit(s), got {len(qubits)} operands", at)
        if num_qubits > 1 and len(set(qubits)) != num_qubits:
            self.fail(f"the same qubit is used twice in one gate call {tuple(qubits)}", at)
        self.instructions.append(Instruction(name, tuple(qubits), params))

    def indexed_qubits(self) -> list[int] | None:
        """The fast path for ``q[i], q[j]``: the flat indices, or ``None`` (position kept)."""
        kinds, texts, registers = self.kinds, self.texts, self.qubits
        i = self.i
        qubits = []
        while True:
            if kinds[i] != "id" or kinds[i + 1] != "[" or kinds[i + 3] != "]":
                return None
            register = registers.get(texts[i])
            index = texts[i + 2]
            if register is None or not index.isdigit() or int(index) >= register.size:
                return None  # the general path reports it
            qubits.append(register.start + int(index))
            i += 4
            if kinds[i] != ",":
                self.i = i
                return qubits
            i += 1

    def broadcast_call(
        self, name: str, params: tuple[ParamValue, ...], num_qubits: int, at: int
    ) -> None:
        operands = [self.operand(self.qubits, "qubit")]
        while self.kinds[self.i] == ",":
            self.i += 1
            operands.append(self.operand(self.qubits, "qubit"))
        self.expect(";", "';' after the gate call")
        if len(operands) != num_qubits:
            self.fail(f"{name} acts on {num_qubits} qubit(s), got {len(operands)} operands", at)
        for qubits in self.broadcast(operands, at):
            self.instructions.append(Instruction(name, qubits, params))

    def arguments(self) -> tuple[ParamValue, ...]:
        values = [self.expression()]
        while self.kinds[self.i] == ",":
            self.i += 1
            values.append(self.expression())
        self.expect(")", "')' after the gate parameters")
        return tuple(values)

    def measure_arrow(self) -> None:
        """``measure q -> c;`` (the word ``measure`` is already consumed)."""
        at = self.i - 1
        source = self.operand(self.qubits, "qubit")
        if self.kinds[self.i] == ";":
            self.unsupported("a measurement whose result is not stored is not supported")
        self.expect("->", "'->' after the measured qubits")
        target = self.operand(self.clbits, "bit")
        self.expect(";", "';' after the measurement")
        self.add_measurements(source, target, at)

    def measure_assign(self) -> None:
        """``c = measure q;`` or ``c[0] = measure q[0];``."""
        at = self.i
        target = self.operand(self.clbits, "bit")
        if self.kinds[self.i] != "=":
            self.unsupported("classical operations on bits are not supported")
        self.i += 1
        if self.texts[self.i] != "measure" or self.kinds[self.i] != "id":
            self.unsupported("classical assignments other than measurements are not supported")
        self.i += 1
        source = self.operand(self.qubits, "qubit")
        self.expect(";", "';' after the measurement")
        self.add_measurements(source, target, at)

    def add_measurements(
        self, source: tuple[list[int], bool], target: tuple[list[int], bool], at: int
    ) -> None:
        if len(source[0]) != len(target[0]):
            self.fail(
                f"measuring {len(source[0])} qubit(s) into {len(target[0])} bit(s); the sizes "
                "must match",
                at,
            )
        append = self.instructions.append
        for qubit, clbit in zip(source[0], target[0]):
            append(Instruction("measure", (qubit,), (), (clbit,)))

    def reset(self) -> None:
        at = self.i - 1
        operands = [self.operand(self.qubits, "qubit")]
        self.expect(";", "';' after reset")
        for qubits in self.broadcast(operands, at):
            self.instructions.append(Instruction("reset", qubits))

    def barrier(self) -> None:
        qubits: list[int] = []
        if self.kinds[self.i] != ";":
            qubits.extend(self.operand(self.qubits, "qubit")[0])
            while self.kinds[self.i] == ",":
                self.i += 1
                qubits.extend(self.operand(self.qubits, "qubit")[0])
        self.expect(";", "';' after barrier")
        # A barrier on overlapping operands is still one barrier over each qubit once.
        self.instructions.append(Instruction("barrier", tuple(dict.fromkeys(qubits))))

    # -- expressions -----------------------------------------------------------------------

    def expression(self) -> ParamValue:
        """``term (('+' | '-') term)*``; constant sub-expressions are folded."""
        left = self.term()
        kinds = self.kinds
        while kinds[self.i] in ("+", "-"):
            at = self.i
            op = kinds[at]
            self.i += 1
            left = self.combine(op, left, self.term(), at)
        return left

    def term(self) -> ParamValue:
        left = self.unary()
        kinds = self.kinds
        while kinds[self.i] in ("*", "/"):
            at = self.i
            op = kinds[at]
            self.i += 1
            left = self.combine(op, left, self.unary(), at)
        return left

    def unary(self) -> ParamValue:
        if self.kinds[self.i] == "-":
            self.i += 1
            value = self.unary()
            return -value if isinstance(value, float) else Expr("neg", (value,))
        value = self.primary()
        if self.kinds[self.i] in ("**", "%", "<<", ">>", "&", "|", "^", "==", "!=", "<", ">"):
            self.unsupported(f"operator {self.texts[self.i]!r} is not supported in parameters")
        return value

    def primary(self) -> ParamValue:
        i = self.i
        kind = self.kinds[i]
        if kind == "num":
            self.i = i + 1
            try:
                value = float(self.texts[i])
            except ValueError:
                self.fail(f"malformed number {self.texts[i]!r}", i)
            return self.finite(value, i)
        if kind == "(":
            self.i = i + 1
            value = self.expression()
            self.expect(")", "')' to close the parenthesis")
            return value
        if kind == "id":
            word = self.texts[i]
            self.i = i + 1
            if self.kinds[i + 1] == "(":
                self.unsupported(f"function calls like {word}(...) are not supported", i)
            expr = self.inputs.get(word)
            if expr is not None:
                return expr
            if word in _CONSTANTS:
                return _CONSTANTS[word]
            self.fail(f"{word!r} is not a declared input or a constant (pi, tau, euler)", i)
        if kind in ("~", "!"):
            self.unsupported(f"operator {kind!r} is not supported in parameters")
        self.fail(f"expected a number, an input or '(', found {self.describe(i)}")

    def combine(self, op: str, left: ParamValue, right: ParamValue, at: int) -> ParamValue:
        if isinstance(left, float) and isinstance(right, float):
            try:
                return self.finite(_arith(op, left, right), at)
            except ZeroDivisionError:
                self.fail("division by zero in a constant expression", at)
        return Expr(op, (left, right))

    def finite(self, value: float, at: int) -> float:
        if not math.isfinite(value):
            self.fail(f"the value {self.texts[at]!r} is not a finite number", at)
        return value
