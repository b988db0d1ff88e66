"""Counts to PennyLane results: keys, synthesised samples, shapes."""

from __future__ import annotations

import numpy as np
import pennylane as qml
import pytest
from qpi_pennylane.measurements import (
    counts_in_wire_order,
    sample_rng,
    samples_from_counts,
    tape_result,
)


def test_qpu_keys_are_reversed_into_wire_order_and_zeros_dropped():
    # QPU: clbit 0 rightmost; PennyLane: the first measured wire leftmost.
    assert counts_in_wire_order({"001": 3, "110": 0, "100": 2}) == {"100": 3, "001": 2}


def test_samples_have_the_counts_multiplicities_in_a_seeded_order():
    counts = {"00": 5, "11": 7, "10": 1}
    a = samples_from_counts(counts, 2, sample_rng(1, 2, 3))
    b = samples_from_counts(counts, 2, sample_rng(1, 2, 3))
    c = samples_from_counts(counts, 2, sample_rng(1, 2, 4))
    assert a.shape == (13, 2) and a.dtype == np.int64
    rows = ["".join(map(str, r)) for r in a]
    assert {k: rows.count(k) for k in counts} == counts
    np.testing.assert_array_equal(a, b)
    assert not np.array_equal(a, c)  # another experiment gets another order


def test_samples_do_not_depend_on_the_order_of_the_counts_dict():
    one = samples_from_counts({"0": 4, "1": 6}, 1, sample_rng(7))
    two = samples_from_counts({"1": 6, "0": 4}, 1, sample_rng(7))
    np.testing.assert_array_equal(one, two)


def _tape(measurements, shots):
    return qml.tape.QuantumScript([], measurements, shots=shots)


def test_every_measurement_type_from_counts():
    counts = {"00": 30, "01": 10, "11": 60}  # wire order (0, 1)
    tape = _tape(
        [
            qml.expval(qml.Z(0)),
            qml.var(qml.Z(1)),
            qml.probs(wires=[1, 0]),
            qml.counts(wires=[0]),
            qml.sample(wires=[0, 1]),
            qml.expval(qml.Z(0) @ qml.Z(1)),
        ],
        100,
    )
    ev, var, probs, cnt, samples, zz = tape_result(tape, [counts], (0, 1), [sample_rng(0)])
    assert ev == pytest.approx((30 + 10 - 60) / 100)
    p1 = 0.7  # wire 1 reads 1 in "01" and "11"
    assert var == pytest.approx(1 - (1 - 2 * p1) ** 2)
    np.testing.assert_allclose(probs, [0.3, 0.0, 0.1, 0.6])  # index = wire1 wire0
    assert cnt == {"0": 40, "1": 60}
    assert samples.shape == (100, 2)
    assert zz == pytest.approx((30 - 10 + 60) / 100)


def test_a_shot_vector_gives_one_result_per_component():
    tape = _tape([qml.expval(qml.Z(0)), qml.probs(wires=[0])], (10, 20))
    out = tape_result(tape, [{"0": 10}, {"1": 20}], (0,), [sample_rng(0), sample_rng(1)])
    assert isinstance(out, tuple) and len(out) == 2
    assert out[0][0] == pytest.approx(1.0) and out[1][0] == pytest.approx(-1.0)
    np.testing.assert_allclose(out[1][1], [0.0, 1.0])


def test_a_single_measurement_is_not_wrapped_in_a_tuple():
    tape = _tape([qml.expval(qml.Z(0))], 4)
    assert tape_result(tape, [{"1": 4}], (0,), [sample_rng(0)]) == pytest.approx(-1.0)
