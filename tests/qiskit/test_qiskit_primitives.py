"""QPISampler, and Qiskit's own BackendSamplerV2/BackendEstimatorV2 around QPIBackend."""

from __future__ import annotations

import math

import numpy as np
import pytest
from qiskit import ClassicalRegister, QuantumCircuit, QuantumRegister
from qiskit.circuit import Parameter, ParameterVector
from qiskit.primitives import BackendEstimatorV2, BackendSamplerV2, BitArray
from qiskit.quantum_info import SparsePauliOp
from qpi_qiskit import QPISampler

from qpi import errors
from tests.qiskit.checks import SIGMAS, assert_close, bell, exact_probabilities


def two_registers() -> QuantumCircuit:
    q = QuantumRegister(3, "q")
    a, b = ClassicalRegister(1, "a"), ClassicalRegister(2, "b")
    qc = QuantumCircuit(q, a, b, name="regs")
    qc.h(0)
    qc.cx(0, 2)
    qc.x(1)
    qc.measure(0, a[0])
    qc.measure(1, b[0])
    qc.measure(2, b[1])
    return qc


def test_sampler_runs_every_pub_in_one_job(client, backend):
    theta = ParameterVector("t", 2)
    ansatz = QuantumCircuit(2)
    ansatz.ry(theta[0], 0)
    ansatz.ry(theta[1], 1)
    ansatz.cx(0, 1)
    ansatz.measure_all()
    grid = np.random.default_rng(2).uniform(0, np.pi, size=(2, 3, 2))
    sampler = QPISampler(backend, default_shots=800)
    before = len(client.list_jobs())
    job = sampler.run([(ansatz, grid), bell(), (two_registers(), None, 300)])
    result = job.result()
    assert len(client.list_jobs()) == before + 1
    entries = client.get_job(job.job_id())["payload"]["circuits"]
    assert len(entries) == 3 and len(entries[0]["parameter_values"]) == 6
    assert entries[2]["shots"] == 300

    sweep = result[0].data.meas
    assert isinstance(sweep, BitArray) and sweep.shape == (2, 3) and sweep.num_shots == 800
    for index in np.ndindex(2, 3):
        values = dict(zip(ansatz.parameters, grid[index], strict=True))
        assert_close(sweep[index].get_counts(), exact_probabilities(ansatz, values), 800)
    assert_close(result[1].data.c.get_counts(), {"00": 0.5, "11": 0.5}, 800)
    a, b = result[2].data.a, result[2].data.b
    assert (a.num_bits, b.num_bits, a.num_shots) == (1, 2, 300)
    # one shot's registers come from the same measurement: b[1] always equals a[0]
    assert np.array_equal(a.array[:, 0] & 1, (b.array[:, 0] >> 1) & 1)
    assert result[2].metadata["shots"] == 300


def test_sampler_refuses_invalid_default_shots(backend):
    with pytest.raises(errors.ValidationError):
        QPISampler(backend, default_shots=0)


def test_backend_sampler_v2_gets_real_samples(backend):
    result = BackendSamplerV2(backend=backend).run([bell(), two_registers()], shots=400).result()
    assert_close(result[0].data.c.get_counts(), exact_probabilities(bell()), 400)
    assert set(result[1].data.b.get_counts()) <= {"01", "11"}
    assert result[1].data.a.num_shots == 400


def test_backend_estimator_v2_expectation_values(backend):
    theta = Parameter("θ")
    qc = QuantumCircuit(2)
    qc.ry(theta, 0)
    qc.cx(0, 1)
    angles = np.array([0.0, 0.8, 2.0])
    observables = [SparsePauliOp("ZZ"), SparsePauliOp("XX"), SparsePauliOp("ZI")]
    estimator = BackendEstimatorV2(backend=backend, options={"default_precision": 0.02})
    result = estimator.run([(qc, [[o] for o in observables], angles)]).result()
    evs, stds = result[0].data.evs, result[0].data.stds
    assert evs.shape == (3, 3)
    expected = np.array([np.ones(3), np.sin(angles), np.cos(angles)])
    assert np.all(np.abs(evs - expected) <= SIGMAS * np.maximum(stds, 1e-3) + 1e-9)
    assert math.isclose(evs[0, 0], 1.0)
