"""Grouping the tapes of one execution into circuit entries and rows of one job."""

from __future__ import annotations

import pennylane as qml
import pytest
from qpi_pennylane.batch import JobPlan, plan_jobs

WIRES = qml.wires.Wires([0, 1])


def _tape(x, shots=100, measure=None):
    ops = [qml.RX(x, wires=0), qml.CNOT(wires=[0, 1])]
    return qml.tape.QuantumScript(ops, [measure or qml.expval(qml.Z(1))], shots=shots)


def test_tapes_differing_in_values_are_one_circuit_with_a_row_each():
    plan = JobPlan([_tape(0.1), _tape(0.2), _tape(0.3)], WIRES)
    payload = plan.payload("qpu-id")
    assert len(payload.circuits) == 1
    assert payload.circuits[0].parameter_values == ((0.1,), (0.2,), (0.3,))
    assert plan.entries[0].slots == [(0, 0), (1, 0), (2, 0)]
    assert payload.qpu_target == "qpu-id" and payload.shots == 100


def test_different_structures_are_different_circuits_of_the_same_job():
    plan = JobPlan([_tape(0.1), _tape(0.2, measure=qml.probs(wires=[0, 1])), _tape(0.3)], WIRES)
    assert [len(e.rows) for e in plan.entries] == [2, 1]
    assert plan.entries[0].slots == [(0, 0), (2, 0)]


def test_shot_vector_components_are_rows_of_entries_per_shot_count():
    plan = JobPlan([_tape(0.1, shots=(100, 100, 300)), _tape(0.2, shots=300)], WIRES)
    entries = {e.shots: e for e in plan.entries}
    assert entries[100].slots == [(0, 0), (0, 1)]
    assert entries[300].slots == [(0, 2), (1, 0)]
    payload = plan.payload()
    assert payload.shots == 100
    assert [c.shots for c in payload.circuits] == [None, 300]
    assert plan.total_shots == 100 + 100 + 300 + 300 and plan.num_experiments == 4


def test_a_circuit_without_inputs_repeats_with_empty_rows():
    tape = qml.tape.QuantumScript([qml.H(0)], [qml.expval(qml.Z(0))], shots=10)
    payload = JobPlan([tape, tape], WIRES).payload()
    assert payload.circuits[0].parameter_values == ((), ())
    assert payload.num_experiments == 2
    assert JobPlan([tape], WIRES).payload().circuits[0].parameter_values is None


def test_a_batch_over_the_size_cap_is_split_into_jobs_that_fit():
    def wide(x):
        ops = [qml.RX(x + 0.001 * k, wires=0) for k in range(30)]
        return qml.tape.QuantumScript(ops, [qml.expval(qml.Z(0))], shots=100)

    tapes = [wide(0.01 * i) for i in range(40)]
    (whole,) = plan_jobs(tapes, WIRES, max_bytes=1 << 20)
    size = len(whole[1].to_json())
    parts = plan_jobs(tapes, WIRES, max_bytes=size // 3)
    assert 3 <= len(parts) <= 6  # a few jobs, not one per tape
    assert [t for plan, _ in parts for t in plan.tapes] == tapes
    assert all(len(p.to_json()) <= size // 3 for _, p in parts)


@pytest.mark.parametrize("shots", [None, 0])
def test_a_plan_needs_shots(shots):
    with pytest.raises(ValueError):
        JobPlan([_tape(0.1, shots=shots)], WIRES).payload()
