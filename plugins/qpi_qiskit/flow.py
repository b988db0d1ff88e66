"""Qiskit control flow → the wire's OpenQASM 3 ``if``/``else``/``while`` blocks.

The QPI driver loads programs with ``qiskit.qasm3.loads`` (the ``qiskit_qasm3_import``
package), which reads conditions of one bit (``c[3]``, ``!c[3]``) or of a whole register
(``c == 5``), ``if``/``else``, ``while``, ``break`` and ``continue``, but not ``switch``,
``int`` variables or ``&&``. And the wire has ONE classical register ``c``. So:

* ``if_else`` and ``switch_case`` on a register that spans every clbit become a chain of
  ``if (c == v) {...} else {...}`` blocks; on one bit or any other register, a decision tree
  of one-bit ``if``/``else`` blocks (each case body written once, the default or ``else``
  body at most once per bit);
* ``for_loop`` is unrolled (so it needs no feed-forward and runs on every QPU); ``box`` is
  inlined;
* ``while_loop`` is written as it is, on a condition of one bit or the whole register;
  anything else raises ``ValidationError``, as do conditions the importer cannot read
  (classical expressions other than a bit, its negation, or ``register == value``).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from qiskit import QuantumCircuit
from qiskit.circuit import ClassicalRegister, Clbit
from qiskit.circuit.classical import expr
from qiskit.circuit.controlflow import CASE_DEFAULT

from qpi import qasm3
from qpi.circuit import Circuit
from qpi.errors import ValidationError

__all__ = ["FLOW", "MAX_UNROLLED", "stream_flow"]

#: The control-flow instructions this module writes.
FLOW = frozenset({"if_else", "while_loop", "switch_case", "for_loop", "box", "break_loop",
                  "continue_loop"})  # fmt: skip
#: Most instructions unrolling ``for`` loops may produce in one circuit (bounds the text).
MAX_UNROLLED = 1_000_000

Sink = qasm3.Builder | Circuit
#: Streams a block: ``(block, qubit index, clbit index) -> delays dropped``.
StreamBlock = Callable[[QuantumCircuit, dict[Any, int], dict[Any, int]], int]
#: A condition on the wire: (clbits, least significant first; the value they must read).
Condition = tuple[tuple[int, ...], int]


def stream_flow(
    inst: Any,
    sink: Sink,
    qubit_index: dict[Any, int],
    clbit_index: dict[Any, int],
    stream: StreamBlock,
) -> int:
    """Write one control-flow instruction into ``sink``; returns the delays dropped.

    Raises:
        ValidationError: For conditions or loops the wire cannot carry (see the module docs).
    """
    op = inst.operation
    name = op.name

    def block(body: QuantumCircuit) -> Callable[[], int]:
        inner_q = {b: qubit_index[o] for b, o in zip(body.qubits, inst.qubits, strict=True)}
        inner_c = {b: clbit_index[o] for b, o in zip(body.clbits, inst.clbits, strict=True)}
        return lambda: stream(body, inner_q, inner_c)

    if name in ("break_loop", "continue_loop"):
        sink.loop_jump(name.split("_")[0])
        return 0
    if name == "box":
        return block(op.blocks[0])()
    if name == "for_loop":
        return _unrolled(op, block)
    if name == "if_else":
        condition = _condition(op.condition, clbit_index, sink.num_clbits)
        true_body, *false_body = op.blocks  # no else: one block
        otherwise = block(false_body[0]) if false_body and false_body[0] is not None else None
        return _if(sink, condition, block(true_body), otherwise)
    if name == "while_loop":
        bits, value = _condition(op.condition, clbit_index, sink.num_clbits)
        if len(bits) > 1 and bits != tuple(range(sink.num_clbits)):
            raise ValidationError(
                f"while_loop on {op.condition[0]}: the wire reads a loop condition of one bit "
                "or of every clbit at once; loop on one bit (e.g. a flag you measure into)"
            )
        sink.open_block("while", bits, value)
        delays = block(op.blocks[0])()
        sink.close_block()
        return delays
    # switch_case: a chain of if/else blocks, one per case value, the default last
    bits, _ = _condition((op.target, 0), clbit_index, sink.num_clbits)
    cases: list[tuple[int, Callable[[], int]]] = []
    default = None
    for values, body in op.cases_specifier():
        for value in values:
            if value is CASE_DEFAULT:
                default = block(body)
            else:
                cases.append((int(value), block(body)))
    return _switch(sink, bits, cases, default)


def _if(
    sink: Sink,
    condition: Condition,
    then: Callable[[], int],
    otherwise: Callable[[], int] | None,
) -> int:
    """``if (condition) {then} else {otherwise}``."""
    bits, value = condition
    return _switch(sink, bits, [(value, then)], otherwise)


def _switch(
    sink: Sink,
    bits: tuple[int, ...],
    cases: list[tuple[int, Callable[[], int]]],
    default: Callable[[], int] | None,
) -> int:
    """Run the body whose value ``bits`` read (else ``default``), as the wire can say it.

    On the whole register: a chain of ``if (c == v) {...} else {...}``. On other bits: a
    decision tree of one-bit blocks, one level per bit, pruned where no case remains, so each
    case body is written once and the default at most once per level.
    """
    if len(bits) > 1 and bits == tuple(range(sink.num_clbits)):
        return _chain(sink, bits, cases, default)
    table: dict[int, Callable[[], int]] = {}
    for value, body in cases:
        table.setdefault(value, body)  # the first case of a value wins, as in a switch
    return _tree(sink, bits, table, default)


def _chain(
    sink: Sink,
    bits: tuple[int, ...],
    cases: list[tuple[int, Callable[[], int]]],
    default: Callable[[], int] | None,
) -> int:
    if not cases:
        return default() if default is not None else 0
    (value, body), rest = cases[0], cases[1:]
    sink.open_block("if", bits, value)
    delays = body()
    if rest or default is not None:
        sink.open_block("else")
        delays += _chain(sink, bits, rest, default)
    sink.close_block()
    return delays


def _tree(
    sink: Sink,
    bits: tuple[int, ...],
    table: dict[int, Callable[[], int]],
    default: Callable[[], int] | None,
) -> int:
    if not table:
        return default() if default is not None else 0
    if not bits:
        return table[0]()
    ones = {value >> 1: body for value, body in table.items() if value & 1}
    zeros = {value >> 1: body for value, body in table.items() if not value & 1}
    first, rest = bits[:1], bits[1:]
    if not ones and default is None:  # only bit = 0 leads anywhere
        sink.open_block("if", first, 0)
        delays = _tree(sink, rest, zeros, None)
    else:
        sink.open_block("if", first, 1)
        delays = _tree(sink, rest, ones, default)
        if zeros or default is not None:
            sink.open_block("else")
            delays += _tree(sink, rest, zeros, default)
    sink.close_block()
    return delays


def _unrolled(op: Any, block: Callable[[QuantumCircuit], Callable[[], int]]) -> int:
    indexset, loop_parameter, body = op.params
    values = list(indexset)
    if len(values) * max(len(body.data), 1) > MAX_UNROLLED:
        raise ValidationError(
            f"for_loop over {len(values)} values of a {len(body.data)}-instruction body would "
            f"unroll to more than {MAX_UNROLLED} instructions; shorten the loop"
        )
    if _jumps(body):
        raise ValidationError(
            "for_loop with break_loop or continue_loop cannot be unrolled; use a while_loop "
            "on a measured flag instead"
        )
    delays = 0
    for value in values:
        bound = body
        if loop_parameter is not None and loop_parameter in body.parameters:
            bound = body.assign_parameters({loop_parameter: value})
        delays += block(bound)()
    return delays


def _jumps(body: QuantumCircuit) -> bool:
    """Whether ``body`` breaks or continues its own loop (not a nested one's)."""
    for inst in body.data:
        name = inst.operation.name
        if name in ("break_loop", "continue_loop"):
            return True
        if name in ("if_else", "switch_case", "box") and any(
            _jumps(b) for b in inst.operation.blocks
        ):
            return True
    return False


def _condition(condition: Any, clbit_index: dict[Any, int], num_clbits: int) -> Condition:
    """A Qiskit condition as ``(wire clbits, value)``."""
    if isinstance(condition, expr.Expr):
        return _expr_condition(condition, clbit_index)
    target, value = condition
    if isinstance(target, Clbit):
        return (clbit_index[target],), int(bool(value))
    if isinstance(target, ClassicalRegister):
        return tuple(clbit_index[b] for b in target), int(value)
    raise ValidationError(f"cannot send the condition {condition!r}")


def _expr_condition(condition: expr.Expr, clbit_index: dict[Any, int]) -> Condition:
    """Bit, ``!bit`` and ``register == value``: the expressions the wire's importer reads."""
    negated = False
    node = condition
    if isinstance(node, expr.Unary) and node.op is expr.Unary.Op.LOGIC_NOT:
        negated, node = True, node.operand
    if isinstance(node, expr.Cast):
        node = node.operand
    if isinstance(node, expr.Var) and isinstance(node.var, Clbit):
        return (clbit_index[node.var],), int(not negated)
    if (
        not negated
        and isinstance(node, expr.Binary)
        and node.op is expr.Binary.Op.EQUAL
        and isinstance(node.left, expr.Var)
        and isinstance(node.right, expr.Value)
    ):
        var = node.left.var
        if isinstance(var, Clbit):
            return (clbit_index[var],), int(bool(node.right.value))
        if isinstance(var, ClassicalRegister):
            return tuple(clbit_index[b] for b in var), int(node.right.value)
    raise ValidationError(
        f"the condition {condition} cannot travel: the QPU's OpenQASM 3 loader reads a bit, "
        "its negation, or register == value; rewrite the condition in one of those forms"
    )
