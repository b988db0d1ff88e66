"""How big an OpenQASM program is once expanded, counted without expanding it.

[`check_bounds`][qpi.qasm3.check_bounds] reads the tokens of any OpenQASM 2 or 3 program (the
full language, not only the subset [`parse`][qpi.qasm3.parse] reads) and counts the
operations it stands for: each statement once, times the size of the registers it
broadcasts over, times the trip count of the loops around it, with a call of a defined gate
counted as its whole body. It runs before a program is handed to a full implementation such
as `qiskit.qasm3.loads`, whose loader and simulators would otherwise expand a bomb first and
fail (or never finish) later. The count is linear in the text's length.

A `while` loop cannot be counted (it depends on measurements): its body counts once, and the
runner's time limit bounds it.
"""

from __future__ import annotations

import contextlib
from typing import NamedTuple

from qpi.qasm3.errors import QasmLimitError, QasmSyntaxError
from qpi.qasm3.limits import DEFAULT_LIMITS, ParseLimits
from qpi.qasm3.parser import _END, _error_at, _token_offsets, _tokenize

__all__ = ["Bounds", "check_bounds"]

_QUANTUM_REGISTERS = frozenset({"qubit", "qreg"})
_CLASSICAL_REGISTERS = frozenset({"bit", "creg"})
_MODIFIERS = frozenset({"ctrl", "negctrl", "inv", "pow"})
_OPEN = {"(": ")", "[": "]", "{": "}"}


class Bounds(NamedTuple):
    """What a program expands to, as [`check_bounds`][qpi.qasm3.check_bounds] counts it.

    Attributes:
        operations: An upper estimate of the operations it runs (while loops counted once).
        qubits: Qubits its registers declare.
        clbits: Classical bits its registers declare.
        while_loops: ``while`` loops in it: each may run any number of times.
    """

    operations: int
    qubits: int
    clbits: int
    while_loops: int = 0


def check_bounds(text: str, limits: ParseLimits = DEFAULT_LIMITS) -> Bounds:
    """Count the operations an OpenQASM program expands to, and check it against ``limits``.

    Args:
        text: An OpenQASM 2 or 3 program.
        limits: The bounds to enforce.

    Returns:
        The operations, qubits and clbits counted.

    Raises:
        QasmLimitError: If registers, loops, broadcasts, gate nesting or the total count go
            over ``limits``; the message gives the numbers and the line and column.
        QasmSyntaxError: If the text cannot even be split into tokens, or a loop's bounds
            are not constant integers (nothing could bound it).
    """
    if not isinstance(text, str):
        raise QasmSyntaxError(f"expected OpenQASM text, got {type(text).__name__}")
    return _Scanner(text, limits).program()


class _Scanner:
    """One pass over the tokens, block by block; never expands anything."""

    def __init__(self, text: str, limits: ParseLimits) -> None:
        self.text = text
        self.limits = limits
        self.kinds, self.texts, _ = _tokenize(text)
        self.i = 0
        self.nesting = 0
        self.qubits = 0
        self.clbits = 0
        self.sizes: dict[str, int] = {}  # every register: for `for x in reg`
        self.quantum: dict[str, int] = {}  # qubit registers: for broadcasts
        self.constants: dict[str, int] = {}
        self.gates: dict[str, tuple[int, int]] = {}  # name: (operations, definition depth)
        self.calls: list[set[str]] = []  # callees of the definitions being read
        self.while_loops = 0

    # -- errors ----------------------------------------------------------------------------

    def limit(self, message: str, at: int) -> QasmLimitError:
        offsets = _token_offsets(self.text)
        return _error_at(QasmLimitError, self.text, offsets[min(at, len(offsets) - 1)], message)

    def syntax(self, message: str, at: int) -> QasmSyntaxError:
        offsets = _token_offsets(self.text)
        offset = offsets[min(at, len(offsets) - 1)]
        return _error_at(QasmSyntaxError, self.text, offset, message)  # type: ignore[return-value]

    # -- blocks ----------------------------------------------------------------------------

    def program(self) -> Bounds:
        total = self.block(_END)
        if total > self.limits.max_instructions:
            raise self.limit(
                f"the program expands to {total} operations (broadcasts, loop iterations and "
                f"gate bodies counted); the limit is {self.limits.max_instructions}",
                0,
            )
        return Bounds(total, self.qubits, self.clbits, self.while_loops)

    def block(self, end: str) -> int:
        total = 0
        while self.kinds[self.i] != end:
            if self.kinds[self.i] == _END:
                raise self.syntax("a block is never closed with '}'", self.i)
            if self.kinds[self.i] == "}":
                raise self.syntax("'}' closes no block", self.i)
            before = self.i
            total += self.statement()
            if self.i == before:  # a token no statement starts with: never loop on it
                raise self.syntax(f"unexpected {self.texts[before]!r}", before)
        self.i += 1
        return total

    def nested(self) -> int:
        """A ``{ ... }`` block (the ``{`` is the current token)."""
        self.nesting += 1
        if self.nesting > self.limits.max_nesting:
            raise self.limit(f"blocks nest deeper than {self.limits.max_nesting} levels", self.i)
        self.i += 1
        try:
            return self.block("}")
        finally:
            self.nesting -= 1

    def body(self) -> int:
        """The body of a loop or branch: a block or one statement."""
        return self.nested() if self.kinds[self.i] == "{" else self.statement()

    # -- statements ------------------------------------------------------------------------

    def statement(self) -> int:
        kind, word = self.kinds[self.i], self.texts[self.i]
        if kind == "{":
            return self.nested()
        if kind == ";":
            self.i += 1
            return 0
        if kind == "id":
            if word in ("gate", "def"):
                return self.definition()
            if word == "for":
                return self.for_loop()
            if word in ("if", "while"):
                return self.branches()
            if word == "switch":
                return self.switch()
            if word == "box":
                self.i += 1
                if self.kinds[self.i] == "[":
                    self.skip_group()
                return self.body()
            if word in _QUANTUM_REGISTERS or word in _CLASSICAL_REGISTERS:
                return self.declaration()
            if word == "const":
                return self.constant()
        return self.simple()

    def branches(self) -> int:
        self.while_loops += self.texts[self.i] == "while"
        self.i += 1
        if self.kinds[self.i] == "(":
            self.skip_group()
        cost = self.body()
        if self.kinds[self.i] == "id" and self.texts[self.i] == "else":
            self.i += 1
            cost += self.body()
        return cost

    def switch(self) -> int:
        self.i += 1
        if self.kinds[self.i] == "(":
            self.skip_group()
        if self.kinds[self.i] != "{":
            raise self.syntax("expected '{' after switch (...)", self.i)
        self.i += 1
        cost = 0
        while self.kinds[self.i] != "}":
            if self.kinds[self.i] == _END:
                raise self.syntax("a switch is never closed with '}'", self.i)
            if self.kinds[self.i] == "{":
                cost += self.nested()
            else:
                self.i += 1  # case labels
        self.i += 1
        return cost

    def definition(self) -> int:
        """``gate name(...) a, b { ... }`` or ``def name(...) { ... }``: counted, not run."""
        self.i += 1
        at, name = self.i, self.texts[self.i]
        while self.kinds[self.i] not in ("{", ";", _END):
            self.i += 1
        if self.kinds[self.i] != "{":
            return 0  # an opaque declaration: nothing to expand
        self.calls.append(set())
        try:
            cost = self.nested()
        finally:
            callees = self.calls.pop()
        depth = 1 + max((self.gates[c][1] for c in callees if c in self.gates), default=0)
        if depth > self.limits.max_gate_depth:
            raise self.limit(
                f"gate {name!r} nests {depth} levels of gate definitions; the limit is "
                f"{self.limits.max_gate_depth}",
                at,
            )
        self.gates[name] = (cost, depth)
        return 0

    def for_loop(self) -> int:
        at = self.i
        while not (self.kinds[self.i] == "id" and self.texts[self.i] == "in"):
            if self.kinds[self.i] in ("{", ";", _END):
                raise self.syntax("expected 'in' in the for loop", self.i)
            self.i += 1
        self.i += 1
        trips = self.trip_count()
        body = self.body()
        cost = trips * body
        if cost > self.limits.max_instructions:
            raise self.limit(
                f"a loop of {trips} iterations over {body} operation(s) expands to {cost} "
                f"operations; the limit is {self.limits.max_instructions}",
                at,
            )
        return cost

    def trip_count(self) -> int:
        kind, at = self.kinds[self.i], self.i
        if kind == "{":  # a set of values
            items = self.group_tokens()
            return 0 if not items else 1 + sum(1 for k in items if k == ",")
        if kind == "[":  # a range, inclusive: [start:stop] or [start:step:stop]
            parts = self.split_range(self.group_texts(), at)
            start, stop = parts[0], parts[-1]
            step = parts[1] if len(parts) == 3 else 1
            if step == 0:
                raise self.syntax("a loop range has a step of 0", at)
            return max(0, (stop - start) // step + 1)
        if kind == "id" and self.texts[self.i] in self.sizes:
            self.i += 1
            if self.kinds[self.i] == "[":
                self.skip_group()
            return self.sizes[self.texts[at]]
        raise self.syntax("a loop must run over a constant range, a set or a register", at)

    def split_range(self, texts: list[str], at: int) -> list[int]:
        parts: list[list[str]] = [[]]
        for token in texts:
            if token == ":":
                parts.append([])
            else:
                parts[-1].append(token)
        if len(parts) not in (2, 3):
            raise self.syntax("a loop range is [start:stop] or [start:step:stop]", at)
        return [self.integer(part, at) for part in parts]

    def declaration(self) -> int:
        word, at = self.texts[self.i], self.i
        self.i += 1
        size = 1
        if self.kinds[self.i] == "[":
            size = self.integer(self.group_texts(), at)
        name = self.texts[self.i]
        if word in ("qreg", "creg") and self.kinds[self.i + 1] == "[":
            self.i += 1
            size = self.integer(self.group_texts(), at)
        self.skip_statement()
        self.sizes[name] = size
        if word in _QUANTUM_REGISTERS:
            self.quantum[name] = size
            self.qubits += size
            if self.qubits > self.limits.max_qubits:
                raise self.limit(
                    f"the program declares {self.qubits} qubits; the limit is "
                    f"{self.limits.max_qubits}",
                    at,
                )
        else:
            self.clbits += size
            if self.clbits > self.limits.max_clbits:
                raise self.limit(
                    f"the program declares {self.clbits} bits; the limit is "
                    f"{self.limits.max_clbits}",
                    at,
                )
        return 0

    def constant(self) -> int:
        """``const uint n = 4;``: remembered when it is a constant integer."""
        start = self.i
        self.skip_statement()
        texts = self.texts[start : self.i - 1]
        if "=" in texts and len(texts) > 2:
            eq = texts.index("=")
            # Not an integer: a loop over it is refused when it is read.
            with contextlib.suppress(QasmSyntaxError):
                self.constants[texts[eq - 1]] = self.integer(texts[eq + 1 :], start)
        return 1

    def simple(self) -> int:
        """Any other statement up to its ``;``: a gate call, a measurement, an assignment..."""
        kinds, texts = self.kinds, self.texts
        start = self.i
        while kinds[self.i] == "id" and texts[self.i] in _MODIFIERS:
            self.i += 1
            if kinds[self.i] == "(":
                self.skip_group()
            if kinds[self.i] == "@":
                self.i += 1
        callee = texts[self.i] if kinds[self.i] == "id" else ""
        if self.calls and callee:
            self.calls[-1].add(callee)
        width = 1
        self.i = start
        while kinds[self.i] not in (";", "}", _END):
            if kinds[self.i] in _OPEN:
                name = texts[self.i - 1]  # q in q[0:3] or q[{0, 2}]: a slice broadcasts
                if any(t in (":", "{") for t in self.group_texts()):
                    width = max(width, self.quantum.get(name, 1))
                continue
            if kinds[self.i] == "id" and kinds[self.i + 1] != "[":
                width = max(width, self.quantum.get(texts[self.i], 1))
            self.i += 1
        if kinds[self.i] == ";":
            self.i += 1
        return self.gates.get(callee, (1, 0))[0] * width

    # -- tokens ----------------------------------------------------------------------------

    def skip_statement(self) -> None:
        while self.kinds[self.i] not in (";", _END):
            if self.kinds[self.i] in _OPEN:
                self.skip_group()
            else:
                self.i += 1
        self.i += 1

    def skip_group(self) -> None:
        self.group_tokens()

    def group_tokens(self) -> list[str]:
        """The kinds inside the bracket group at the current token; moves past its close."""
        start = self.i
        self.group_texts()
        return self.kinds[start + 1 : self.i - 1]

    def group_texts(self) -> list[str]:
        """The texts inside the bracket group at the current token; moves past its close."""
        stack = [_OPEN[self.kinds[self.i]]]
        start = self.i
        self.i += 1
        while stack:
            kind = self.kinds[self.i]
            if kind == _END:
                raise self.syntax(f"{self.texts[start]!r} is never closed", start)
            if kind in _OPEN:
                stack.append(_OPEN[kind])
            elif kind == stack[-1]:
                stack.pop()
            self.i += 1
        return self.texts[start + 1 : self.i - 1]

    def integer(self, texts: list[str], at: int) -> int:
        """A constant integer expression: literals, constants, ``+ - *`` and parentheses."""
        if len(texts) > 64:  # also bounds the recursion below
            raise self.syntax("a constant integer expression longer than 64 tokens", at)
        value, rest = self.sum(texts, 0, at)
        if rest != len(texts):
            raise self.syntax(f"expected a constant integer, found {' '.join(texts)!r}", at)
        return value

    def sum(self, texts: list[str], k: int, at: int) -> tuple[int, int]:
        value, k = self.product(texts, k, at)
        while k < len(texts) and texts[k] in ("+", "-"):
            right, after = self.product(texts, k + 1, at)
            value, k = (value + right if texts[k] == "+" else value - right), after
        return value, k

    def product(self, texts: list[str], k: int, at: int) -> tuple[int, int]:
        value, k = self.atom(texts, k, at)
        while k < len(texts) and texts[k] == "*":
            right, k = self.atom(texts, k + 1, at)
            value *= right
        return value, k

    def atom(self, texts: list[str], k: int, at: int) -> tuple[int, int]:
        token = texts[k] if k < len(texts) else ""
        if token == "-":
            value, k = self.atom(texts, k + 1, at)
            return -value, k
        if token == "(":
            value, k = self.sum(texts, k + 1, at)
            if k >= len(texts) or texts[k] != ")":
                raise self.syntax("expected ')' in a constant integer", at)
            return value, k + 1
        if token.isdigit() and len(token) <= 19:
            return int(token), k + 1
        if token in self.constants:
            return self.constants[token], k + 1
        raise self.syntax(f"expected a constant integer, found {token or 'nothing'!r}", at)
