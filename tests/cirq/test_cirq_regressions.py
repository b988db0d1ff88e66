"""Bugs found by running Cirq workloads through QPISampler, each pinned against cirq.Simulator."""

from __future__ import annotations

import asyncio
import itertools
import time

import cirq
import numpy as np
import pytest
import sympy
from qpi_cirq import QPISampler
from qpi_cirq.convert import to_circuit

from qpi.errors import ValidationError
from qpi.qpu_limits import check_fits
from tests.cirq.stats import assert_matches, exact_distribution

q0, q1, q2 = cirq.LineQubit.range(3)
t = sympy.Symbol("t")


def job_count(client) -> int:
    return len(client.list_jobs())


# -- symbolic Pauli exponentials ------------------------------------------------------------------

PAULI_EXPONENTIALS = {
    "PauliSumExponential": cirq.Circuit(
        cirq.H(q0),
        cirq.PauliSumExponential(cirq.X(q0) * cirq.Z(q1) + cirq.Z(q0) * cirq.Y(q1), exponent=t),
        cirq.measure(q0, q1, key="m"),
    ),
    "PauliStringPhasor": cirq.Circuit(
        cirq.H(q1),
        cirq.PauliStringPhasor(cirq.X(q0) * cirq.Y(q1) * cirq.Z(q2), exponent_neg=t),
        cirq.PauliStringPhasor(cirq.Y(q0) * cirq.X(q2), exponent_neg=0.3, exponent_pos=t / 2),
        cirq.measure(q0, q1, q2, key="m"),
    ),
}


@pytest.mark.parametrize("name", list(PAULI_EXPONENTIALS))
def test_symbolic_pauli_exponentials_run_as_on_cirq_simulator(sampler, name):
    # Regression: str(op) of a symbolic PauliStringPhasor compares its exponent with 0, and
    # the error location was built with it eagerly, so conversion died with a raw TypeError.
    circuit = PAULI_EXPONENTIALS[name]
    sweep = cirq.Points("t", [0.35, 1.3])
    for result, resolver in zip(sampler.run_sweep(circuit, sweep, repetitions=3000), sweep):
        assert_matches(result, exact_distribution(circuit, resolver), f"{name} at {resolver}")


# -- decompositions checked against the unitary ---------------------------------------------------


def test_a_three_qubit_diagonal_gate_is_exact_on_every_qubit_order(sampler, client):
    # Regression: Cirq 1.7's ThreeQubitDiagonalGate._decompose_ is wrong on 4 of 6 orders.
    angles = np.random.default_rng(3).uniform(-np.pi, np.pi, 8)
    gate = cirq.ThreeQubitDiagonalGate(angles)
    circuits = []
    for order in itertools.permutations((q0, q1, q2)):
        circuits.append(
            cirq.Circuit(
                cirq.H.on_each(q0, q1, q2),
                gate.on(*order),
                cirq.H.on_each(q0, q1, q2),
                cirq.measure(q0, q1, q2, key="m"),
            )
        )
        sent = to_circuit(circuits[-1])  # offline: the program text is exact too
        assert sent.num_qubits == 3
    before = job_count(client)
    batches = sampler.run_batch(circuits, repetitions=4000)
    assert job_count(client) == before + 1
    for circuit, (result,) in zip(circuits, batches, strict=True):
        assert_matches(result, exact_distribution(circuit), str(circuit))


# -- result shapes and types ----------------------------------------------------------------------


def test_records_are_int8_like_cirq_simulator(sampler):
    circuit = cirq.Circuit(cirq.X(q0), cirq.measure(q0, q1, key="m"))
    ours = sampler.run(circuit, repetitions=5)
    theirs = cirq.Simulator().run(circuit, repetitions=5)
    assert ours.records["m"].dtype == theirs.records["m"].dtype == np.int8
    # Regression: with uint8, 1 - 2 * bits gave 255 where Cirq gives -1.
    np.testing.assert_array_equal(1 - 2 * ours.records["m"], 1 - 2 * theirs.records["m"])
    assert ours == theirs


def test_nested_sweepables_are_flattened_as_cirq_does(sampler, client):
    circuit = cirq.Circuit(cirq.rx(t).on(q0), cirq.measure(q0, key="m"))
    params = [[{"t": 0.0}, cirq.ParamResolver({"t": np.pi})], cirq.Points("t", [0.0, np.pi])]
    before = job_count(client)
    results = sampler.run_sweep(circuit, params, repetitions=20)
    assert job_count(client) == before + 1
    want = cirq.Simulator().run_sweep(circuit, params, repetitions=20)
    assert [r.params for r in results] == [r.params for r in want]
    assert [int(r.measurements["m"].sum()) for r in results] == [0, 20, 0, 20]


def test_zero_repetitions_give_empty_results_and_send_nothing(sampler, client):
    circuit = cirq.Circuit(cirq.H(q0), cirq.measure(q0, q1, key="a"), cirq.measure(q2, key="b"))
    before = job_count(client)
    (ours,) = sampler.run_sweep(circuit, None, repetitions=0)
    assert job_count(client) == before
    assert ours.repetitions == 0
    # cirq.Simulator gives float64 arrays of shape (0, 1, 1) for every key here; ours keep
    # the key's width and dtype, i.e. the shape of one repetition with no rows.
    one = cirq.Simulator().run(circuit, repetitions=1)
    for key in ("a", "b"):
        assert ours.records[key].shape == (0, *one.records[key].shape[1:])
        assert ours.records[key].dtype == np.int8
    assert ours.job_id is None


def test_results_carry_their_job_id(sampler, client):
    circuit = cirq.Circuit(cirq.H(q0), cirq.measure(q0, key="m"))
    results = sampler.run_sweep(circuit, cirq.Points("x", [1, 2]), repetitions=10)
    newest = client.list_jobs(limit=1)[0]["id"]
    assert [r.job_id for r in results] == [newest, newest]
    assert sampler.job_results(newest)[0][0].job_id == newest


def test_cancelling_a_run_sweep_async_task_cancels_the_job(sampler, client):
    # A job that runs for a while: many rows of a 16-qubit circuit.
    qubits = cirq.LineQubit.range(16)
    circuit = cirq.Circuit(
        [cirq.rx(t * (i + 1)).on(q) for i, q in enumerate(qubits)],
        [cirq.CNOT(a, b) for a, b in itertools.pairwise(qubits)],
        [cirq.ry(t).on(q) for q in qubits],
        cirq.measure(*qubits, key="m"),
    )
    sweep = cirq.Linspace("t", 0, 1, 3000)
    before = {job["id"] for job in client.list_jobs()}

    async def main() -> str:
        task = asyncio.ensure_future(sampler.run_sweep_async(circuit, sweep, repetitions=1000))
        deadline = time.monotonic() + 60
        new: list[str] = []
        while not new and time.monotonic() < deadline:
            await asyncio.sleep(0.05)
            new = [job["id"] for job in client.list_jobs() if job["id"] not in before]
        assert new, "the job was never submitted"
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        return new[0]

    job_id = asyncio.run(main())
    # Cancelled at once if the task was waiting; as soon as it is created if the task was
    # still submitting it.
    deadline = time.monotonic() + 30
    status = client.get_job(job_id)["status"]
    while status in ("pending", "running") and time.monotonic() < deadline:
        time.sleep(0.1)
        status = client.get_job(job_id)["status"]
    assert status == "cancelled"


# -- the QPU's limits, checked before sending -----------------------------------------------------


def test_a_circuit_wider_than_the_qpu_is_refused_before_sending(sampler, client):
    width = client.get_qpu(client.resolve_qpu("mock"))["num_qubits"]
    qubits = cirq.LineQubit.range(width + 1)
    circuit = cirq.Circuit(cirq.X.on_each(*qubits), cirq.measure(*qubits, key="m"))
    before = job_count(client)
    with pytest.raises(ValidationError, match=rf"circuit 0 uses {width + 1} qubits .* {width}"):
        sampler.run(circuit, repetitions=10)
    assert job_count(client) == before


def test_shots_over_a_qpus_stated_limit_are_refused():
    record = {"name": "small", "num_qubits": 5, "max_shots": 1000}
    check_fits(record, [("circuit 0", 5, 1000)])
    with pytest.raises(ValidationError, match="2000 shots .* at most 1000"):
        check_fits(record, [("circuit 0", 2, 100), ("circuit 1", 2, 2000)])
    check_fits({"name": "unstated"}, [("circuit 0", 500, 10**9)])  # nothing to check against


def test_sampler_repr_names_its_backend(client):
    assert "mock" in repr(QPISampler(client, backend="mock"))
