"""The tape -> template translation: gate semantics, structure keys, wires."""

from __future__ import annotations

import numpy as np
import pennylane as qml
import pytest
from qpi_pennylane.translate import GATE_MAP, translate_tape

from qpi.circuit import Expr
from qpi.errors import ValidationError

# OpenQASM 3 gate -> how to rebuild it in PennyLane, so a test can compare matrices.
# U(theta, phi, lambda) is PennyLane's U3; u2(phi, lambda) is U2; p is PhaseShift.
_BACK = {
    "id": qml.Identity,
    "x": qml.X,
    "y": qml.Y,
    "z": qml.Z,
    "h": qml.H,
    "s": qml.S,
    "sdg": lambda wires: qml.adjoint(qml.S(wires)),
    "t": qml.T,
    "tdg": lambda wires: qml.adjoint(qml.T(wires)),
    "sx": qml.SX,
    "rx": qml.RX,
    "ry": qml.RY,
    "rz": qml.RZ,
    "p": qml.PhaseShift,
    "u2": qml.U2,
    "U": qml.U3,
    "cx": qml.CNOT,
    "cy": qml.CY,
    "cz": qml.CZ,
    "ch": qml.CH,
    "swap": qml.SWAP,
    "crx": qml.CRX,
    "cry": qml.CRY,
    "crz": qml.CRZ,
    "cp": qml.ControlledPhaseShift,
    "ccx": qml.Toffoli,
    "cswap": qml.CSWAP,
}

_OPS = [
    qml.Identity(0),
    qml.X(0),
    qml.Y(0),
    qml.Z(0),
    qml.H(0),
    qml.S(0),
    qml.adjoint(qml.S(0)),
    qml.T(0),
    qml.adjoint(qml.T(0)),
    qml.SX(0),
    qml.RX(0.3, 0),
    qml.RY(-0.7, 0),
    qml.RZ(1.1, 0),
    qml.PhaseShift(0.4, 0),
    qml.U1(0.9, 0),
    qml.U2(0.2, 0.5, 0),
    qml.U3(0.1, 0.2, 0.3, 0),
    qml.Rot(0.4, 1.3, -0.8, 0),
    qml.CNOT([0, 1]),
    qml.CY([1, 0]),
    qml.CZ([0, 1]),
    qml.CH([0, 1]),
    qml.SWAP([0, 1]),
    qml.CRX(0.5, [1, 0]),
    qml.CRY(0.6, [0, 1]),
    qml.CRZ(0.7, [0, 1]),
    qml.ControlledPhaseShift(0.8, [1, 0]),
    qml.Toffoli([0, 1, 2]),
    qml.CSWAP([2, 0, 1]),
]


def _rebuilt(tape: qml.tape.QuantumScript) -> list[qml.operation.Operator]:
    circuit = translate_tape(tape, qml.wires.Wires([0, 1, 2]))
    values = dict(zip(circuit.template.input_names(), circuit.values, strict=True))
    ops = []
    for inst in circuit.template.instructions:
        if inst.name == "measure":
            continue
        params = [p.evaluate(values) if isinstance(p, Expr) else p for p in inst.params]
        ops.append(_BACK[inst.name](*params, wires=list(inst.qubits)))
    return ops


@pytest.mark.parametrize("op", _OPS, ids=lambda op: op.name)
def test_every_mapped_gate_keeps_its_matrix_up_to_a_global_phase(op):
    tape = qml.tape.QuantumScript([op], [qml.probs(wires=[0, 1, 2])], shots=10)
    want = qml.matrix(op, wire_order=[0, 1, 2])
    got = qml.matrix(qml.prod(*reversed(_rebuilt(tape))), wire_order=[0, 1, 2])
    # Equal up to a phase: |<got, want>| == dimension.
    overlap = abs(np.trace(got.conj().T @ want))
    assert overlap == pytest.approx(want.shape[0], abs=1e-9)


def test_the_gate_map_covers_the_documented_operations():
    for name in ("RX", "CNOT", "Rot", "U3", "Toffoli", "CSWAP", "ControlledPhaseShift"):
        assert name in GATE_MAP


def test_tapes_differing_in_values_share_one_template():
    def tape(x, y):
        ops = [qml.RX(x, 0), qml.CNOT([0, 1]), qml.Rot(y, x, 0.1, 1)]
        return qml.tape.QuantumScript(ops, [qml.expval(qml.Z(1))], shots=5)

    a, b = translate_tape(tape(0.1, 0.2)), translate_tape(tape(1.5, -2.0))
    assert a.key == b.key
    assert a.values != b.values
    assert a.template.input_names() == [f"t{i}" for i in range(4)]
    # Rot(phi, theta, omega) is sent as U(theta, omega, phi).
    assert a.values == (0.1, 0.1, 0.1, 0.2)
    assert b.values == (1.5, 1.5, 0.1, -2.0)


def test_a_different_structure_gives_a_different_key():
    one = qml.tape.QuantumScript([qml.RX(0.1, 0)], [qml.expval(qml.Z(0))], shots=5)
    other = qml.tape.QuantumScript([qml.RY(0.1, 0)], [qml.expval(qml.Z(0))], shots=5)
    measured = qml.tape.QuantumScript([qml.RX(0.1, 0)], [qml.probs(wires=[0, 1])], shots=5)
    keys = {translate_tape(t).key for t in (one, other, measured)}
    assert len(keys) == 3


def test_device_wire_labels_map_to_qubits_in_device_order():
    wires = qml.wires.Wires(["a", "b", "c"])
    tape = qml.tape.QuantumScript([qml.CNOT(["c", "a"])], [qml.probs(wires=["c", "b"])], shots=5)
    circuit = translate_tape(tape, wires)
    assert circuit.template.instructions[0].qubits == (2, 0)
    # Clbits follow device order: b -> c[0], c -> c[1].
    assert circuit.measured_wires == ("b", "c")
    measures = [i for i in circuit.template.instructions if i.name == "measure"]
    assert [(m.qubits, m.clbits) for m in measures] == [((1,), (0,)), ((2,), (1,))]


def test_unused_high_wires_are_not_sent():
    tape = qml.tape.QuantumScript([qml.H(0)], [qml.expval(qml.Z(1))], shots=5)
    circuit = translate_tape(tape, qml.wires.Wires(range(10)))
    assert circuit.template.num_qubits == 2


def test_an_operation_outside_the_gate_set_is_refused_with_advice():
    tape = qml.tape.QuantumScript([qml.IsingXX(0.1, [0, 1])], [qml.expval(qml.Z(0))], shots=5)
    with pytest.raises(ValidationError, match="decomposes"):
        translate_tape(tape)


def test_global_phase_and_snapshots_are_dropped():
    tape = qml.tape.QuantumScript(
        [qml.GlobalPhase(0.3), qml.Snapshot(), qml.X(0)], [qml.expval(qml.Z(0))], shots=5
    )
    names = [i.name for i in translate_tape(tape).template.instructions]
    assert names == ["x", "measure"]
