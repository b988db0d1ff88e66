"""How large a program may grow once expanded: the bounds checked before anything expands."""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["DEFAULT_LIMITS", "ParseLimits"]


@dataclass(frozen=True)
class ParseLimits:
    """Size limits of a program, checked before it is expanded.

    A few hundred bytes of OpenQASM can stand for billions of operations (a broadcast over a
    huge register, a long loop, gate definitions that each call the previous one twice), so
    [`parse`][qpi.qasm3.parse] and [`check_bounds`][qpi.qasm3.check_bounds] count what the
    text would expand to and raise [`QasmLimitError`][qpi.qasm3.QasmLimitError] instead of
    expanding past these numbers.

    Attributes:
        max_qubits: Qubits all registers together may declare.
        max_clbits: Classical bits all registers together may declare.
        max_instructions: Operations the program may expand to (broadcasts, loop iterations
            and inlined gate bodies counted).
        max_gate_depth: How deeply gate (and subroutine) definitions may call each other.
        max_nesting: How deeply blocks (`{ ... }`) may nest.
    """

    max_qubits: int = 4096
    max_clbits: int = 1 << 16
    max_instructions: int = 1_000_000
    max_gate_depth: int = 16
    max_nesting: int = 64


#: The limits used when a caller gives none: far above any circuit a QPU runs today.
DEFAULT_LIMITS = ParseLimits()
