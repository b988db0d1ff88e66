"""QuantumCircuit → neutral circuit → OpenQASM 3, checked against Qiskit's own importer."""

from __future__ import annotations

import math
import operator
import warnings

import numpy as np
import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st
from qiskit import ClassicalRegister, QuantumCircuit, QuantumRegister, qasm3
from qiskit.circuit import Parameter, ParameterExpression, ParameterVector
from qiskit.circuit.library import CU1Gate, CU3Gate, real_amplitudes
from qiskit.quantum_info import Operator
from qpi_qiskit import dumps, to_circuit
from qpi_qiskit.convert import DelayDroppedWarning, convert, translate
from qpi_qiskit.layout import Layout

from qpi import qasm3 as qpi_qasm3
from qpi.circuit import GATES, evaluate
from qpi.errors import ValidationError


def _unitary_matches(original: QuantumCircuit, values: list[float] | None = None) -> None:
    """loads(dumps(c)) is the same unitary as c (final measurements removed, same binding)."""
    loaded = qasm3.loads(dumps(original))
    assert loaded.num_qubits == original.num_qubits
    if values is not None:
        # The rows the SDK sends for these values bind p0, p1, ... positionally.
        (row,) = translate(original, [values]).payload.parameter_values
        original = original.assign_parameters(values)
        loaded = loaded.assign_parameters(list(row))
    ours = Operator(loaded.remove_final_measurements(inplace=False))
    theirs = Operator(original.remove_final_measurements(inplace=False))
    assert ours.equiv(theirs)


def _measured(qc: QuantumCircuit) -> QuantumCircuit:
    qc.measure_all()
    return qc


def test_bell_text_is_plain_openqasm3():
    qc = QuantumCircuit(2, 2, name="bell")
    qc.h(0)
    qc.cx(0, 1)
    qc.measure([0, 1], [0, 1])
    text = dumps(qc)
    assert text.startswith('OPENQASM 3.0;\ninclude "stdgates.inc";\n')
    assert "h q[0];\ncx q[0], q[1];\nc[0] = measure q[0];\nc[1] = measure q[1];\n" in text
    assert '"name":"bell"' in text
    assert text == qpi_qasm3.dumps(to_circuit(qc))


def test_every_standard_gate_round_trips_through_qiskit():
    a, b, c, d = 0.3, -1.1, 2.5, 0.7
    qc = QuantumCircuit(3)
    qc.id(0)
    qc.x(0), qc.y(1), qc.z(2), qc.h(0), qc.s(1), qc.sdg(2), qc.t(0), qc.tdg(1), qc.sx(2)
    qc.p(a, 0), qc.rx(b, 1), qc.ry(c, 2), qc.rz(d, 0), qc.u(a, b, c, 1)
    qc.cx(0, 1), qc.cy(1, 2), qc.cz(2, 0), qc.ch(0, 2), qc.swap(1, 2)
    qc.cp(a, 0, 1), qc.crx(b, 1, 2), qc.cry(c, 2, 0), qc.crz(d, 0, 2), qc.cu(a, b, c, d, 1, 0)
    qc.ccx(0, 1, 2), qc.cswap(2, 0, 1)
    _unitary_matches(_measured(qc))


def test_rewritten_and_decomposed_gates_keep_the_unitary():
    qc = QuantumCircuit(3)
    qc.r(0.4, 0.9, 0), qc.r(0.4, math.pi / 2, 1), qc.r(0.2, 0.0, 2), qc.sxdg(0)
    qc.append(CU1Gate(0.8), [0, 1]), qc.append(CU3Gate(0.1, 0.2, 0.3), [1, 2])
    qc.rzz(0.3, 0, 1), qc.ecr(1, 2), qc.iswap(0, 2), qc.mcx([0, 1], 2), qc.rxx(0.5, 0, 2)
    _unitary_matches(_measured(qc))
    names = {inst.name for inst in to_circuit(qc).instructions}
    assert names <= set(GATES) | {"measure", "barrier"}


def test_r_gates_become_ry_and_rx():
    qc = real_amplitudes(3, reps=1).decompose()
    qc.measure_all()
    assert {inst.name for inst in to_circuit(qc).instructions} == {"ry", "cx", "barrier", "measure"}


def test_parametric_circuit_keeps_inputs_in_parameter_order():
    theta = ParameterVector("t", 12)
    qc = QuantumCircuit(2)
    for i, p in enumerate(theta):
        qc.ry(p, i % 2) if i % 3 else qc.rz(2 * p - 0.5, i % 2)
    qc.cx(0, 1)
    qc.measure_all()
    text = dumps(qc)
    assert "input float[64] p00;" in text and "input float[64] p11;" in text
    values = list(np.linspace(-1.0, 2.0, 12))
    _unitary_matches(qc, values)


def test_layout_travels_in_the_text_and_is_read_back():
    qr = QuantumRegister(3, "qr")
    a, b = ClassicalRegister(1, "a"), ClassicalRegister(2, "b")
    theta = ParameterVector("θ", 3)
    qc = QuantumCircuit(qr, a, b, name="two-registers", metadata={"experiment": 7})
    for i in range(3):
        qc.rx(theta[i], i)
    qc.measure(0, b[1])
    qc.measure(1, a[0])
    qc.measure(2, b[0])
    converted = convert(qc)
    assert converted.layout.cregs == (("a", (0,)), ("b", (1, 2)))
    rebuilt = Layout.from_text(dumps(qc))
    assert rebuilt == converted.layout
    header = rebuilt.header([0.1, 0.2, 0.3])
    assert header["creg_sizes"] == [["a", 1], ["b", 2]]
    assert header["memory_slots"] == 3
    assert header["parameter_values"] == {"θ[0]": 0.1, "θ[1]": 0.2, "θ[2]": 0.3}
    assert header["metadata"] == {"experiment": 7}


def test_session_dependent_names_are_not_sent():
    unnamed = _measured(QuantumCircuit(1))
    assert '"name"' not in dumps(unnamed)
    theta = Parameter("x")
    named = QuantumCircuit(1, name="sweep")
    named.rx(theta, 0)
    named.measure_all()
    bound = named.assign_parameters([0.5])
    assert bound.name != "sweep"  # Qiskit appended a counter
    assert '"name":"sweep"' in dumps(bound)
    assert dumps(bound) == dumps(named.assign_parameters([0.5]))


_PARAMS = {name: Parameter(name) for name in ("a", "b", "c")}
_TREES = st.recursive(
    st.sampled_from(sorted(_PARAMS)) | st.floats(-3, 3, allow_nan=False),
    lambda inner: st.tuples(st.sampled_from(["+", "-", "*", "/", "neg"]), inner, inner),
    max_leaves=6,
)


def _qiskit_expression(tree):
    if isinstance(tree, str):
        return _PARAMS[tree]
    if isinstance(tree, float):
        return tree
    op, left, right = tree
    left, right = _qiskit_expression(left), _qiskit_expression(right)
    if op == "neg":
        return -left
    return {"+": operator.add, "-": operator.sub, "*": operator.mul, "/": operator.truediv}[op](
        left, right
    )


@settings(max_examples=80, deadline=None)
@given(tree=_TREES, values=st.tuples(*[st.floats(0.5, 2.0)] * 3))
def test_arithmetic_expressions_evaluate_like_qiskit(tree, values):
    try:
        expr = _qiskit_expression(tree)
    except (ZeroDivisionError, TypeError):  # Qiskit itself refuses some constant operands
        assume(False)
    assume(isinstance(expr, ParameterExpression) and expr.parameters)
    bound = {p: v for p, v in zip(_PARAMS.values(), values, strict=True) if p in expr.parameters}
    try:
        theirs = float(expr.bind(bound))
    except (ZeroDivisionError, RuntimeError):
        assume(False)
    assume(math.isfinite(theirs) and abs(theirs) < 1e6)
    qc = QuantumCircuit(1)
    qc.rz(expr, 0)
    qc.measure_all()
    gate = next(i for i in to_circuit(qc).instructions if i.name == "rz")
    ours = evaluate(gate.params[0], dict(zip(_PARAMS, values, strict=True)))
    assert ours == pytest.approx(theirs, rel=1e-9, abs=1e-9)


def test_functions_of_parameters_are_refused_with_advice():
    theta = Parameter("θ")
    qc = QuantumCircuit(1)
    qc.rx(theta.sin(), 0)
    qc.measure_all()
    with pytest.raises(ValidationError, match=r"sin.*assign_parameters"):
        dumps(qc)


@pytest.mark.parametrize(
    ("build", "message"),
    [
        (lambda qc: None, "no measurements"),
        (lambda qc: qc.rx(float("nan"), 0), "not finite"),
    ],
)
def test_unsendable_circuits_raise(build, message):
    qc = QuantumCircuit(1, 1)
    build(qc)
    if message != "no measurements":
        qc.measure(0, 0)
    with pytest.raises(ValidationError, match=message):
        dumps(qc)


def test_control_flow_travels_as_openqasm3_blocks():
    qc = QuantumCircuit(2, 2)
    qc.h(0)
    qc.measure(0, 0)
    with qc.if_test((qc.clbits[0], 1)):
        qc.x(1)
    qc.measure(1, 1)
    assert "if (c[0]) {\nx q[1];\n}\n" in dumps(qc)


def test_delays_are_dropped_with_a_warning_and_global_phase_ignored():
    qc = QuantumCircuit(1, 1, global_phase=0.3)
    qc.x(0)
    qc.delay(100, 0)
    qc.measure(0, 0)
    with pytest.warns(DelayDroppedWarning, match="1 delay"):
        text = dumps(qc)
    assert "delay" not in text
    plain = QuantumCircuit(1, 1)
    plain.x(0)
    plain.measure(0, 0)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert dumps(plain).split("\n")[3:] == text.split("\n")[3:]


def test_parameter_only_in_the_global_phase_is_not_sent():
    used, phase_only = Parameter("a"), Parameter("z")
    qc = QuantumCircuit(1, global_phase=phase_only)
    qc.rx(used, 0)
    qc.measure_all()
    assert convert(qc).program.parameters == ("a",)
    # Rows are given in circuit.parameters order (a, z); only a's column is sent.
    assert translate(qc, [[0.5, 9.0]]).payload.parameter_values == ((0.5,),)


def test_benchmark_sized_circuit_converts():
    qc = real_amplitudes(20, reps=10).decompose()
    qc.measure_all()
    assert len(to_circuit(qc).instructions) == len(qc.data)
    assert convert(qc).program.parameters == tuple(p.name for p in qc.parameters)


def test_rows_follow_circuit_parameters_whatever_the_order_of_first_use():
    b, a = Parameter("b"), Parameter("a")  # qc.parameters sorts them a, b
    qc = QuantumCircuit(1)
    qc.rx(b, 0)
    qc.ry(a, 0)
    qc.measure_all()
    entry = translate(qc, [[0.1, 0.2], {"a": 0.3, "b": 0.4}]).payload
    assert convert(qc).program.parameters == ("b", "a")  # first use
    assert entry.parameter_values == ((0.2, 0.1), (0.4, 0.3))
    _unitary_matches(qc, [0.1, 0.2])


def test_decomposed_circuits_keep_their_name_out_of_the_text():
    unnamed = QuantumCircuit(2)
    unnamed.rzz(0.3, 0, 1)
    unnamed.measure_all()
    assert '"name"' not in dumps(unnamed)
    assert convert(unnamed).layout.name == unnamed.name


@settings(max_examples=60, deadline=None)
@given(
    gates=st.lists(
        st.tuples(
            st.sampled_from(["h", "cx", "ry", "rz", "rx2", "r", "barrier", "reset", "u"]),
            st.integers(0, 2),
            st.integers(0, 5),
        ),
        min_size=1,
        max_size=25,
    )
)
def test_streaming_text_equals_the_neutral_circuit_text(gates):
    """dumps() streams into a Builder; to_circuit() into a Circuit: the texts are the same."""
    params = ParameterVector("v", 6)
    qc = QuantumCircuit(3, 3)
    for name, q, k in gates:
        if name == "h":
            qc.h(q)
        elif name == "cx":
            qc.cx(q, (q + 1) % 3)
        elif name in ("ry", "rz"):
            getattr(qc, name)(params[k], q)
        elif name == "rx2":
            qc.rx(2 * params[k] - 0.25, q)
        elif name == "r":
            qc.r(params[k], math.pi / 2 if k % 2 else 0.7, q)
        elif name == "u":
            qc.u(0.1 * k, params[k], -0.5, q)
        elif name == "barrier":
            qc.barrier()
        else:
            qc.reset(q)
    qc.measure([0, 1, 2], [0, 1, 2])
    assert dumps(qc) == qpi_qasm3.dumps(to_circuit(qc))
