"""The OpenQASM 3 parser for the subset the SDK writes, and the subset people write by hand."""

from __future__ import annotations

import json
import math
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from types import MappingProxyType
from typing import NoReturn

from qpi.circuit import GATES, Circuit, Expr, Instruction, Param, ParamValue
from qpi.perf import gc_paused
from qpi.qasm3._expressions import arith
from qpi.qasm3.errors import QasmError, QasmLimitError, QasmSyntaxError, QasmUnsupportedError
from qpi.qasm3.limits import DEFAULT_LIMITS, ParseLimits
from qpi.qasm3.writer import META_PREFIX

__all__ = ["parse"]

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
    """The slow path of `_tokenize`: drop comments, classify the rare tokens."""
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
    """Start offset of every token `_TOKEN` finds, comments included."""
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


def parse(text: str, limits: ParseLimits = DEFAULT_LIMITS) -> Circuit:
    """Read an OpenQASM 3 program of the supported subset into a circuit.

    Registers are flattened in declaration order into one qubit and one clbit index space.
    Inputs become [`Circuit.parameters`][qpi.circuit.Circuit.parameters] in sorted order (the order
    the QPU driver binds
    rows in); gate parameters refer to them by their original names. The ``// qpi:meta``
    comment [`write`][qpi.qasm3.write] emits is read back into ``name`` and ``metadata``; classical
    registers other than a single ``c`` are recorded as ``metadata["creg_sizes"]``.

    Args:
        text: The program.
        limits: Sizes the program may not exceed; checked before anything is expanded.

    Returns:
        The circuit.

    Raises:
        QasmSyntaxError: If the text is not valid OpenQASM; the message gives line:column.
        QasmUnsupportedError: If the program is valid but uses something outside the subset
            (gate definitions, control flow, modifiers, OpenQASM 2, ...).
        QasmLimitError: If the registers or the instructions the program expands to go over
            ``limits``.
    """
    if not isinstance(text, str):
        raise QasmSyntaxError(f"expected OpenQASM text, got {type(text).__name__}")
    with gc_paused():
        return _Parser(text, limits).program()


class _Parser:
    """A recursive-descent parser over the token lists of `_tokenize`."""

    def __init__(self, text: str, limits: ParseLimits = DEFAULT_LIMITS) -> None:
        self.text = text
        self.limits = limits
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
        most = self.limits.max_instructions
        while kinds[self.i] != _END:
            at = self.i
            self.statement()
            if len(self.instructions) > most:  # a statement adds at most a register's width
                self.fail(f"the program has more than {most} instructions", at, QasmLimitError)
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
        at = self.i
        size, name = self.sized_declaration("qubit")
        self.qubits[name] = _Register(self.num_qubits, size or 1, size is None)
        self.num_qubits += size or 1
        if self.num_qubits > self.limits.max_qubits:
            self.fail(
                f"the program declares {self.num_qubits} qubits; the limit is "
                f"{self.limits.max_qubits}",
                at,
                QasmLimitError,
            )

    def bit(self) -> None:
        at = self.i
        size, name = self.sized_declaration("bit")
        self.clbits[name] = _Register(self.num_clbits, size or 1, size is None)
        self.num_clbits += size or 1
        if self.num_clbits > self.limits.max_clbits:
            self.fail(
                f"the program declares {self.num_clbits} bits; the limit is "
                f"{self.limits.max_clbits}",
                at,
                QasmLimitError,
            )

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
                return self.finite(arith(op, left, right), at)
            except ZeroDivisionError:
                self.fail("division by zero in a constant expression", at)
        return Expr(op, (left, right))

    def finite(self, value: float, at: int) -> float:
        if not math.isfinite(value):
            self.fail(f"the value {self.texts[at]!r} is not a finite number", at)
        return value
