"""Property tests: random circuits through the writer, the parser, Qiskit and the simulator.

(a) write -> parse -> write is the identity on text.
(b) For measurement-free circuits, the unitary of the written text as Qiskit loads it equals
    the unitary our simulator computes (up to a global phase), with random input values.
(c) For measured circuits, the counts of ``run_circuit`` match exact outcome probabilities
    computed with Qiskit's ``Statevector`` (branching explicitly at every measurement and
    reset), within 5 sigma of the shot count.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from qpi import qasm3
from qpi.circuit import GATES, Circuit, Expr, Instruction, Param
from qpi.server.statevector import run_circuit, unitary

qiskit = pytest.importorskip("qiskit")
qiskit_qasm3 = pytest.importorskip("qiskit.qasm3")
quantum_info = pytest.importorskip("qiskit.quantum_info")

PROFILE = settings(
    max_examples=200,
    deadline=None,
    derandomize=True,  # the same examples every run: a failure is reproducible, never luck
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
SHOTS = 2000

# -- strategies ----------------------------------------------------------------------------------

numbers = st.one_of(
    st.floats(-7.0, 7.0, allow_nan=False, allow_infinity=False),
    st.integers(-4, 4),
    st.sampled_from([0.0, -0.0, 0.5, -1e-05, 1e-300, math.pi]),
)
divisors = st.one_of(st.floats(0.5, 8.0), st.floats(-8.0, -0.5))


def expressions(names: list[str]) -> st.SearchStrategy:
    """Numbers, inputs, and arithmetic of them (division only by non-zero constants)."""
    leaves = numbers | st.sampled_from(names).map(Param) if names else numbers

    def extend(children: st.SearchStrategy) -> st.SearchStrategy:
        return st.one_of(
            st.tuples(st.sampled_from("+-*"), children, children).map(
                lambda t: Expr(t[0], (t[1], t[2]))
            ),
            children.map(lambda c: Expr("neg", (c,))),
            st.tuples(children, divisors).map(lambda t: Expr("/", (t[0], t[1]))),
        )

    return st.recursive(leaves, extend, max_leaves=5)


@st.composite
def gates(draw: st.DrawFn, num_qubits: int, names: list[str]) -> Instruction:
    choices = sorted(name for name, (nq, _) in GATES.items() if nq <= num_qubits)
    name = draw(st.sampled_from(choices))
    nq, np_ = GATES[name]
    qubits = draw(st.permutations(range(num_qubits)))[:nq]
    params = tuple(draw(expressions(names)) for _ in range(np_))
    return Instruction(name, tuple(qubits), params)


@st.composite
def directives(draw: st.DrawFn, num_qubits: int, num_clbits: int) -> Instruction:
    kinds = ["reset", "barrier"] + (["measure"] * 3 if num_clbits else [])
    kind = draw(st.sampled_from(kinds))
    qubit = draw(st.integers(0, num_qubits - 1))
    if kind == "measure":
        return Instruction("measure", (qubit,), (), (draw(st.integers(0, num_clbits - 1)),))
    if kind == "reset":
        return Instruction("reset", (qubit,))
    chosen = draw(st.lists(st.integers(0, num_qubits - 1), unique=True, max_size=num_qubits))
    return Instruction("barrier", tuple(chosen))


json_values = st.recursive(
    st.none() | st.booleans() | st.integers(-100, 100) | st.text(max_size=4),
    lambda children: (
        st.lists(children, max_size=3) | st.dictionaries(st.text(max_size=3), children, max_size=3)
    ),
    max_leaves=5,
)


@st.composite
def circuits(
    draw: st.DrawFn, *, measured: bool | None = None, max_qubits: int = 5, max_size: int = 12
) -> Circuit:
    """Random valid circuits; ``measured=False``: gates and barriers only; ``True``: with
    at least one measurement; ``None``: anything."""
    num_qubits = draw(st.integers(1, max_qubits))
    num_clbits = draw(st.integers(1 if measured else 0, 5))
    names = draw(st.lists(st.text(min_size=1, max_size=4), unique=True, max_size=4))
    ops = st.one_of(gates(num_qubits, names), directives(num_qubits, num_clbits))
    if measured is False:
        ops = st.one_of(gates(num_qubits, names), st.builds(lambda: Instruction("barrier", ())))
    instructions = []
    if measured:  # start from superpositions, so most examples have several outcomes
        hadamards = draw(st.lists(st.integers(0, num_qubits - 1), unique=True, min_size=1))
        instructions.extend(Instruction("h", (q,)) for q in hadamards)
    instructions.extend(draw(st.lists(ops, max_size=max_size)))
    if measured:  # end by measuring every qubit (clbits may be overwritten: also a case)
        instructions.extend(
            Instruction("measure", (q,), (), (q % num_clbits,)) for q in range(num_qubits)
        )
    declared = draw(st.none() | st.permutations(names))
    return Circuit(
        num_qubits,
        num_clbits,
        instructions,
        parameters=None if declared is None else list(declared),
        name=draw(st.none() | st.text(max_size=5)),
        metadata=draw(st.none() | st.dictionaries(st.text(max_size=4), json_values, max_size=3)),
    )


def random_row(circuit: Circuit, seed: int) -> list[float]:
    return list(np.random.default_rng(seed).uniform(-4, 4, len(circuit.input_names())))


def load_bound(circuit: Circuit, row: list[float]):
    """The written text as the QPU driver loads it, bound positionally as the driver binds."""
    loaded = qiskit_qasm3.loads(qasm3.dumps(circuit))
    return loaded.assign_parameters(row) if loaded.parameters else loaded


# -- (a) round trip --------------------------------------------------------------------------------


@PROFILE
@given(circuits())
def test_write_parse_write_is_stable(circuit: Circuit) -> None:
    text = qasm3.dumps(circuit)
    parsed = qasm3.parse(text)
    parsed.validate()
    assert qasm3.dumps(parsed) == text
    assert len(parsed.parameters) == len(circuit.input_names())


# -- (b) unitaries against Qiskit --------------------------------------------------------------


@PROFILE
@given(circuits(measured=False), st.integers(0, 2**32 - 1))
def test_unitary_matches_qiskit(circuit: Circuit, seed: int) -> None:
    row = random_row(circuit, seed)
    expected = quantum_info.Operator(load_bound(circuit, row))
    ours = unitary(circuit, row if row else None)
    assert expected.equiv(quantum_info.Operator(ours), atol=1e-8)
    # And our own parse of the text simulates the same (rows in sorted input order).
    reparsed = unitary(qasm3.parse(qasm3.dumps(circuit)), row if row else None)
    assert np.allclose(reparsed, ours, atol=1e-9)


# -- (c) distributions against exact probabilities ---------------------------------------------


def exact_distribution(qc, num_clbits: int) -> dict[str, float]:
    """Exact probabilities of each clbit string, by branching a Statevector at measurements."""
    Statevector, Operator = quantum_info.Statevector, quantum_info.Operator
    index = {bit: i for i, bit in enumerate(qc.qubits)}
    cindex = {bit: i for i, bit in enumerate(qc.clbits)}
    branches = [(1.0, Statevector.from_label("0" * qc.num_qubits), (0,) * num_clbits)]
    for inst in qc.data:
        name = inst.operation.name
        qubits = [index[q] for q in inst.qubits]
        if name == "barrier":
            continue
        if name not in ("measure", "reset"):
            op = Operator(inst.operation)
            branches = [(p, s.evolve(op, qubits), c) for p, s, c in branches]
            continue
        split = []
        for p, state, clbits in branches:
            p1 = float(state.probabilities([qubits[0]])[1])
            for outcome, weight in ((0, 1 - p1), (1, p1)):
                if weight < 1e-12:
                    continue
                projector = np.diag([1 - outcome, outcome])
                state_out = state.evolve(Operator(projector), qubits) / math.sqrt(weight)
                bits = list(clbits)
                if name == "measure":
                    bits[cindex[inst.clbits[0]]] = outcome
                elif outcome:
                    state_out = state_out.evolve(Operator(np.array([[0, 1], [1, 0]])), qubits)
                split.append((p * weight, state_out, tuple(bits)))
        branches = split
    distribution: dict[str, float] = {}
    for p, _, clbits in branches:
        key = "".join(str(b) for b in reversed(clbits))
        distribution[key] = distribution.get(key, 0.0) + p
    return distribution


@PROFILE
@given(circuits(measured=True, max_qubits=4, max_size=10), st.integers(0, 2**32 - 1))
def test_counts_match_exact_probabilities(circuit: Circuit, seed: int) -> None:
    row = random_row(circuit, seed)
    names = [inst.name for inst in circuit.instructions]
    exact = exact_distribution(load_bound(circuit, row), circuit.num_clbits)
    (entry,) = run_circuit(circuit, [row] if row else None, SHOTS, rng=np.random.default_rng(seed))
    observed = entry["counts"]
    assert sum(observed.values()) == SHOTS
    event(f"inputs: {bool(row)}; reset: {'reset' in names}; outcomes: {min(len(exact), 4)}+")
    assert all(exact.get(key, 0.0) > 1e-9 for key in observed), (observed, exact)
    for key, p in exact.items():
        # 5 sigma of the binomial count; the +4 keeps the bound honest for tiny p, where
        # the count's distribution is far from Gaussian.
        bound = 5 * math.sqrt(SHOTS * p * (1 - p) + 4)
        assert abs(observed.get(key, 0) - SHOTS * p) <= bound, (key, p, observed)
