"""Errors raised when OpenQASM text cannot be read."""

from __future__ import annotations

from typing import Any

from qpi.errors import ValidationError

__all__ = ["QasmError", "QasmLimitError", "QasmSyntaxError", "QasmUnsupportedError"]


class QasmError(ValidationError):
    """OpenQASM text that [`parse`][qpi.qasm3.parse] cannot turn into a circuit.

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
    """Valid OpenQASM that is outside the subset [`parse`][qpi.qasm3.parse] reads.

    Load such programs with a full implementation instead, e.g. ``qiskit.qasm3.loads``.
    """


class QasmLimitError(QasmError):
    """A program that would grow past a size limit once expanded.

    Raised before anything is expanded: a register, a broadcast, a loop's trip count, the
    nesting of gate definitions or the total instruction count is over the limit the caller
    set (see [`ParseLimits`][qpi.qasm3.ParseLimits]). The message gives the numbers.
    """
