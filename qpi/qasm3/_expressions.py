"""Printing and folding gate-parameter expressions (shared by the writer and the parser)."""

from __future__ import annotations

import math
from collections.abc import Mapping
from types import MappingProxyType
from typing import Any

from qpi.circuit import Expr

__all__ = ["ATOM", "PRECEDENCE", "Invalid", "arith", "expression_text", "fold"]

# Operator precedence when printing and parsing expressions; atoms bind tightest.
PRECEDENCE: Mapping[str, int] = MappingProxyType({"+": 1, "-": 1, "*": 2, "/": 2, "neg": 3})
ATOM = 4


class Invalid(Exception):
    """A problem found while writing; the writer turns it into a ValidationError."""

    def __init__(self, inst: Any, detail: str) -> None:
        super().__init__(detail)
        self.inst = inst
        self.detail = detail


def expression_text(expr: Expr, rename: Mapping[str, str]) -> str:
    """The text of a whole gate parameter: constants folded, minimal parentheses."""
    node = render(expr, rename)
    return repr(node) if isinstance(node, float) else node[0]


def render(node: Expr | float | str, rename: Mapping[str, str]) -> float | tuple[str, int]:
    """A folded constant, or ``(text, precedence)`` of an expression with inputs."""
    if not isinstance(node, Expr):
        return constant(node)
    op = node.op
    if op == "param":
        try:
            return rename[node.args[0]], ATOM  # type: ignore[index]
        except KeyError:
            raise Invalid(None, f"input {node.args[0]!r} is not declared") from None
    if op == "neg":
        inner = render(node.args[0], rename)
        if isinstance(inner, float):
            return -inner
        text, prec = inner
        # Binary operands need parentheses ("-(p0 * p1)"); "-(-p0)" reads better than "--p0".
        if prec < PRECEDENCE["neg"] or text.startswith("-"):
            text = f"({text})"
        return "-" + text, PRECEDENCE["neg"]
    prec = PRECEDENCE[op]
    left = render(node.args[0], rename)
    right = render(node.args[1], rename)
    if isinstance(left, float) and isinstance(right, float):
        return fold(op, left, right)
    # Left-associative: the right operand needs parentheses at equal precedence too.
    return f"{operand_text(left, prec)} {op} {operand_text(right, prec + 1)}", prec


def operand_text(node: float | tuple[str, int], least: int) -> str:
    if isinstance(node, float):
        text = repr(node)
        return f"({text})" if text.startswith("-") else text
    text, prec = node
    return text if prec >= least else f"({text})"


def constant(value: Any) -> float:
    if isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value):
        return float(value)
    raise Invalid(None, f"expression operand {value!r} is not a finite number or an Expr")


def fold(op: str, left: float, right: float) -> float:
    """Evaluate a constant sub-expression exactly as `Expr.evaluate` would."""
    try:
        value = arith(op, left, right)
    except ZeroDivisionError:
        raise Invalid(None, f"constant expression {left!r} / {right!r} divides by zero") from None
    if not math.isfinite(value):
        raise Invalid(None, f"constant expression {left!r} {op} {right!r} is not finite")
    return value


def arith(op: str, left: float, right: float) -> float:
    if op == "+":
        return left + right
    if op == "-":
        return left - right
    if op == "*":
        return left * right
    return left / right
