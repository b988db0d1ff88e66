"""Counts -> cirq.ResultDict: bit order, key split, invert masks, repeated keys, determinism."""

from __future__ import annotations

import cirq
import numpy as np
import pytest
from qpi_cirq import to_circuit
from qpi_cirq.results import shot_bits, to_results

from qpi.errors import ServerError
from qpi.result import ExperimentResult

a, b, c = cirq.LineQubit.range(3)


def experiment(counts=None, memory=None, row=0) -> ExperimentResult:
    shots = sum(counts.values()) if counts else len(memory)
    return ExperimentResult(circuit=0, row=row, shots=shots, counts=counts, memory=memory)


def layout(circuit: cirq.Circuit) -> dict:
    return to_circuit(circuit).metadata["cirq"]


def test_clbit_zero_is_the_rightmost_character():
    bits = shot_bits(experiment({"110": 4}), 3)
    assert bits.shape == (4, 3) and bits.dtype == np.int8
    assert (bits == [0, 1, 1]).all()


def test_keys_are_split_back_with_invert_masks_and_instances():
    circuit = cirq.Circuit(
        cirq.measure(c, a, key="m", invert_mask=(True,)),
        cirq.measure(b, key="z"),
        cirq.measure(c, a, key="m"),
    )
    # clbits: m#0 -> (c, a) at 0, 1; z -> b at 2; m#1 -> (c, a) at 3, 4.
    # Register value (clbit 4 .. 0) 10110: c0=0, c1=1, c2=1, c3=0, c4=1.
    (result,) = to_results([experiment({"10110": 3})], layout(circuit), [cirq.ParamResolver()])
    assert isinstance(result, cirq.ResultDict)
    assert result.records["m"].shape == (3, 2, 2)
    assert (result.records["m"][:, 0] == [1, 1]).all()  # c0 = 0 inverted
    assert (result.records["m"][:, 1] == [0, 1]).all()
    assert (result.records["z"] == [[[1]]]).all()
    assert result.records["z"].shape == (3, 1, 1)


def test_params_are_the_resolvers():
    circuit = cirq.Circuit(cirq.measure(a, key="m"))
    resolvers = [cirq.ParamResolver({"t": 0.1}), cirq.ParamResolver({"t": 0.2})]
    results = to_results(
        [experiment({"0": 5}), experiment({"1": 5}, row=1)], layout(circuit), resolvers
    )
    assert [r.params for r in results] == resolvers
    assert results[1].measurements["m"].tolist() == [[1]] * 5


def test_synthesised_shots_are_shuffled_but_reproducible():
    counts = {"00": 300, "01": 200, "10": 100, "11": 400}
    first = shot_bits(experiment(counts), 2)
    again = shot_bits(experiment(dict(reversed(counts.items()))), 2)
    assert np.array_equal(first, again)  # same counts, same records (cache replays)
    ordered = np.repeat([[0, 0], [1, 0], [0, 1], [1, 1]], [300, 200, 100, 400], axis=0)
    assert not np.array_equal(first, ordered)
    other_seed = shot_bits(experiment(counts), 2, seed=1)
    assert not np.array_equal(first, other_seed)
    for bits in (first, other_seed):
        values, numbers = np.unique(bits[:, 0] + 2 * bits[:, 1], return_counts=True)
        assert dict(zip(values.tolist(), numbers.tolist())) == {0: 300, 1: 200, 2: 100, 3: 400}


def test_per_shot_memory_is_used_in_order_when_the_server_sends_it():
    bits = shot_bits(experiment(memory=["01", "10", "0x3"]), 2)
    assert bits.tolist() == [[1, 0], [0, 1], [1, 1]]


def test_an_outcome_wider_than_the_register_is_a_server_error():
    with pytest.raises(ServerError, match="does not fit"):
        shot_bits(experiment({"101": 1}), 2)
