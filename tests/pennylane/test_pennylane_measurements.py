"""Counts to PennyLane results: keys, synthesised samples, shapes."""

from __future__ import annotations

import numpy as np
import pennylane as qml
import pytest
from qpi_pennylane.measurements import (
    counts_in_wire_order,
    measurement_result,
    sample_rng,
    samples_from_counts,
    tape_result,
)
from qpi_pennylane.outcomes import Outcomes

from qpi.errors import ServerError


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


def _random_counts(rng, width, outcomes=40, shots=1000):
    keys = {format(int(k), f"0{width}b") for k in rng.integers(0, 2**width, outcomes)}
    split = rng.multinomial(shots, np.ones(len(keys)) / len(keys))
    return dict(zip(sorted(keys), split.tolist(), strict=True))


@pytest.mark.parametrize("seed", range(5))
def test_vectorised_results_equal_pennylanes_process_counts(seed):
    # PennyLane's own process_counts is the reference: the vectorised path must agree on
    # every measurement the device computes from counts.
    rng = np.random.default_rng(seed)
    counts = _random_counts(rng, 5)  # wire order: wires (0, 1, 2, 3, 4)
    wires = qml.wires.Wires(range(5))
    matrix = np.diag(rng.normal(size=4))
    measurements = [
        qml.expval(qml.Z(3)),
        qml.expval(qml.Z(0) @ qml.Z(2) @ qml.Z(4)),
        qml.expval(2.5 * (qml.Z(1) @ qml.Z(2))),
        qml.expval(qml.I(0)),
        qml.var(qml.Z(1) @ qml.Z(4)),
        qml.expval(qml.Hermitian(matrix, wires=[4, 1])),
        qml.var(qml.Hermitian(matrix, wires=[2, 0])),
        qml.measurements.ExpectationMP(eigvals=rng.normal(size=8), wires=[3, 0, 2]),
        qml.probs(wires=[4, 0, 2]),
        qml.probs(wires=[1]),
        qml.counts(wires=[3, 1]),
        qml.counts(wires=[2, 0], all_outcomes=True),
        qml.counts(qml.Z(0) @ qml.Z(1)),
    ]
    outcomes = Outcomes.from_wire_order(counts, 5)
    for mp in measurements:
        got = measurement_result(mp, outcomes, wires)
        want = mp.process_counts(dict(counts), wires)
        if isinstance(want, dict):
            assert got == want, mp
        else:
            np.testing.assert_allclose(got, want, rtol=1e-12, atol=1e-12, err_msg=str(mp))


def test_outcomes_parse_qpu_keys_and_merge_marginals():
    outcomes = Outcomes.from_qpu({"001": 3, "110": 0, "100": 2, "011": 1}, 3)
    assert outcomes.to_counts() == {"100": 3, "110": 1, "001": 2}
    assert outcomes.shots == 6
    assert outcomes.marginal([0]).to_counts() == {"0": 2, "1": 4}
    assert Outcomes.from_qpu({}, 2).to_counts() == {}
    # A key trimmed of its leading zeros is the same outcome.
    assert Outcomes.from_qpu({"1": 5}, 3).to_counts() == {"100": 5}


@pytest.mark.parametrize("key", ["0102", "10101", "1x"])
def test_outcomes_refuse_keys_that_are_not_binary_or_too_wide(key):
    with pytest.raises(ServerError, match="not a 4-bit binary string"):
        Outcomes.from_qpu({"0000": 3, key: 2}, 4)
