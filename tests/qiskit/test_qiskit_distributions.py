"""Output distributions of the local QPUs agree with exact probabilities and with Aer (5 sigma)."""

from __future__ import annotations

import math

import numpy as np
import pytest
from qiskit import ClassicalRegister, QuantumCircuit, QuantumRegister, transpile
from qiskit.circuit import ParameterVector

from tests.qiskit.checks import SIGMAS, assert_close, bell, exact_probabilities

SHOTS = 4000


def ghz(n: int) -> QuantumCircuit:
    qc = QuantumCircuit(n, name=f"ghz{n}")
    qc.h(0)
    for i in range(n - 1):
        qc.cx(i, i + 1)
    qc.measure_all()
    return qc


def ansatz() -> QuantumCircuit:
    theta = ParameterVector("θ", 6)
    qc = QuantumCircuit(3, name="ansatz")
    for i in range(3):
        qc.ry(theta[i], i)
    qc.cx(0, 1)
    qc.cx(1, 2)
    for i in range(3):
        qc.rz(theta[3 + i] * 2 - 0.3, i)
        qc.rx(theta[i] / 2 + theta[3 + i], i)
    qc.measure_all()
    return qc


@pytest.mark.parametrize("qpu", ["mock", "qiskit_aer"])
def test_bell_and_ghz(client, qpu):
    backend = client.get_backend(qpu)
    circuits = [bell(), ghz(3), ghz(5)]
    result = backend.run(circuits, shots=SHOTS).result()
    for i, qc in enumerate(circuits):
        assert_close(result.get_counts(i), exact_probabilities(qc), SHOTS)


def test_parametric_ansatz_with_many_rows_is_one_job(client, backend):
    qc = ansatz()
    rows = np.random.default_rng(5).uniform(-np.pi, np.pi, size=(24, 6))
    before = len(client.list_jobs())
    result = backend.run(qc, parameter_values=rows, shots=2000).result()
    assert len(client.list_jobs()) == before + 1
    assert len(result.results) == len(rows)
    for i, row in enumerate(rows):
        assert_close(
            result.get_counts(i), exact_probabilities(qc, dict(zip(qc.parameters, row))), 2000
        )


def test_multiple_registers(backend):
    qr = QuantumRegister(3, "q")
    low, high = ClassicalRegister(2, "low"), ClassicalRegister(1, "high")
    qc = QuantumCircuit(qr, low, high, name="registers")
    qc.h(0)
    qc.cx(0, 1)
    qc.ry(1.1, 2)
    qc.measure(0, high[0])
    qc.measure(1, low[0])
    qc.measure(2, low[1])
    counts = backend.run(qc, shots=SHOTS).result().get_counts()
    assert all(len(key.split(" ")) == 2 for key in counts)
    assert_close(counts, exact_probabilities(qc), SHOTS)


def test_mid_circuit_measurement_matches_aer(backend):
    from qiskit_aer import AerSimulator

    qc = QuantumCircuit(2, 3, name="mid")
    qc.ry(1.0, 0)
    qc.measure(0, 0)
    qc.cx(0, 1)
    qc.reset(0)
    qc.rx(0.7, 0)
    qc.cx(1, 0)
    qc.measure(0, 1)
    qc.measure(1, 2)
    ours = backend.run(qc, shots=SHOTS).result().get_counts()
    aer = AerSimulator(seed_simulator=3)
    theirs = aer.run(transpile(qc, aer), shots=SHOTS).result().get_counts()
    for key in set(ours) | set(theirs):
        n1, n2 = ours.get(key, 0), theirs.get(key, 0)
        pooled = (n1 + n2) / (2 * SHOTS)
        sigma = math.sqrt(pooled * (1 - pooled) * 2 / SHOTS)
        assert abs(n1 - n2) / SHOTS <= SIGMAS * sigma + 1 / SHOTS, (key, ours, theirs)
