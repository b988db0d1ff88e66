"""``sympy`` expressions as wire gate parameters (OpenQASM 3 input expressions).

A Cirq symbol becomes a named input; an expression of symbols may use ``+ - * /``, integer
powers and numeric constants (``sympy.pi``, ``sympy.sqrt(2)``), which is what an OpenQASM 3
``input`` expression and [`qpi.circuit.Expr`][qpi.circuit.Expr] carry. Anything else (``sympy.sin``,
non-integer powers, ``Mod``) raises [`ValidationError`][qpi.errors.ValidationError].
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import sympy

from qpi.circuit import Param, ParamValue
from qpi.errors import ValidationError

__all__ = ["real_number", "to_expr"]

#: Largest integer power of an expression written out as repeated multiplication.
_MAX_POWER = 8


def to_expr(value: Any, where: str = "parameter") -> ParamValue:
    """Convert a number or a ``sympy`` expression into a gate parameter of the wire.

    Args:
        value: A number, or a ``sympy`` expression of symbols and constants.
        where: What the value belongs to, for error messages.

    Returns:
        A float, or an [`Expr`][qpi.circuit.Expr] over the symbols' names.

    Raises:
        ValidationError: If the expression uses something other than ``+ - * /``, integer
            powers and numeric constants.
    """
    if not isinstance(value, sympy.Basic):
        return real_number(value, where)
    if value.is_number:
        return real_number(value, where)
    if isinstance(value, sympy.Symbol):
        return Param(value.name)
    if isinstance(value, sympy.Add):
        return _sum(value.args, where)
    if isinstance(value, sympy.Mul):
        return _product(value.args, where)
    if isinstance(value, sympy.Pow) and value.exp.is_Integer:
        power = int(value.exp)
        if 0 < abs(power) <= _MAX_POWER:
            base = to_expr(value.base, where)
            product = base
            for _ in range(abs(power) - 1):
                product = product * base
            return product if power > 0 else 1.0 / product
    raise ValidationError(
        f"{where}: the expression {value} uses {type(value).__name__}, which an OpenQASM 3 "
        "input expression cannot carry; use + - * /, integer powers and numbers, or resolve "
        "the symbols before running"
    )


def real_number(value: Any, where: str) -> float:
    """``value`` as a finite real float.

    Raises:
        ValidationError: If it is not a number (an unresolved symbol), complex or not finite;
            ``where`` says what the value belongs to.
    """
    try:
        number = complex(value)
    except (TypeError, ValueError):
        raise ValidationError(
            f"{where}: {value!r} is not a number; give a value for every symbol"
        ) from None
    if abs(number.imag) > 1e-12 * max(1.0, abs(number.real)):
        raise ValidationError(f"{where}: {value!r} is complex; gate parameters must be real")
    if not math.isfinite(number.real):
        raise ValidationError(f"{where}: {value!r} is not finite")
    return float(number.real)


def _sum(terms: Sequence[sympy.Expr], where: str) -> ParamValue:
    # Write ``a - b`` rather than ``a + -1.0 * b``: subtract the terms that carry a minus sign.
    ordered = sorted(terms, key=lambda term: bool(term.could_extract_minus_sign()))
    head = ordered[0]
    total = -to_expr(-head, where) if head.could_extract_minus_sign() else to_expr(head, where)
    for term in ordered[1:]:
        if term.could_extract_minus_sign():
            total = total - to_expr(-term, where)
        else:
            total = total + to_expr(term, where)
    return total


def _product(factors: Sequence[sympy.Expr], where: str) -> ParamValue:
    coefficient = 1.0
    numerator: list[ParamValue] = []
    denominator: list[ParamValue] = []
    for factor in factors:
        if factor.is_number:
            coefficient *= real_number(factor, where)
        elif isinstance(factor, sympy.Pow) and factor.exp.is_Integer and factor.exp < 0:
            denominator.append(to_expr(factor.base ** (-factor.exp), where))
        else:
            numerator.append(to_expr(factor, where))
    if not numerator:
        return coefficient / _fold(denominator)
    result = _fold(numerator)
    if denominator:
        result = result / _fold(denominator)
    if coefficient == 1.0:
        return result
    if coefficient == -1.0:
        return -result
    return coefficient * result


def _fold(values: list[ParamValue]) -> ParamValue:
    result = values[0]
    for value in values[1:]:
        result = result * value
    return result
