"""Control-flow blocks in the neutral circuit and the OpenQASM 3 writer (issue 17).

The written text must load with Qiskit's own importer (what the QPI driver uses) into the
same control flow; the statevector parser refuses it explicitly (the ``mock`` QPU cannot run
feed-forward)."""

from __future__ import annotations

import pytest

from qpi import qasm3
from qpi.circuit import Circuit
from qpi.errors import ValidationError


def dynamic() -> Circuit:
    c = Circuit(2, 2)
    c.gate("h", (0,))
    c.measure(0, 0)
    c.open_block("if", (0,), 1)
    c.gate("x", (1,))
    c.open_block("else")
    c.gate("h", (1,))
    c.close_block()
    c.open_block("while", (0, 1), 3)
    c.measure(1, 1)
    c.open_block("if", (1,), 0)
    c.loop_jump("break")
    c.close_block()
    c.close_block()
    c.measure(1, 1)
    return c


def test_blocks_are_written_as_the_driver_reads_them():
    text = qasm3.dumps(dynamic())
    body = text.split("qubit[2] q;\n", 1)[1]
    assert body == (
        "h q[0];\nc[0] = measure q[0];\nif (c[0]) {\nx q[1];\n} else {\nh q[1];\n}\n"
        "while (c == 3) {\nc[1] = measure q[1];\nif (!c[1]) {\nbreak;\n}\n}\n"
        "c[1] = measure q[1];\n"
    )
    qiskit_qasm3 = pytest.importorskip("qiskit.qasm3")
    loaded = qiskit_qasm3.loads(text)
    assert {"if_else", "while_loop"} <= set(loaded.count_ops())
    dynamic().validate()


def test_the_statevector_parser_refuses_control_flow_explicitly():
    with pytest.raises(qasm3.QasmUnsupportedError, match="'if' statements are not supported"):
        qasm3.parse(qasm3.dumps(dynamic()))


@pytest.mark.parametrize(
    ("build", "message"),
    [
        (lambda c: c.open_block("else"), "no open if block"),
        (lambda c: c.close_block(), "no open block"),
        (lambda c: c.loop_jump("break"), "inside a while"),
        (lambda c: (c.open_block("if", (0, 2), 1), c.close_block()), "neither one bit nor"),
        (lambda c: c.open_block("if", (0,), 2), "cannot read 2"),
        (lambda c: c.open_block("while", (5,), 1), "outside 0..2"),
        (lambda c: c.open_block("if", (0,), 1), "left open"),
    ],
)
def test_malformed_blocks_are_refused(build, message):
    circuit = Circuit(2, 3)
    circuit.measure(0, 0)
    build(circuit)
    with pytest.raises(ValidationError, match=message):
        qasm3.write(circuit)
    builder = qasm3.Builder(2, 3)
    with pytest.raises(ValidationError, match=message):
        for inst in circuit.instructions:
            builder.add(inst)
        builder.build()
