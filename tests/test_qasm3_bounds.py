"""``qpi.qasm3.check_bounds`` and the parser's limits: sizes counted before anything expands."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from qpi import qasm3
from qpi.qasm3 import ParseLimits, QasmError, QasmLimitError, check_bounds

HEAD = 'OPENQASM 3.0;\ninclude "stdgates.inc";\n'


@pytest.mark.parametrize(
    ("body", "operations"),
    [
        ("qubit[3] q;\nh q;\n", 3),  # a broadcast counts each qubit
        ("qubit[3] q;\nfor int i in [0:9] { h q[i % 3]; }\n", 10),  # ranges are inclusive
        ("qubit[3] q;\nfor int i in [0:2:9] { x q[0]; }\n", 5),
        ("qubit[3] q;\nfor int i in [9:-3:0] { x q[0]; }\n", 4),
        ("qubit[3] q;\nfor int i in {1, 5, 7} { h q; }\n", 9),
        ("qubit[2] q;\nconst uint n = 4;\nfor uint i in [1:n] { x q[0]; }\n", 5),
        ("qubit[2] q;\nfor uint i in [0:3] { for uint j in [0:3] { x q[1]; } }\n", 16),
        ("qubit[2] q;\ngate g a { x a; h a; }\ngate f a { g a; g a; }\nf q;\n", 8),
        ("qubit[2] q;\nbit[2] c;\nif (c[0]) { h q; } else { x q[0]; }\n", 3),
        ("qubit[4] q;\nh q[0:3];\n", 4),  # a slice broadcasts
    ],
)
def test_operations_are_counted_without_expanding(body, operations):
    # +2: the version and the include count as one statement each.
    assert check_bounds(HEAD + body).operations == operations + 2


def test_registers_and_while_loops_are_reported():
    bounds = check_bounds(HEAD + "qubit[3] q;\nqreg r[2];\nbit[4] c;\nwhile (c == 1) { h q; }\n")
    assert (bounds.qubits, bounds.clbits, bounds.while_loops) == (5, 4, 1)


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ("qubit[1] q;\nfor uint i in [0:1000000000] { x q[0]; }\n", "1000000001 iterations"),
        ("qubit[3000000] q;\nh q;\n", "declares 3000000 qubits; the limit is 4096"),
        ("bit[70000] c;\n", "declares 70000 bits"),
        ("qubit[2] q;\n" + "{" * 65 + "}" * 65, "deeper than 64 levels"),
    ],
)
def test_what_would_expand_past_a_limit_is_refused(body, message):
    with pytest.raises(QasmLimitError, match=message):
        check_bounds(HEAD + body)


def test_gate_nesting_is_limited():
    lines = ["gate g0 a { x a; }"] + [f"gate g{k} a {{ g{k - 1} a; }}" for k in range(1, 17)]
    with pytest.raises(QasmLimitError, match="gate 'g16' nests 17 levels"):
        check_bounds(HEAD + "\n".join(lines) + "\n")
    assert check_bounds(HEAD + "\n".join(lines[:16]) + "\n").operations == 2


def test_loops_whose_bounds_cannot_be_known_are_refused():
    with pytest.raises(qasm3.QasmSyntaxError, match="constant integer"):
        check_bounds(HEAD + "qubit[1] q;\nint n = 5;\nfor int i in [0:n] { x q[0]; }\n")


def test_the_parser_checks_sizes_before_expanding():
    limits = ParseLimits(max_qubits=8, max_instructions=20)
    with pytest.raises(QasmLimitError, match="declares 3000000 qubits; the limit is 8"):
        qasm3.parse(HEAD + "qubit[3000000] q;\nh q;\n", limits)
    with pytest.raises(QasmLimitError, match="more than 20 instructions"):
        qasm3.parse(HEAD + "qubit[8] q;\n" + "h q;\n" * 3, limits)
    assert len(qasm3.parse(HEAD + "qubit[8] q;\nh q;\n", limits).instructions) == 8


WORDS = ["qubit", "bit", "qreg", "for", "in", "while", "if", "else", "gate", "def", "switch",
         "case", "default", "box", "const", "uint", "q", "c", "x", "h", "measure", "ctrl", "@",
         "[", "]", "(", ")", "{", "}", ";", ":", ",", "=", "-", "+", "*", "->", "0", "3",
         "1000000000", "$", "#", "'s'"]  # fmt: skip


@settings(max_examples=300, deadline=2000)
@given(st.lists(st.sampled_from(WORDS), max_size=40))
def test_any_token_soup_ends_with_a_count_or_a_typed_error(tokens):
    # Hostile text must never hang the count or escape it with an untyped error.
    try:
        bounds = check_bounds(" ".join(tokens))
    except QasmError:
        return
    assert bounds.operations >= 0
