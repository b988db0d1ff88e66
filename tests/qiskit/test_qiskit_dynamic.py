"""Dynamic circuits (issue 17): control flow on the wire, run by the ``qiskit_aer`` QPU.

Feed-forward statistics are compared with Aer's own results for the same circuit (20,000
seeded shots, run here) within 5 sigma of both sample sizes. QPUs whose executor cannot run
feed-forward (``mock``) refuse such circuits before anything is sent.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from qiskit import ClassicalRegister, QuantumCircuit, QuantumRegister, transpile
from qiskit.circuit import Parameter
from qiskit.circuit.classical import expr
from qiskit_aer import AerSimulator
from qpi_qiskit import QPISampler, dumps

from qpi import errors
from tests.qiskit.checks import SIGMAS

SHOTS = 4000
REFERENCE_SHOTS = 20_000


@pytest.fixture(scope="module")
def aer(client):
    return client.get_backend("qiskit_aer")


def aer_distribution(circuit: QuantumCircuit) -> dict[str, float]:
    sim = AerSimulator(seed_simulator=17)
    counts = sim.run(transpile(circuit, sim), shots=REFERENCE_SHOTS).result().get_counts()
    return {key.replace(" ", ""): n / REFERENCE_SHOTS for key, n in counts.items()}


def assert_matches_aer(counts: dict[str, int], circuit: QuantumCircuit) -> None:
    reference = aer_distribution(circuit)
    counts = {key.replace(" ", ""): n for key, n in counts.items()}
    shots = sum(counts.values())
    for key in set(counts) | set(reference):
        p = reference.get(key, 0.0)
        sigma = math.sqrt(p * (1 - p) * (1 / shots + 1 / REFERENCE_SHOTS))
        assert abs(counts.get(key, 0) / shots - p) <= SIGMAS * sigma + 1e-3, (key, counts, p)


def feed_forward() -> QuantumCircuit:
    """Reset-by-measurement and a conditional rotation: outcomes depend on the branch taken."""
    qc = QuantumCircuit(3, 3, name="feed-forward")
    qc.h(0)
    qc.ry(0.7, 1)
    qc.measure(0, 0)
    with qc.if_test((qc.clbits[0], 1)) as otherwise:
        qc.x(2)
        qc.ry(1.1, 1)
    with otherwise:
        qc.h(2)
    qc.measure([1, 2], [1, 2])
    return qc


def register_switch() -> QuantumCircuit:
    """A switch on a 2-bit register that is not the whole classical state, with a default."""
    q = QuantumRegister(3, "q")
    sel, out = ClassicalRegister(2, "sel"), ClassicalRegister(1, "out")
    qc = QuantumCircuit(q, sel, out, name="switch")
    qc.h([0, 1])
    qc.measure([0, 1], sel)
    with qc.switch(sel) as case:
        with case(0):
            qc.x(2)
        with case(1, 2):
            qc.ry(0.9, 2)
        with case(case.DEFAULT):
            qc.h(2)
    qc.measure(2, out[0])
    return qc


def register_if_else() -> QuantumCircuit:
    """``if (sel == 2) ... else ...`` on a register beside another one (nested one-bit ifs)."""
    sel, out = ClassicalRegister(2, "sel"), ClassicalRegister(1, "out")
    qc = QuantumCircuit(QuantumRegister(3), sel, out, name="if-register")
    qc.h([0, 1])
    qc.measure([0, 1], sel)
    with qc.if_test((sel, 2)) as otherwise:
        qc.x(2)
    with otherwise:
        qc.ry(0.4, 2)
    qc.measure(2, out[0])
    return qc


def repeat_until_success() -> QuantumCircuit:
    """A while loop: re-prepare and measure until the flag reads 0, with a bounded break."""
    qc = QuantumCircuit(2, 2, name="rus")
    qc.ry(1.2, 0)
    qc.measure(0, 0)
    with qc.while_loop((qc.clbits[0], 1)):
        qc.reset(0)
        qc.ry(1.2, 0)
        qc.measure(0, 0)
        qc.h(1)
        qc.measure(1, 1)
        with qc.if_test((qc.clbits[1], 1)):
            qc.break_loop()
    return qc


def expression_condition() -> QuantumCircuit:
    qc = QuantumCircuit(2, 2, name="expr")
    qc.h(0)
    qc.measure(0, 0)
    with qc.if_test(expr.logic_not(qc.clbits[0])):
        qc.x(1)
    qc.measure(1, 1)
    return qc


@pytest.mark.slow
@pytest.mark.parametrize(
    "build",
    [feed_forward, register_switch, register_if_else, repeat_until_success, expression_condition],
)
def test_feed_forward_statistics_match_aer(aer, build):
    circuit = build()
    counts = aer.run(circuit, shots=SHOTS).result().get_counts()
    assert_matches_aer(counts, circuit)


@pytest.mark.slow
def test_the_sampler_runs_dynamic_pubs_in_one_job(client, aer):
    theta = Parameter("θ")
    qc = QuantumCircuit(2, 2)
    qc.ry(theta, 0)
    qc.measure(0, 0)
    with qc.if_test((qc.clbits[0], 1)):
        qc.x(1)
    qc.measure(1, 1)
    angles = [0.3, 1.9]
    job = QPISampler(aer, default_shots=SHOTS).run([(qc, angles), feed_forward()])
    result = job.result()
    for index, angle in enumerate(angles):
        assert_matches_aer(result[0].data.c[index].get_counts(), qc.assign_parameters([angle]))
    assert_matches_aer(result[1].data.c.get_counts(), feed_forward())
    entries = client.get_job(job.job_id())["payload"]["circuits"]
    assert len(entries) == 2 and len(entries[0]["parameter_values"]) == 2


def test_for_loops_are_unrolled_and_run_on_any_qpu(backend):
    i = Parameter("i")
    qc = QuantumCircuit(1, 1)
    with qc.for_loop(range(3), loop_parameter=i):
        qc.rx(0.4 * i, 0)
    qc.measure(0, 0)
    assert "rx(0.8) q[0];" in dumps(qc)
    counts = backend.run(qc, shots=SHOTS).result().get_counts()  # the mock QPU
    p1 = math.sin(1.2 / 2) ** 2
    sigma = math.sqrt(p1 * (1 - p1) / SHOTS)
    assert abs(counts.get("1", 0) / SHOTS - p1) <= SIGMAS * sigma


def test_targets_say_which_qpus_run_feed_forward(client, aer, backend):
    assert {"if_else", "while_loop", "switch_case"} <= set(aer.target.operation_names)
    assert "if_else" not in backend.target.operation_names
    assert "for_loop" in backend.target.operation_names
    forced = client.get_backend("mock", control_flow=True)
    assert "if_else" in forced.target.operation_names
    isa = transpile(feed_forward(), aer)
    assert "if_else" in isa.count_ops()


def test_qpus_without_feed_forward_refuse_before_any_job(client, backend):
    before = len(client.list_jobs())
    for build in (feed_forward, repeat_until_success, register_switch):
        with pytest.raises(errors.ValidationError, match="cannot run classical control flow"):
            backend.run(build())
        with pytest.raises(errors.ValidationError, match="PUB 0.*cannot run classical control"):
            QPISampler(backend).run([build()])
    assert len(client.list_jobs()) == before


def test_conditions_the_wire_cannot_carry_are_refused(aer):
    qc = QuantumCircuit(2, 3)
    qc.measure([0, 1], [0, 1])
    with qc.if_test(expr.logic_and(qc.clbits[0], qc.clbits[1])):
        qc.x(0)
    qc.measure(0, 2)
    with pytest.raises(errors.ValidationError, match="cannot travel"):
        aer.run(qc)
    loop = QuantumCircuit(2, 3)
    loop.measure([0, 1], [0, 1])
    reg = ClassicalRegister(2, "r")
    loop.add_register(reg)
    loop.measure([0, 1], reg)
    with loop.while_loop((reg, 1)):
        loop.measure([0, 1], reg)
    with pytest.raises(errors.ValidationError, match="while_loop on .*one bit"):
        aer.run(loop)
    broken = QuantumCircuit(1, 1)
    with broken.for_loop(range(2)):
        broken.measure(0, 0)
        with broken.if_test((broken.clbits[0], 1)):
            broken.break_loop()
    with pytest.raises(errors.ValidationError, match="cannot be unrolled"):
        aer.run(broken)


def test_a_dynamic_job_read_back_by_id_keeps_its_registers(aer):
    job = aer.run(register_switch(), shots=100)
    first = job.result().get_counts()
    again = aer.job(job.job_id()).result().get_counts()
    assert again == first
    assert all(len(key.split(" ")) == 2 for key in again)  # "out sel"
    assert np.isclose(sum(again.values()), 100)
