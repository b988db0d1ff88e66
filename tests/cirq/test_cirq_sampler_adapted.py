"""Cirq's own sampler tests, adapted to QPISampler against a LocalServer.

Adapted from ``cirq-core/cirq/work/sampler_test.py`` in github.com/quantumlib/Cirq (Cirq 1.x,
Apache-2.0): the same circuits, sweeps and expected answers, run through QPISampler on the
``mock`` QPU over real HTTP instead of ``cirq.Simulator`` or ``cirq.ZerosSampler``.

Differences, each for a reason:

* Tests of ``cirq.Sampler``'s own plumbing with hand-made samplers (``FailingSampler``,
  ``AsyncSampler``, ``SyncSampler``, the "not run inline" and "run_batch_async calls
  run_sweep_async" checks, the deterministic imbalanced sampler) test Cirq's base class, not a
  sampler; they are left out.
* ``ZerosSampler`` returns zeros whatever the circuit; here the circuits run, so where Cirq
  expects zeros from an ``X`` the expectation is the bit the circuit really gives, and swept
  exponents are whole numbers so that every outcome is certain.
* Mismatched ``run_batch`` lengths raise our ``ValidationError`` (a ``ValueError``, as Cirq
  asks) with our own message, which names both counts in words.
* Records are ``int8``, as ``cirq.Simulator`` gives them (Cirq's ``ZerosSampler`` uses
  ``uint8``); the values compared are the same.
"""

from __future__ import annotations

import cirq
import duet
import numpy as np
import pandas as pd
import pytest
import sympy


@pytest.fixture
def sim(sampler):
    """The sampler under test, named as Cirq's tests name theirs."""
    return sampler


# -- async ------------------------------------------------------------------------------------


def test_run_async(sim):
    circuit = cirq.Circuit(cirq.measure(cirq.GridQubit(0, 0), key="m"))

    @duet.sync
    async def run():
        return await sim.run_async(circuit, repetitions=10)

    np.testing.assert_equal(run().records["m"], np.zeros((10, 1, 1)))


def test_run_sweep_async(sim):
    circuit = cirq.Circuit(cirq.measure(cirq.GridQubit(0, 0), key="m"))

    @duet.sync
    async def run():
        return await sim.run_sweep_async(circuit, cirq.Linspace("foo", 0, 1, 10), repetitions=10)

    results = run()
    assert len(results) == 10
    for result in results:
        np.testing.assert_equal(result.records["m"], np.zeros((10, 1, 1)))


# -- sample -----------------------------------------------------------------------------------


def test_sampler_sample_multiple_params(sim):
    a, b = cirq.LineQubit.range(2)
    s, t = sympy.symbols("s t")
    circuit = cirq.Circuit(cirq.X(a) ** s, cirq.X(b) ** t, cirq.measure(a, b, key="out"))
    params = [{"s": 0, "t": 0}, {"s": 0, "t": 1}, {"s": 1, "t": 0}, {"s": 1, "t": 1}]
    frame = sim.sample(circuit, repetitions=3, params=params)
    rows = [[s_, t_, 2 * s_ + t_] for s_, t_ in ((0, 0), (0, 1), (1, 0), (1, 1)) for _ in range(3)]
    want = pd.DataFrame(columns=["s", "t", "out"], index=[0, 1, 2] * 4, data=rows)
    pd.testing.assert_frame_equal(frame, want)


def test_sampler_sample_sweep(sim):
    a = cirq.LineQubit(0)
    t = sympy.Symbol("t")
    circuit = cirq.Circuit(cirq.X(a) ** t, cirq.measure(a, key="out"))
    frame = sim.sample(circuit, repetitions=3, params=cirq.Linspace("t", 0, 2, 3))
    rows = [[value, int(value) % 2] for value in (0.0, 1.0, 2.0) for _ in range(3)]
    want = pd.DataFrame(columns=["t", "out"], index=[0, 1, 2] * 3, data=rows)
    pd.testing.assert_frame_equal(frame, want)


def test_sampler_sample_no_params(sim):
    a, b = cirq.LineQubit.range(2)
    circuit = cirq.Circuit(cirq.X(a), cirq.measure(a, b, key="out"))
    frame = sim.sample(circuit, repetitions=3)
    want = pd.DataFrame(columns=["out"], index=[0, 1, 2], data=[[2], [2], [2]])
    pd.testing.assert_frame_equal(frame, want)


def test_sampler_sample_inconsistent_keys(sim):
    q = cirq.LineQubit(0)
    circuit = cirq.Circuit(cirq.measure(q, key="out"))
    with pytest.raises(ValueError, match="Inconsistent sweep parameters"):
        sim.sample(circuit, params=[{"a": 1}, {"a": 1, "b": 2}])


# -- run_batch ----------------------------------------------------------------------------------


def test_sampler_run_batch(sim):
    a = cirq.LineQubit(0)
    circuit1 = cirq.Circuit(cirq.X(a) ** sympy.Symbol("t"), cirq.measure(a, key="m"))
    circuit2 = cirq.Circuit(cirq.Y(a) ** sympy.Symbol("t"), cirq.measure(a, key="m"))
    params1 = cirq.Points("t", [0, 2])  # Cirq: 0.3, 0.7 (its ZerosSampler ignores them)
    params2 = cirq.Points("t", [1, 3])
    results = sim.run_batch(
        [circuit1, circuit2], params_list=[params1, params2], repetitions=[1, 2]
    )
    assert len(results) == 2
    for result, param in zip(results[0], [0, 2], strict=True):
        assert result.repetitions == 1
        assert result.params.param_dict == {"t": param}
        assert result.measurements == {"m": np.array([[0]], dtype="int8")}
    for result, param in zip(results[1], [1, 3], strict=True):
        assert result.repetitions == 2
        assert result.params.param_dict == {"t": param}
        assert len(result.measurements) == 1
        assert np.array_equal(result.measurements["m"], np.array([[1], [1]], dtype="int8"))


def test_sampler_run_batch_default_params_and_repetitions(sim):
    a = cirq.LineQubit(0)
    circuit1 = cirq.Circuit(cirq.X(a), cirq.measure(a, key="m"))
    circuit2 = cirq.Circuit(cirq.Y(a), cirq.measure(a, key="m"))
    results = sim.run_batch([circuit1, circuit2])
    assert len(results) == 2
    for result_list in results:
        assert len(result_list) == 1
        result = result_list[0]
        assert result.repetitions == 1
        assert result.params.param_dict == {}
        assert result.measurements == {"m": np.array([[1]], dtype="int8")}


def test_sampler_run_batch_bad_input_lengths(sim):
    a = cirq.LineQubit(0)
    circuit1 = cirq.Circuit(cirq.X(a) ** sympy.Symbol("t"), cirq.measure(a, key="m"))
    circuit2 = cirq.Circuit(cirq.Y(a) ** sympy.Symbol("t"), cirq.measure(a, key="m"))
    params1 = cirq.Points("t", [0.3, 0.7])
    params2 = cirq.Points("t", [0.4, 0.6])
    with pytest.raises(ValueError, match="2 program.* 1 sweep"):
        sim.run_batch([circuit1, circuit2], params_list=[params1])
    with pytest.raises(ValueError, match="2 program.* 3 repetition"):
        sim.run_batch([circuit1, circuit2], params_list=[params1, params2], repetitions=[1, 2, 3])


# -- sample_expectation_values --------------------------------------------------------------------


def test_sampler_simple_sample_expectation_values(sim):
    a = cirq.LineQubit(0)
    circuit = cirq.Circuit(cirq.H(a))
    results = sim.sample_expectation_values(circuit, [cirq.X(a)], num_samples=1000)
    assert np.allclose(results, [[1]])


def test_sampler_sample_expectation_values_multi_param(sim):
    a = cirq.LineQubit(0)
    t = sympy.Symbol("t")
    circuit = cirq.Circuit(cirq.X(a) ** t)
    results = sim.sample_expectation_values(
        circuit, [cirq.Z(a)], num_samples=5, params=cirq.Linspace("t", 0, 2, 3)
    )
    assert np.allclose(results, [[1], [-1], [1]])


def test_sampler_sample_expectation_values_complex_param(sim):
    a = cirq.LineQubit(0)
    t = sympy.Symbol("t")
    circuit = cirq.Circuit(cirq.global_phase_operation(t))
    results = sim.sample_expectation_values(
        circuit, [cirq.Z(a)], num_samples=5, params=cirq.Points("t", [1, 1j, (1 + 1j) / np.sqrt(2)])
    )
    assert np.allclose(results, [[1], [1], [1]])


def test_sampler_sample_expectation_values_multi_qubit(sim):
    q = cirq.LineQubit.range(3)
    circuit = cirq.Circuit(cirq.X(q[0]), cirq.X(q[1]), cirq.X(q[2]))
    obs = cirq.Z(q[0]) + cirq.Z(q[1]) + cirq.Z(q[2])
    results = sim.sample_expectation_values(circuit, [obs], num_samples=5)
    assert np.allclose(results, [[-3]])


def test_sampler_sample_expectation_values_composite(sim):
    q = cirq.LineQubit.range(3)
    t = [sympy.Symbol(f"t{x}") for x in range(3)]
    circuit = cirq.Circuit(cirq.X(q[0]) ** t[0], cirq.X(q[1]) ** t[1], cirq.X(q[2]) ** t[2])
    obs = [cirq.Z(q[x]) for x in range(3)]
    # t0 varies fastest, so row i holds the bits of i, least significant first.
    params = ([{"t0": t0, "t1": t1, "t2": t2} for t2 in (0, 1) for t1 in (0, 1) for t0 in (0, 1)],)
    results = sim.sample_expectation_values(circuit, obs, num_samples=5, params=params)
    assert len(results) == 8
    want = [[1 - 2 * ((i >> bit) & 1) for bit in range(3)] for i in range(8)]
    assert np.allclose(results, want)


def test_sampler_simple_sample_expectation_requirements(sim):
    a = cirq.LineQubit(0)
    circuit = cirq.Circuit(cirq.H(a))
    obs = cirq.X(a)
    with pytest.raises(ValueError, match="at least one sample"):
        sim.sample_expectation_values(circuit, [obs], num_samples=0)
    with pytest.raises(ValueError, match="At least one observable"):
        sim.sample_expectation_values(circuit, [], num_samples=1)
    circuit.append(cirq.measure(a, key="out"))
    with pytest.raises(ValueError, match="permit_terminal_measurements"):
        sim.sample_expectation_values(circuit, [obs], num_samples=1)
