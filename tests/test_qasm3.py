"""Unit tests of the OpenQASM 3 writer and parser (qpi.qasm3)."""

from __future__ import annotations

import math

import pytest

from qpi import qasm3
from qpi.circuit import GATES, Circuit, Expr, Instruction, Param
from qpi.errors import ValidationError
from qpi.payload import CircuitPayload
from qpi.qasm3 import QasmError, QasmSyntaxError, QasmUnsupportedError

HEADER = 'OPENQASM 3.0;\ninclude "stdgates.inc";\n'


def bell(name: str | None = "bell") -> Circuit:
    circuit = Circuit(2, 2, name=name)
    circuit.append("h", [0]).append("cx", [0, 1])
    return circuit.measure(0, 0).measure(1, 1)


def one_gate(value: object, name: str = "rz") -> Circuit:
    return Circuit(1, parameters=None).append(name, [0], [value])


def param_text(value: object) -> str:
    """The printed parameter of a one-gate circuit."""
    line = qasm3.dumps(one_gate(value)).splitlines()[-1]
    return line[len("rz(") : -len(") q[0];")]


# -- writer: format ------------------------------------------------------------------------------


def test_write_bell_exact_text() -> None:
    assert qasm3.dumps(bell()) == (
        HEADER + '// qpi:meta {"name":"bell"}\n'
        "bit[2] c;\n"
        "qubit[2] q;\n"
        "h q[0];\n"
        "cx q[0], q[1];\n"
        "c[0] = measure q[0];\n"
        "c[1] = measure q[1];\n"
    )


def test_write_every_instruction_kind() -> None:
    circuit = Circuit(3, 1, parameters=["theta"])
    circuit.append("rz", [1], [Param("theta")])
    circuit.append("cu", [0, 2], [0.1, 0.2, 0.3, 0.4])
    circuit.append("ccx", [2, 0, 1])
    circuit.append("barrier", [0, 1])
    circuit.append("barrier", [])
    circuit.append("reset", [2])
    circuit.measure(2, 0)
    assert qasm3.dumps(circuit) == (
        HEADER + "input float[64] p0;\n"
        "bit[1] c;\n"
        "qubit[3] q;\n"
        "rz(p0) q[1];\n"
        "cu(0.1, 0.2, 0.3, 0.4) q[0], q[2];\n"
        "ccx q[2], q[0], q[1];\n"
        "barrier q[0], q[1];\n"
        "barrier;\n"
        "reset q[2];\n"
        "c[0] = measure q[2];\n"
    )


def test_no_clbits_no_bit_declaration_and_no_meta_without_name() -> None:
    text = qasm3.dumps(Circuit(1).append("x", [0]))
    assert text == HEADER + "qubit[1] q;\nx q[0];\n"


def test_dumps_is_write_text() -> None:
    assert qasm3.dumps(bell()) == qasm3.write(bell()).text


def test_write_is_deterministic_and_ends_with_newline() -> None:
    assert qasm3.dumps(bell()) == qasm3.dumps(bell())
    assert qasm3.dumps(bell()).endswith(";\n")


# -- writer: inputs --------------------------------------------------------------------------------


def test_inputs_renamed_in_declared_parameter_order() -> None:
    circuit = Circuit(1, parameters=["zeta", "alpha"])
    circuit.append("rx", [0], [Param("alpha")]).append("ry", [0], [Param("zeta")])
    program = qasm3.write(circuit)
    assert program.inputs == ("p0", "p1")
    assert program.parameters == ("zeta", "alpha")
    assert "input float[64] p0;\ninput float[64] p1;\n" in program.text
    assert "rx(p1) q[0];\nry(p0) q[0];" in program.text


def test_inputs_in_first_use_order_when_parameters_is_none() -> None:
    circuit = Circuit(1)
    circuit.append("rx", [0], [Param("b")]).append("ry", [0], [Param("z") + Param("a")])
    program = qasm3.write(circuit)
    # First use; names inside one expression in sorted order (as Circuit.input_names()).
    assert program.parameters == ("b", "a", "z") == tuple(circuit.input_names())
    assert "ry(p2 + p1) q[0];" in program.text


@pytest.mark.parametrize(
    ("count", "first", "last"),
    [(1, "p0", "p0"), (10, "p0", "p9"), (11, "p00", "p10"), (101, "p000", "p100")],
)
def test_input_names_zero_padded_so_sorted_order_is_row_order(
    count: int, first: str, last: str
) -> None:
    circuit = Circuit(1, parameters=[f"t{i}" for i in range(count)])
    for i in range(count):
        circuit.append("rz", [0], [Param(f"t{i}")])
    program = qasm3.write(circuit)
    assert program.inputs[0] == first and program.inputs[-1] == last
    assert list(program.inputs) == sorted(program.inputs)
    declared = [line.split()[-1][:-1] for line in program.text.splitlines() if "input" in line]
    assert declared == list(program.inputs)


def test_renamed_parameters_give_identical_text() -> None:
    def build(a: str, b: str) -> Circuit:
        circuit = Circuit(2)
        circuit.append("rx", [0], [Param(a)]).append("crz", [0, 1], [2 * Param(b) - Param(a)])
        return circuit

    assert qasm3.dumps(build("theta", "phi")) == qasm3.dumps(build("x[0]", "weird name"))


def test_unused_declared_parameter_is_still_an_input() -> None:
    circuit = Circuit(1, parameters=["a", "unused"]).append("rz", [0], [Param("a")])
    assert qasm3.write(circuit).inputs == ("p0", "p1")


# -- writer: numbers and expressions --------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "text"),
    [
        (0.1, "0.1"),
        (2, "2.0"),
        (-0.5, "-0.5"),
        (1e-05, "1e-05"),
        (1e20, "1e+20"),
        (math.pi, "3.141592653589793"),
        (1 / 3, "0.3333333333333333"),
    ],
)
def test_numbers_shortest_round_trip(value: float, text: str) -> None:
    assert param_text(value) == text
    assert float(text) == value


@pytest.mark.parametrize(
    ("expr", "text"),
    [
        (Param("a") + 1, "p0 + 1.0"),
        (Param("a") - -0.5, "p0 - (-0.5)"),
        (-0.5 * Param("a"), "(-0.5) * p0"),
        (2 * (Param("a") + 1), "2.0 * (p0 + 1.0)"),
        ((Param("a") + 1) * 2, "(p0 + 1.0) * 2.0"),
        (Param("a") - (Param("a") - 1), "p0 - (p0 - 1.0)"),
        ((Param("a") - Param("a")) - 1, "p0 - p0 - 1.0"),
        (Param("a") / (Param("a") * 2), "p0 / (p0 * 2.0)"),
        (Param("a") * 2 / 3, "p0 * 2.0 / 3.0"),
        (Param("a") + Param("a") * 2, "p0 + p0 * 2.0"),
        (-Param("a"), "-p0"),
        (Expr("neg", (-Param("a"),)), "-(-p0)"),
        (-(Param("a") * 2), "-(p0 * 2.0)"),
        (-Param("a") * 2, "-p0 * 2.0"),
        (Param("a") - -Param("a"), "p0 - -p0"),
        (Expr("+", (Expr("*", (2.0, 3.0)), Param("a"))), "6.0 + p0"),  # constants folded
        (Expr("neg", (0.5,)) + Param("a"), "(-0.5) + p0"),
        (Expr("*", (2.0, 0.25)), "0.5"),
    ],
)
def test_expression_printing(expr: Expr, text: str) -> None:
    assert param_text(expr) == text


def test_pi_is_never_emitted() -> None:
    text = qasm3.dumps(one_gate(Param("a") * math.pi))
    assert "pi" not in text and "3.141592653589793" in text


# -- writer: validation -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("circuit", "match"),
    [
        (Circuit(1).append("foo", [0]), "not an OpenQASM 3 stdgates.inc gate"),
        (Circuit(2).append("cx", [0]), "takes 2 qubit"),
        (Circuit(1).append("rz", [0]), "takes 1 qubit"),
        (Circuit(1).append("x", [3]), "qubit 3 is outside"),
        (Circuit(2).append("cx", [1, 1]), "same qubit"),
        (Circuit(1, 1).measure(0, 2), "clbit 2 is outside"),
        (Circuit(1).measure(0, 0), "clbit 0 is outside"),
        (Circuit(1, parameters=["a"]).append("rz", [0], [Param("b")]), "not in circuit.param"),
        (Circuit(1).append("rz", [0], [float("nan")]), "not finite"),
        (Circuit(1).append("rz", [0], ["1.0"]), "must be a number"),
        (Circuit(1).append("x", [0], [], [0]), "writes no clbits"),
        (Circuit(0), "at least one qubit"),
        (Circuit(1, parameters=["a", "a"]), "unique"),
    ],
)
def test_write_rejects_invalid_circuits(circuit: Circuit, match: str) -> None:
    with pytest.raises(ValidationError, match=match):
        qasm3.write(circuit)


def test_write_error_names_the_instruction() -> None:
    circuit = Circuit(2).append("h", [0]).append("h", [1]).append("x", [5])
    with pytest.raises(ValidationError, match="instruction 2"):
        qasm3.write(circuit)


def test_constant_division_by_zero_is_rejected() -> None:
    with pytest.raises(ValidationError, match="divides by zero"):
        qasm3.write(one_gate(Expr("/", (1.0, 0.0)) + Param("a")))


def test_bool_qubit_index_is_rejected() -> None:
    with pytest.raises(ValidationError, match="qubit True"):
        qasm3.write(Circuit(2).append("x", [True]))


def test_metadata_must_be_json() -> None:
    circuit = Circuit(1, metadata={"bad": object()})
    with pytest.raises(ValidationError, match="JSON"):
        qasm3.write(circuit)


def test_metadata_comment_is_canonical_json_with_name() -> None:
    circuit = Circuit(1, 2, name="n", metadata={"creg_sizes": [["a", 1], ["b", 1]], "z": 1.5})
    line = qasm3.dumps(circuit).splitlines()[2]
    assert line == '// qpi:meta {"creg_sizes":[["a",1],["b",1]],"name":"n","z":1.5}'


# -- to_payload --------------------------------------------------------------------------------


def test_to_payload_rows_and_inputs() -> None:
    circuit = Circuit(1, parameters=["b", "a"])
    circuit.append("rx", [0], [Param("a")]).append("ry", [0], [Param("b")])
    payload = qasm3.to_payload(circuit, [[1, 2], [3, 4]], shots=100)
    assert isinstance(payload, CircuitPayload)
    assert payload.circuit == qasm3.dumps(circuit)
    assert payload.parameter_values == ((1.0, 2.0), (3.0, 4.0))
    assert payload.shots == 100
    assert payload.inputs == ("p0", "p1")


def test_to_payload_accepts_a_mapping() -> None:
    circuit = Circuit(1, parameters=["b", "a"])
    circuit.append("rx", [0], [Param("a")]).append("ry", [0], [Param("b")])
    assert qasm3.to_payload(circuit, {"a": 2, "b": 1}).parameter_values == ((1.0, 2.0),)
    columns = qasm3.to_payload(circuit, {"a": [2, 4], "b": [1, 3]})
    assert columns.parameter_values == ((1.0, 2.0), (3.0, 4.0))
    with pytest.raises(ValidationError, match="do not match"):
        qasm3.to_payload(circuit, {"a": 1})


def test_to_payload_accepts_numpy_rows() -> None:
    import numpy as np

    circuit = Circuit(1).append("rx", [0], [Param("a")]).append("ry", [0], [Param("b")])
    payload = qasm3.to_payload(circuit, np.array([[1.0, 2.0], [3.0, 4.0]]))
    assert payload.parameter_values == ((1.0, 2.0), (3.0, 4.0))


def test_to_payload_without_inputs() -> None:
    payload = qasm3.to_payload(bell())
    assert payload.parameter_values is None and payload.inputs == ()


def test_to_payload_row_errors_name_the_circuit_inputs() -> None:
    circuit = Circuit(1).append("rx", [0], [Param("theta")])
    with pytest.raises(ValidationError, match=r"row 0 has 2 value\(s\).*\['theta'\]"):
        qasm3.to_payload(circuit, [[1, 2]])
    with pytest.raises(ValidationError, match=r"\['theta'\] but no parameter_values"):
        qasm3.to_payload(circuit)


# -- parser: what write emits ------------------------------------------------------------------


def test_parse_round_trips_writer_output() -> None:
    circuit = Circuit(3, 2, parameters=["b", "a"], name="demo", metadata={"k": [1, 2]})
    circuit.append("rx", [0], [Param("a") * -2 + 0.5]).append("cu", [1, 2], [Param("b"), 1, 2, 3])
    circuit.append("barrier", [0, 2]).append("reset", [1]).measure(0, 1).measure(2, 0)
    text = qasm3.dumps(circuit)
    parsed = qasm3.parse(text)
    assert qasm3.dumps(parsed) == text
    parsed.validate()
    assert parsed.name == "demo" and parsed.metadata == {"k": [1, 2]}
    assert parsed.parameters == ["p0", "p1"]
    assert parsed.instructions[-2:] == [
        Instruction("measure", (0,), (), (1,)),
        Instruction("measure", (2,), (), (0,)),
    ]


def test_parse_every_gate() -> None:
    lines = []
    for name, (num_qubits, num_params) in GATES.items():
        args = f"({', '.join(['0.5'] * num_params)})" if num_params else ""
        lines.append(f"{name}{args} {', '.join(f'q[{i}]' for i in range(num_qubits))};")
    circuit = qasm3.parse(HEADER + "qubit[3] q;\n" + "\n".join(lines))
    assert [inst.name for inst in circuit.instructions] == list(GATES)
    assert all(inst.params == (0.5,) * GATES[inst.name][1] for inst in circuit.instructions)


# -- parser: hand-written programs ------------------------------------------------------------


@pytest.mark.parametrize("header", ["OPENQASM 3;", "OPENQASM 3.0;", "OPENQASM 3.1;", ""])
def test_parse_version_headers(header: str) -> None:
    text = header + '\ninclude "stdgates.inc";\nqubit q;\nx q;\n'
    assert qasm3.parse(text).instructions == [Instruction("x", (0,))]


def test_parse_comments() -> None:
    text = """// leading comment
    OPENQASM 3; /* a block
    comment over lines; with ; inside */ include "stdgates.inc";
    qubit[1] q; // trailing
    x q[0];
    """
    assert qasm3.parse(text).instructions == [Instruction("x", (0,))]


def test_parse_flattens_registers_and_records_creg_sizes() -> None:
    text = (
        HEADER
        + """
    qubit[2] a;
    bit[1] m;
    qubit b;
    bit[2] n;
    cx a[1], b;
    m[0] = measure b;
    n = measure a;
    """
    )
    circuit = qasm3.parse(text)
    assert (circuit.num_qubits, circuit.num_clbits) == (3, 3)
    assert circuit.instructions == [
        Instruction("cx", (1, 2)),
        Instruction("measure", (2,), (), (0,)),
        Instruction("measure", (0,), (), (1,)),
        Instruction("measure", (1,), (), (2,)),
    ]
    assert circuit.metadata == {"creg_sizes": [["m", 1], ["n", 2]]}


def test_single_register_named_c_records_no_creg_sizes() -> None:
    assert qasm3.parse(HEADER + "bit[2] c;\nqubit[2] q;\n").metadata is None
    assert qasm3.parse(HEADER + "bit[2] d;\nqubit[2] q;\n").metadata == {"creg_sizes": [["d", 2]]}


def test_parse_measure_forms() -> None:
    text = (
        HEADER
        + """
    qubit[2] q;
    bit[2] c;
    measure q[1] -> c[0];
    c[1] = measure q[0];
    measure q -> c;
    c = measure q;
    """
    )
    pairs = [(i.qubits[0], i.clbits[0]) for i in qasm3.parse(text).instructions]
    assert pairs == [(1, 0), (0, 1), (0, 0), (1, 1), (0, 0), (1, 1)]


def test_parse_reset_barrier_and_broadcast() -> None:
    text = (
        HEADER
        + """
    qubit[2] q;
    qubit[2] r;
    h q;
    cx q, r;
    cx q[0], r;
    reset r;
    barrier;
    barrier q, r[0];
    """
    )
    assert qasm3.parse(text).instructions == [
        Instruction("h", (0,)),
        Instruction("h", (1,)),
        Instruction("cx", (0, 2)),
        Instruction("cx", (1, 3)),
        Instruction("cx", (0, 2)),
        Instruction("cx", (0, 3)),
        Instruction("reset", (2,)),
        Instruction("reset", (3,)),
        Instruction("barrier", ()),
        Instruction("barrier", (0, 1, 2)),
    ]


def test_parse_inputs_sorted_and_names_kept() -> None:
    text = (
        HEADER
        + """
    input float[64] zeta;
    input float alpha;
    input angle a10;
    input angle[32] a9;
    qubit q;
    rx(zeta + alpha) q;
    u2(a10, a9) q;
    """
    )
    circuit = qasm3.parse(text)
    assert circuit.parameters == ["a10", "a9", "alpha", "zeta"]  # code-point order
    assert circuit.instructions[0].params == (Param("zeta") + Param("alpha"),)
    assert circuit.instructions[1].params == (Param("a10"), Param("a9"))


@pytest.mark.parametrize(
    ("source", "value"),
    [
        ("1", 1.0),
        ("2.5", 2.5),
        (".5", 0.5),
        ("1e-3", 1e-3),
        ("1.5E+2", 150.0),
        ("pi", math.pi),
        ("π", math.pi),
        ("tau", math.tau),
        ("τ", math.tau),
        ("euler", math.e),
        ("ℇ", math.e),
        ("-pi/2", -math.pi / 2),
        ("pi - -1", math.pi + 1),
        ("2 * (3 + 4)", 14.0),
        ("2 * 3 + 4", 10.0),
        ("8 / 4 / 2", 1.0),
        ("1 - 2 - 3", -4.0),
        ("-(1 + 2)", -3.0),
        ("(-0.5)", -0.5),
    ],
)
def test_parse_constant_expressions_fold(source: str, value: float) -> None:
    circuit = qasm3.parse(HEADER + f"qubit q;\nrz({source}) q;\n")
    assert circuit.instructions[0].params == (value,)


def test_parse_parametric_expression_tree() -> None:
    circuit = qasm3.parse(HEADER + "input float a;\nqubit q;\nrz(-a * 2 + pi / 2 - a / 4) q;\n")
    (expr,) = circuit.instructions[0].params
    assert isinstance(expr, Expr)
    assert expr.evaluate({"a": 0.3}) == pytest.approx(-0.3 * 2 + math.pi / 2 - 0.3 / 4)


def test_parse_meta_comment() -> None:
    text = HEADER + '// qpi:meta {"name":"x","creg_sizes":[["c",1]]}\nqubit q;\n'
    circuit = qasm3.parse(text)
    assert circuit.name == "x" and circuit.metadata == {"creg_sizes": [["c", 1]]}


# -- parser: unsupported constructs -----------------------------------------------------------


@pytest.mark.parametrize(
    "body",
    [
        "gate g a { x a; }",
        "if (c[0]) x q[0];",
        "for int i in [0:1] { x q[0]; }",
        "while (true) { x q[0]; }",
        "ctrl @ x q[0], q[1];",
        "negctrl @ x q[0], q[1];",
        "inv @ s q[0];",
        "pow(2) @ s q[0];",
        "def f() { }",
        "let r = q;",
        "const float k = 1.0;",
        "int i;",
        "float f;",
        "qreg r[1];",
        "creg d[1];",
        "output bit o;",
        "delay[100ns] q[0];",
        "gphase(0.1);",
        "u(0.1, 0.2, 0.3) q[0];",
        "rz(sin(0.1)) q[0];",
        "rz(2 ** 2) q[0];",
        "x q[0:1];",
        "measure q[0];",
        "x $0;",
        "c[0] = 1;",
        "bit[1] d = 0;",
        "input int[8] n;",
        "@annotation x q[0];",
        "#pragma foo",
        "box { x q[0]; }",
    ],
)
def test_unsupported_constructs(body: str) -> None:
    text = HEADER + "qubit[2] q;\nbit[2] c;\n" + body + "\n"
    with pytest.raises(QasmUnsupportedError):
        qasm3.parse(text)


@pytest.mark.parametrize(
    "text",
    [
        'OPENQASM 2.0;\ninclude "qelib1.inc";\nqreg q[1];\n',
        'OPENQASM 3;\ninclude "other.inc";\nqubit q;\n',
        'OPENQASM 3;\ninclude "stdgates.inc";\n',  # no qubits
    ],
)
def test_unsupported_programs(text: str) -> None:
    with pytest.raises(QasmUnsupportedError):
        qasm3.parse(text)


# -- parser: syntax errors ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("body", "line", "column", "match"),
    [
        ("x q[0]\nx q[1];", 6, 1, "expected ';'"),
        ("rz(0.5 q[0];", 5, 8, r"expected '\)'"),
        ("x r[0];", 5, 3, "'r' is not a declared qubit register"),
        ("x q[7];", 5, 5, "out of range"),
        ("x q[0]; ?", 5, 9, "unexpected character"),
        ("x q[0]; /* open", 5, 9, "unterminated"),
        ("rz() q[0];", 5, 4, "expected a number"),
        ("rz(0.1, 0.2) q[0];", 5, 1, "takes 1 parameter"),
        ("cx q[0];", 5, 1, "acts on 2 qubit"),
        ("cx q[0], q[0];", 5, 1, "same qubit"),
        ("rz(theta) q[0];", 5, 4, "'theta' is not a declared input"),
        ("qubit[2] q;", 5, 10, "already declared"),
        ("c[0] = measure q;", 5, 1, "sizes"),
        ("OPENQASM 3;", 5, 1, "first statement"),
        ("rz(1/0) q[0];", 5, 5, "division by zero"),
        ("rz(1e999) q[0];", 5, 4, "not a finite"),
        ("x q[0.5];", 5, 5, "integer"),
        ("17;", 5, 1, "expected a statement"),
        ("d[0] = measure q[0];", 5, 1, "'d' is not declared"),
        ("foo;", 5, 1, "unknown statement"),
    ],
)
def test_syntax_errors_give_line_and_column(body: str, line: int, column: int, match: str) -> None:
    text = HEADER + "qubit[2] q;\nbit[1] c;\n" + body
    with pytest.raises(QasmSyntaxError, match=match) as caught:
        qasm3.parse(text)
    assert (caught.value.line, caught.value.column) == (line, column)
    assert str(caught.value).startswith(f"{line}:{column}: ")


def test_stdgates_need_the_include() -> None:
    with pytest.raises(QasmSyntaxError, match="stdgates.inc"):
        qasm3.parse("OPENQASM 3;\nqubit q;\nh q;\n")
    assert qasm3.parse("OPENQASM 3;\nqubit q;\nU(0, 0, 0) q;\n").instructions[0].name == "U"


def test_unterminated_input_reports_end() -> None:
    with pytest.raises(QasmSyntaxError, match="end of input") as caught:
        qasm3.parse(HEADER + "qubit q;\nrz(")
    assert caught.value.line == 4


def test_bad_meta_comment_is_a_syntax_error() -> None:
    with pytest.raises(QasmSyntaxError, match="not JSON") as caught:
        qasm3.parse(HEADER + "// qpi:meta {oops\nqubit q;\n")
    assert (caught.value.line, caught.value.column) == (3, 1)


def test_errors_are_validation_errors_and_pickle() -> None:
    import pickle

    assert issubclass(QasmError, ValidationError) and issubclass(QasmError, ValueError)
    error = QasmSyntaxError("bad", line=2, column=3)
    copy = pickle.loads(pickle.dumps(error))
    assert str(copy) == "2:3: bad" and (copy.line, copy.column) == (2, 3)


def test_parse_rejects_non_text() -> None:
    with pytest.raises(QasmSyntaxError):
        qasm3.parse(b"OPENQASM 3;")  # type: ignore[arg-type]


def test_circuit_validation_catches_what_the_writer_never_sees():
    with pytest.raises(ValidationError, match="qubit True"):
        Circuit(2, 0, [Instruction("x", (True,))]).validate()
    with pytest.raises(ValidationError, match="non-empty strings"):
        Circuit(1, 0, [], parameters=["a", ""]).validate()
    with pytest.raises(ValidationError, match="finite"):
        Expr("+", (Param("a"), float("nan")))
    with pytest.raises(ValidationError, match="division by zero"):
        (Param("a") / Param("b")).evaluate({"a": 1.0, "b": 0.0})
