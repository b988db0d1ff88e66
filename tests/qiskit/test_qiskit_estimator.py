"""QPIEstimator's own contract (issue 17): what goes on the wire, broadcasting, and rebuilding.

Expected values come from Qiskit's StatevectorEstimator (exact), compared within 5 sigma.
"""

from __future__ import annotations

import numpy as np
import pytest
from qiskit import QuantumCircuit
from qiskit.circuit import ParameterVector
from qiskit.primitives import PrimitiveResult, StatevectorEstimator
from qiskit.quantum_info import SparseObservable, SparsePauliOp
from qpi_qiskit import QPIEstimator, QPIPrimitiveJob

from qpi import errors
from tests.qiskit.checks import assert_estimates

PRECISION = 0.02


def ansatz(num_qubits: int) -> QuantumCircuit:
    theta = ParameterVector("t", 2 * num_qubits)
    qc = QuantumCircuit(num_qubits)
    for q in range(num_qubits):
        qc.ry(theta[q], q)
    for q in range(num_qubits - 1):
        qc.cx(q, q + 1)
    for q in range(num_qubits):
        qc.rz(theta[num_qubits + q], q)
    return qc


def exact(pubs):
    return [r.data.evs for r in StatevectorEstimator().run(pubs).result()]


def test_each_basis_is_sent_once_with_every_row(client, backend):
    qc = ansatz(3)
    hamiltonian = SparsePauliOp(["ZZI", "IZZ", "XXI", "IXX", "YYY", "III"], [1, 1, 0.5, 0.5, 2, -1])
    values = np.random.default_rng(4).uniform(-2, 2, (20, qc.num_parameters))
    job = QPIEstimator(backend, options={"default_precision": PRECISION}).run(
        [(qc, hamiltonian, values)]
    )
    data = job.result()[0].data
    assert_estimates(data, exact([(qc, hamiltonian, values)])[0], PRECISION)
    circuits = client.get_job(job.job_id())["payload"]["circuits"]
    assert len(circuits) == 3  # {ZZI, IZZ}, {XXI, IXX}, {YYY}; the identity needs none
    assert all(len(c["parameter_values"]) == 20 for c in circuits)
    assert all(c["shots"] == 2500 for c in circuits)
    assert all("input float[64]" in c["circuit"] for c in circuits)  # bound on the server


def test_rows_go_only_to_the_bases_their_observables_need(client, backend):
    qc = ansatz(2)
    values = np.random.default_rng(5).uniform(-2, 2, (3, qc.num_parameters))
    observables = ["ZI", "XX", "IZ"]  # element-wise with the three rows
    job = QPIEstimator(backend, options={"default_precision": PRECISION}).run(
        [(qc, observables, values)]
    )
    assert_estimates(job.result()[0].data, exact([(qc, observables, values)])[0], PRECISION)
    circuits = client.get_job(job.job_id())["payload"]["circuits"]
    assert sorted(len(c["parameter_values"]) for c in circuits) == [1, 2]


@pytest.mark.parametrize(
    ("values_shape", "observables"),
    [
        ((4, 1), ["ZZ", "XI", "YY"]),  # (4, 1) with (3,) → (4, 3)
        ((2, 3), [["ZZ"], ["XX"]]),  # (2, 3) with (2, 1) → (2, 3)
        ((), [["ZI", "IZ"], ["XX", "YY"]]),  # () with (2, 2) → (2, 2)
        ((5,), "ZZ"),
    ],
)
def test_broadcasting_as_statevector_estimator(backend, values_shape, observables):
    qc = ansatz(2)
    values = np.random.default_rng(6).uniform(-2, 2, (*values_shape, qc.num_parameters))
    est = QPIEstimator(backend, options={"default_precision": PRECISION})
    data = est.run([(qc, observables, values)]).result()[0].data
    assert_estimates(data, exact([(qc, observables, values)])[0], PRECISION)


def test_projectors_and_sparse_observables(backend):
    qc = QuantumCircuit(2)
    qc.h(0)
    qc.cx(0, 1)
    observable = SparseObservable.from_label("00") + SparseObservable.from_label("+X")
    est = QPIEstimator(backend, options={"default_precision": PRECISION})
    data = est.run([(qc, observable)]).result()[0].data
    assert_estimates(data, 0.5 + 0.5, PRECISION)


def test_backend_job_rebuilds_the_primitive_result(client, backend):
    qc = ansatz(2)
    qc.metadata = {"run": "vqe"}
    values = np.random.default_rng(7).uniform(-2, 2, (2, 3, qc.num_parameters))
    job = QPIEstimator(backend).run([(qc, ["ZZ", "XX"], values[:, :, None]), (qc, "YI", values)])
    first = job.result()
    again = backend.job(job.job_id())
    assert isinstance(again, QPIPrimitiveJob) and again.kind == "estimator"
    rebuilt = again.result()
    assert isinstance(rebuilt, PrimitiveResult) and len(rebuilt) == 2
    for old, new in zip(first, rebuilt, strict=True):
        assert np.array_equal(old.data.evs, new.data.evs)
        assert np.array_equal(old.data.stds, new.data.stds)
        assert old.metadata == new.metadata
    assert rebuilt[0].metadata["circuit_metadata"] == {"run": "vqe"}
    assert first[0].data.evs.shape == (2, 3, 2)


def test_refused_before_any_job(client, backend):
    wide = QuantumCircuit(backend.num_qubits + 1)
    est = QPIEstimator(backend)
    before = len(client.list_jobs())
    with pytest.raises(errors.ValidationError, match="PUB 0.*qubits"):
        est.run([(wide, "Z" * wide.num_qubits)])
    with pytest.raises(errors.ValidationError, match="larger than 0"):
        QPIEstimator(backend, options={"default_precision": 0})
    with pytest.raises(errors.ValidationError, match="unknown estimator option"):
        est.options.update(shots=10)
    assert len(client.list_jobs()) == before
