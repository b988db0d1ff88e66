"""cirq.Circuit -> neutral circuit -> OpenQASM 3: gates, expressions, layout and errors."""

from __future__ import annotations

import cirq
import numpy as np
import pytest
import qiskit.qasm3
import sympy
from qiskit.quantum_info import Operator
from qpi_cirq import dumps, to_circuit
from qpi_cirq.expressions import to_expr
from qpi_cirq.sweeps import circuit_rows, to_resolvers, translate

from qpi import qasm3
from qpi.circuit import Expr, Param, evaluate
from qpi.errors import ValidationError

a, b, c = cirq.LineQubit.range(3)
t, u = sympy.symbols("t u")
VALUES = {"t": 0.37, "u": -1.3}


def wire_unitary(circuit: cirq.AbstractCircuit, values: dict[str, float] | None = None):
    """The unitary of the OpenQASM 3 text we send, as qiskit reads it (cirq's qubit order)."""
    program = qasm3.write(to_circuit(circuit))
    loaded = qiskit.qasm3.loads(program.text)
    if program.inputs:
        by_name = {p.name: p for p in loaded.parameters}
        loaded = loaded.assign_parameters(
            {by_name[w]: (values or {})[n] for w, n in zip(program.inputs, program.parameters)}
        )
    # qiskit is little-endian, cirq big-endian in sorted-qubit order.
    return Operator(loaded).reverse_qargs().data


def cirq_unitary(circuit: cirq.AbstractCircuit, values: dict[str, float] | None = None):
    resolved = cirq.resolve_parameters(circuit, values or {})
    return resolved.unitary(qubit_order=sorted(circuit.all_qubits()))


def assert_same_unitary(circuit, values=None):
    got, want = wire_unitary(circuit, values), cirq_unitary(circuit, values)
    assert cirq.allclose_up_to_global_phase(got, want, atol=1e-7), str(circuit)


def op_id(op) -> str:
    text = str(op)
    return text if len(text) <= 60 and "\n" not in text else type(op.gate).__name__


def names(circuit) -> list[str]:
    return [inst.name for inst in to_circuit(cirq.Circuit(circuit)).instructions]


# -- gates ----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("op", "expected"),
    [
        (cirq.X(a), ["x"]),
        (cirq.Y(a), ["y"]),
        (cirq.Z(a), ["z"]),
        (cirq.H(a), ["h"]),
        (cirq.S(a), ["s"]),
        (cirq.S(a) ** -1, ["sdg"]),
        (cirq.T(a), ["t"]),
        (cirq.T(a) ** -1, ["tdg"]),
        (cirq.X(a) ** 0.5, ["sx"]),
        (cirq.I(a), ["id"]),
        (cirq.CNOT(a, b), ["cx"]),
        (cirq.CZ(a, b), ["cz"]),
        (cirq.SWAP(a, b), ["swap"]),
        (cirq.CCX(a, b, c), ["ccx"]),
        (cirq.CCZ(a, b, c), ["h", "ccx", "h"]),
        (cirq.CSWAP(a, b, c), ["cswap"]),
        (cirq.ResetChannel().on(a), ["reset"]),
        (cirq.rx(0.3).on(a), ["rx"]),
        (cirq.ry(0.3).on(a), ["ry"]),
        (cirq.rz(0.3).on(a), ["rz"]),
        (cirq.Z(a) ** 0.3, ["p"]),
        (cirq.CZ(a, b) ** 0.3, ["cp"]),
        (cirq.CNOT(a, b) ** 0.3, ["h", "cp", "h"]),
        (cirq.rx(t).on(b).controlled_by(a), ["crx"]),
        (cirq.global_phase_operation(1j), []),
    ],
)
def test_gates_map_to_stdgates(op, expected):
    assert names(op) == expected


def test_pow_gate_angles_are_pi_times_the_exponent():
    inst = to_circuit(cirq.Circuit(cirq.XPowGate(exponent=0.25, global_shift=0.1).on(a)))
    assert inst.instructions[0].name == "rx"
    assert inst.instructions[0].params[0] == pytest.approx(np.pi / 4)
    symbolic = to_circuit(cirq.Circuit(cirq.rx(t).on(a))).instructions[0]
    assert symbolic.params == (Param("t"),)  # rx(t) is X**(t/pi): the pi cancels


@pytest.mark.parametrize(
    "op",
    [
        cirq.XPowGate(exponent=t, global_shift=0.3).on(b).controlled_by(a),
        cirq.YPowGate(exponent=t, global_shift=0.2).on(b).controlled_by(a, control_values=[0]),
        cirq.ZPowGate(exponent=t, global_shift=0.1).on(c).controlled_by(a, b),
        cirq.rx(t).on(c).controlled_by(a, b),
        cirq.H(b).controlled_by(a),
        cirq.Y(b).controlled_by(a),
        (cirq.CZ**t).on(a, b).controlled_by(c),
        cirq.CCX(a, c, b) ** t,
        cirq.ISWAP(a, b) ** t,
        cirq.H(a) ** t,
        cirq.CNOT(a, b) ** (t / 3 - u),
        cirq.PhasedXPowGate(phase_exponent=t, exponent=0.5).on(a),
        cirq.PhasedISwapPowGate(phase_exponent=0.3, exponent=t).on(a, b),
        cirq.FSimGate(theta=t, phi=u / 2).on(a, b),
        cirq.givens(t).on(a, b),
        cirq.XX(a, b) ** t,
        cirq.qft(a, b, c),
        cirq.MatrixGate(cirq.testing.random_unitary(2, random_state=1)).on(a).controlled_by(b, c),
        cirq.MatrixGate(cirq.testing.random_unitary(4, random_state=2)).on(a, b),
        cirq.MatrixGate(cirq.testing.random_unitary(8, random_state=3)).on(a, b, c),
    ],
    ids=op_id,
)
def test_decomposed_gates_keep_the_unitary(op):
    assert_same_unitary(cirq.Circuit(op), VALUES)


def test_a_gate_with_only_a_unitary_goes_through_matrix_gate():
    class Custom(cirq.Gate):
        def _num_qubits_(self):
            return 2

        def _unitary_(self):
            return cirq.testing.random_unitary(4, random_state=9)

    assert_same_unitary(cirq.Circuit(Custom().on(b, a)))


def test_random_circuits_keep_the_unitary():
    domain = {
        cirq.X: 1, cirq.Y: 1, cirq.Z: 1, cirq.H: 1, cirq.S: 1, cirq.T: 1,
        cirq.X**0.5: 1, cirq.rx(0.7): 1, cirq.ry(-1.1): 1, cirq.Z**0.3: 1,
        cirq.PhasedXPowGate(phase_exponent=0.2, exponent=0.6): 1,
        cirq.CNOT: 2, cirq.CZ: 2, cirq.SWAP: 2, cirq.ISWAP: 2, cirq.CZ**0.4: 2,
        cirq.FSimGate(0.3, 0.9): 2, cirq.CCX: 3, cirq.CCZ: 3, cirq.CSWAP: 3,
    }  # fmt: skip
    for seed in range(8):
        circuit = cirq.testing.random_circuit(
            qubits=4, n_moments=10, op_density=0.8, gate_domain=domain, random_state=seed
        )
        assert_same_unitary(circuit)


def test_qubits_are_numbered_in_sorted_order():
    g = cirq.GridQubit
    circuit = cirq.Circuit(cirq.X(g(1, 0)), cirq.CNOT(g(0, 1), g(0, 0)), cirq.measure(g(1, 0)))
    converted = to_circuit(circuit)
    assert converted.metadata["cirq"]["qubits"] == ["q(0, 0)", "q(0, 1)", "q(1, 0)"]
    assert [inst.qubits for inst in converted.instructions] == [(2,), (1, 0), (2,)]


# -- expressions ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "expression",
    [t, 2 * t, -t, t / 2, 1 / t, t - u, -t - u, t**2, t / (u + 1), sympy.pi * t / 4, 3 - t,
     t**-2, sympy.Rational(1, 3) * t + sympy.sqrt(2), -t - 3, -2 * t - u / 3 - 1],
    ids=str,
)  # fmt: skip
def test_expressions_evaluate_like_sympy(expression):
    value = to_expr(expression)
    want = float(expression.subs({t: VALUES["t"], u: VALUES["u"]}))
    assert evaluate(value, VALUES) == pytest.approx(want)


def test_symbolic_pow_exponents_become_inputs_in_sorted_order():
    circuit = cirq.Circuit(
        cirq.X(a) ** u, cirq.CZ(a, b) ** (t / 2), cirq.Y(b) ** (2 * t - u), cirq.measure(a, b)
    )
    converted = to_circuit(circuit)
    assert converted.parameters == ["t", "u"]
    program = qasm3.write(converted)
    assert program.inputs == ("p0", "p1") and program.parameters == ("t", "u")
    assert isinstance(converted.instructions[1].params[0], Expr)


@pytest.mark.parametrize("expression", [sympy.sin(t), sympy.exp(t), t**0.5, sympy.Mod(t, 2)])
def test_unsupported_expressions_name_the_operation(expression):
    op = cirq.rx(expression).on(a)
    with pytest.raises(ValidationError, match=r"operation Rx\(.*\(moment 0\).*cannot carry"):
        to_circuit(cirq.Circuit(op))


# -- what cannot be carried -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("op", "why"),
    [
        (cirq.depolarize(0.1).on(a), "not unitary"),
        (cirq.amplitude_damp(0.1).on(a), "not unitary"),
        (cirq.X(a).with_classical_controls("m"), "classically controlled"),
        (cirq.measure(a, key="r", confusion_map={(0,): np.eye(2)}), "confusion map"),
        (
            cirq.MatrixGate(cirq.testing.random_unitary(16, random_state=4)).on(
                a, b, c, cirq.LineQubit(3)
            ),
            "no decomposition",
        ),
    ],
    ids=["depolarize", "amplitude_damp", "classical-control", "confusion-map", "4q-matrix"],
)
def test_what_cannot_be_carried_raises_naming_the_operation(op, why):
    circuit = cirq.Circuit(cirq.measure(b, key="m"), op)
    with pytest.raises(ValidationError, match=why) as info:
        to_circuit(circuit)
    message = str(info.value)
    assert "operation " in message and "moment" in message
    if isinstance(op.gate, cirq.MatrixGate):  # a matrix is too long to quote
        assert "MatrixGate on q(0), q(1), q(2), q(3)" in message
    elif isinstance(op.gate, cirq.MeasurementGate):
        assert "measure(q(0), key='r')" in message
    else:
        assert str(op) in message


def test_qudits_are_refused():
    with pytest.raises(ValidationError, match="dimension 3"):
        to_circuit(cirq.Circuit(cirq.measure(cirq.LineQid(0, dimension=3))))


def test_a_circuit_without_measurements_cannot_be_sampled():
    with pytest.raises(ValidationError, match="no measurements"):
        translate(cirq.Circuit(cirq.H(a)))


# -- measurement layout ---------------------------------------------------------------------------


def test_measurement_keys_take_contiguous_clbits_in_circuit_order():
    circuit = cirq.Circuit(
        cirq.measure(c, a, key="first", invert_mask=(True,)),
        cirq.X(b),
        cirq.measure(b, key="second"),
        cirq.measure(c, a, key="first"),
    )
    converted = to_circuit(circuit)
    assert converted.num_clbits == 5
    assert converted.metadata["cirq"]["measurements"] == [
        {"key": "first", "clbits": [0, 1], "invert": [1, 0]},
        {"key": "second", "clbits": [2], "invert": [0]},
        {"key": "first", "clbits": [3, 4], "invert": [0, 0]},
    ]
    measures = [(i.qubits[0], i.clbits[0]) for i in converted.instructions if i.name == "measure"]
    assert measures == [(2, 0), (0, 1), (1, 2), (2, 3), (0, 4)]


def test_a_key_measured_on_different_sizes_is_refused():
    circuit = cirq.Circuit(cirq.measure(a, b, key="m"), cirq.measure(a, key="m"))
    with pytest.raises(ValidationError, match="same number of qubits"):
        to_circuit(circuit)


def test_the_layout_travels_in_the_program_text():
    circuit = cirq.Circuit(cirq.rx(t).on(a), cirq.measure(b, a, key="m", invert_mask=(True,)))
    converted = to_circuit(circuit)
    parsed = qasm3.parse(dumps(circuit))
    assert parsed.metadata["cirq"] == converted.metadata["cirq"]
    assert parsed.metadata["cirq"]["symbols"] == ["t"]


# -- dumps ----------------------------------------------------------------------------------------


def test_dumps_is_the_text_sent():
    circuit = cirq.Circuit(cirq.H(a), cirq.CNOT(a, b), cirq.measure(a, b, key="m"))
    assert translate(circuit).payload.circuit == dumps(circuit)
    assert dumps(circuit).startswith('OPENQASM 3.0;\ninclude "stdgates.inc";\n')


@pytest.mark.parametrize(
    "circuit",
    [
        cirq.Circuit(cirq.H(a), cirq.CNOT(a, b), cirq.measure(a, b, key="m")),
        cirq.Circuit(cirq.rx(t).on(a), cirq.CZ(a, b) ** u, cirq.Y(b) ** (t - 2 * u)),
        cirq.Circuit(cirq.FSimGate(0.4, 0.2).on(b, c), cirq.CCZ(a, b, c), cirq.SWAP(a, c) ** 0.3),
    ],
    ids=["bell", "symbolic", "fsim-ccz"],
)
def test_dumps_round_trips_through_qiskit_with_the_right_unitary(circuit):
    loaded = qiskit.qasm3.loads(dumps(circuit))
    assert loaded.num_qubits == len(circuit.all_qubits())
    measured = sum(len(op.qubits) for op in circuit.all_operations() if cirq.is_measurement(op))
    assert loaded.num_clbits == measured
    assert_same_unitary(cirq.drop_terminal_measurements(circuit), VALUES)


# -- sweeps and rows ------------------------------------------------------------------------------


def test_rows_follow_sorted_symbol_names():
    resolvers = to_resolvers(cirq.Zip(cirq.Points("u", [1, 2]), cirq.Points("t", [3, 4])), [])
    assert circuit_rows(["t", "u"], resolvers) == [[3.0, 1.0], [4.0, 2.0]]
    as_rows = to_resolvers([[0.5, 1.5]], ["t", "u"])
    assert as_rows[0].param_dict == {"t": 0.5, "u": 1.5}


def test_a_symbol_without_a_value_is_named():
    with pytest.raises(ValidationError, match="sweep point 1: symbol 'u'"):
        circuit_rows(["t", "u"], [cirq.ParamResolver({"t": 1, "u": 2}), {"t": 1}])


def test_rows_of_the_wrong_length_are_refused():
    with pytest.raises(ValidationError, match="row 0 has 1 value"):
        to_resolvers([[0.5]], ["t", "u"])


def test_a_sweep_over_a_circuit_without_symbols_sends_one_row_per_point():
    circuit = cirq.Circuit(cirq.H(a), cirq.measure(a))
    assert translate(circuit).payload.parameter_values is None
    entry = translate(circuit, [{}, {}, {}])
    assert entry.payload.parameter_values == ((), (), ())
    assert len(entry.context["resolvers"]) == 3
