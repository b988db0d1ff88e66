"""Qiskit's own estimator tests, adapted to QPIEstimator on the local ``mock`` QPU.

Adapted from Qiskit/qiskit ``test/python/primitives/test_statevector_estimator.py`` and
``test/python/primitives/test_backend_estimator_v2.py`` (commit 301a22ce): the same circuits,
observables, parameter values and expected values. What differs, and why:

* Tolerances are 5 sigma of the reported ``stds`` (Qiskit's tests use ``rtol=0.3`` or exact
  values): our QPU samples, so only a shot-derived bound is honest.
* Seeds: the QPU takes no seed over the wire, so "the second run gives the same result" is not
  asserted; both runs are checked against the exact value instead.
* ``precision=0`` is refused (as ``BackendEstimatorV2`` does); ``StatevectorEstimator`` reads
  it as "exact", which a sampling QPU cannot give.
* ``result.metadata`` holds the job id and the job's metadata besides ``{"version": 2}``.
* ``test_job_size_limit_backend_v2`` becomes the opposite check: every PUB goes into ONE job.
* ``test_reset``: the 1000 identical observables are one Pauli term, so they are measured in
  one basis and share one estimate (Qiskit draws 1000); the mean is what is checked.
"""

from __future__ import annotations

import numpy as np
import pytest
from qiskit.circuit import Parameter, QuantumCircuit
from qiskit.circuit.library import real_amplitudes
from qiskit.primitives import StatevectorEstimator
from qiskit.primitives.containers.bindings_array import BindingsArray
from qiskit.primitives.containers.estimator_pub import EstimatorPub
from qiskit.primitives.containers.observables_array import ObservablesArray
from qiskit.quantum_info import SparsePauliOp
from qpi_qiskit import QPIEstimator

from tests.qiskit.checks import assert_estimates

PRECISION = 0.02
GROUPING = [True, False]


def _ansatz(reps: int) -> QuantumCircuit:
    qc = QuantumCircuit(2)
    qc.append(real_amplitudes(num_qubits=2, reps=reps), [0, 1])
    return qc


PSI = (_ansatz(2), _ansatz(3))
HAMILTONIAN = (
    SparsePauliOp.from_list([("II", 1), ("IZ", 2), ("XI", 3)]),
    SparsePauliOp.from_list([("IZ", 1)]),
    SparsePauliOp.from_list([("ZI", 1), ("ZZ", 1)]),
)
THETA = ([0, 1, 1, 2, 3, 5], [0, 1, 1, 2, 3, 5, 8, 13], [1, 2, 3, 4, 5, 6])
OBSERVABLE = SparsePauliOp.from_list(
    [
        ("II", -1.052373245772859),
        ("IZ", 0.39793742484318045),
        ("ZI", -0.39793742484318045),
        ("ZZ", -0.01128010425623538),
        ("XX", 0.18093119978423156),
    ]
)


def estimator(backend, grouping: bool = True, precision: float = PRECISION) -> QPIEstimator:
    return QPIEstimator(
        backend, options={"default_precision": precision, "abelian_grouping": grouping}
    )


@pytest.mark.parametrize("grouping", GROUPING)
def test_estimator_run(backend, grouping):
    psi1, psi2 = PSI
    h1, h2, h3 = HAMILTONIAN
    t1, t2, t3 = THETA
    est = estimator(backend, grouping)
    assert_estimates(est.run([(psi1, h1, [t1])]).result()[0].data, [1.5555572817900956], PRECISION)
    assert_estimates(est.run([(psi2, h1, t2)]).result()[0].data, 2.97797666, PRECISION)
    result3 = est.run([(psi1, [h2, h3], t1)]).result()
    assert_estimates(result3[0].data, [-0.551653, 0.07535239], PRECISION)
    result4 = est.run([(psi1, [h1, h3], [t1, t3]), (psi2, h2, t2)]).result()
    assert_estimates(result4[0].data, [1.55555728, -1.08766318], PRECISION)
    assert_estimates(result4[1].data, 0.17849238, PRECISION)


def test_estimator_with_pub(backend):
    psi1, psi2 = PSI
    h1, h2, h3 = HAMILTONIAN
    t1, t2, t3 = THETA
    pub1 = EstimatorPub(
        psi1,
        ObservablesArray.coerce([h1, h3]),
        BindingsArray.coerce({tuple(psi1.parameters): [t1, t3]}),
    )
    pub2 = EstimatorPub(
        psi2, ObservablesArray.coerce(h2), BindingsArray.coerce({tuple(psi2.parameters): t2})
    )
    result = estimator(backend).run([pub1, pub2]).result()
    assert_estimates(result[0].data, [1.55555728, -1.08766318], PRECISION)
    assert_estimates(result[1].data, 0.17849238, PRECISION)


@pytest.mark.parametrize("grouping", GROUPING)
def test_estimator_run_no_params(backend, grouping):
    circuit = PSI[0].assign_parameters([0, 1, 1, 2, 3, 5])
    result = estimator(backend, grouping).run([(circuit, OBSERVABLE)]).result()
    assert_estimates(result[0].data, -1.284366511861733, PRECISION)


def test_run_single_circuit_observable(backend):
    est = estimator(backend)
    qc = QuantumCircuit(1)
    qc.x(0)
    op = SparsePauliOp("Z")
    for val in [None, [], [[]], np.array([]), np.array([[]]), [np.array([])]]:
        result = est.run([(qc, op, val)]).result()
        assert_estimates(result[0].data, np.full(result[0].data.shape, -1.0), PRECISION)
        assert result[0].metadata["target_precision"] == PRECISION
    param = Parameter("x")
    qc = QuantumCircuit(1)
    qc.ry(param, 0)
    for val in [[np.pi], np.array([np.pi])]:
        assert_estimates(est.run([(qc, op, val)]).result()[0].data, -1.0, PRECISION)
    qc, op = PSI[0], HAMILTONIAN[0]
    t = THETA[0]
    for val, shape in [(t, ()), ([t], (1,)), (np.array(t), ()), (np.array([t]), (1,)),
                       ([np.array(t)], (1,))]:  # fmt: skip
        result = est.run([(qc, op, val)]).result()
        assert_estimates(result[0].data, np.full(shape, 1.5555572817900956), PRECISION)


def test_run_1qubit(backend):
    est = estimator(backend)
    qc, qc2 = QuantumCircuit(1), QuantumCircuit(1)
    qc2.x(0)
    op, op2 = SparsePauliOp("I"), SparsePauliOp("Z")
    for circuit, observable, target in [(qc, op, 1), (qc, op2, 1), (qc2, op, 1), (qc2, op2, -1)]:
        result = est.run([(circuit, observable)]).result()
        assert result[0].data.evs == target


def test_run_2qubits(backend):
    """Endianness: ``IZ`` acts on qubit 0."""
    est = estimator(backend)
    qc, qc2 = QuantumCircuit(2), QuantumCircuit(2)
    qc2.x(0)
    cases = [("II", qc, 1), ("II", qc2, 1), ("ZI", qc, 1), ("ZI", qc2, 1), ("IZ", qc, 1),
             ("IZ", qc2, -1)]  # fmt: skip
    result = est.run([(circuit, SparsePauliOp(label)) for label, circuit, _ in cases]).result()
    assert [float(r.data.evs) for r in result] == [target for *_, target in cases]


@pytest.mark.parametrize("grouping", GROUPING)
def test_run_errors(backend, grouping):
    qc, qc2 = QuantumCircuit(1), QuantumCircuit(2)
    op, op2 = SparsePauliOp("I"), SparsePauliOp("II")
    est = estimator(backend, grouping)
    bad = [
        ([(qc, op2)], {}),
        ([(qc, op, [[1e4]])], {}),
        ([(qc2, op2, [[1, 2]])], {}),
        ([(qc, [op, op2], [[1]])], {}),
        ([(qc, op)], {"precision": -1}),
        ([(qc, 1j * op)], {"precision": 0.1}),
        ([(qc, op, None, 0)], {}),
        ([(qc, op)], {"precision": 0}),
        ([(qc, op, None, -1)], {}),
    ]
    for pubs, kwargs in bad:
        with pytest.raises(ValueError):
            est.run(pubs, **kwargs).result()
    with pytest.raises(ValueError, match="An invalid Estimator pub-like was given"):
        est.run((qc, op)).result()


@pytest.mark.parametrize("grouping", GROUPING)
def test_run_numpy_params(backend, grouping):
    qc = _ansatz(2)
    op = SparsePauliOp.from_list([("IZ", 1), ("XI", 2), ("ZY", -1)])
    params_array = np.random.default_rng(12).random((5, qc.num_parameters))
    target = StatevectorEstimator().run([(qc, op, params_array)]).result()[0].data.evs
    est = estimator(backend, grouping)
    for values in (params_array, params_array.tolist(), list(params_array)):
        assert_estimates(est.run([(qc, op, values)]).result()[0].data, target, PRECISION)


def test_precision(backend):
    """A coarse default precision runs ceil(1/p^2) shots; a finer one per run, more."""
    psi1, h1, t1 = PSI[0], HAMILTONIAN[0], THETA[0]
    est = estimator(backend, precision=0.05)
    result = est.run([(psi1, h1, [t1]), (psi1, h1, [t1])]).result()
    for pub in result:
        assert pub.metadata["shots"] == 400
        assert_estimates(pub.data, [1.5555572817900956], 0.05)
    finer = est.run([(psi1, h1, [t1])], precision=0.025).result()[0]
    assert finer.metadata["shots"] == 1600 and finer.metadata["target_precision"] == 0.025
    assert_estimates(finer.data, [1.5555572817900956], 0.025)


def test_diff_precision(client, backend):
    """Two precisions in one run: one job, each PUB's circuits with their own shots."""
    psi1, h1, t1 = PSI[0], HAMILTONIAN[0], THETA[0]
    job = estimator(backend).run([(psi1, h1, [t1]), (psi1, h1, [t1], PRECISION * 0.8)])
    result = job.result()
    assert_estimates(result[0].data, [1.5555572817900956], PRECISION)
    assert_estimates(result[1].data, [1.5555572817900956], PRECISION * 0.8)
    circuits = client.get_job(job.job_id())["payload"]["circuits"]
    assert {c["shots"] for c in circuits} == {2500, 3907}


@pytest.mark.parametrize("grouping", GROUPING)
def test_aer(backend, grouping):
    """Against Aer's own EstimatorV2 (exact at precision 0), broadcast over a (3, 2) grid."""
    from qiskit_aer.primitives import EstimatorV2 as AerEstimator

    qc = _ansatz(1)
    op = [SparsePauliOp("IX"), SparsePauliOp("YI")]
    params = np.random.default_rng(12).random((3, 2, qc.num_parameters))
    reference = qc.decompose(reps=3)  # Aer runs the library circuit's gates, not the box
    target = AerEstimator().run([(reference, op, params)], precision=0).result()[0].data.evs
    est = estimator(backend, grouping)
    for values in (params, params.tolist(), list(params)):
        result = est.run([(qc, op, values)]).result()
        assert_estimates(result[0].data, target, PRECISION)


def test_all_pubs_in_one_job(client, backend):
    """Qiskit's test_job_size_limit_backend_v2 expects 10 backend.run calls for 5 PUBs of two
    bases each on a one-circuit backend; QPIEstimator sends one job with the 10 circuits."""
    qc = _ansatz(2)
    op = SparsePauliOp.from_list([("IZ", 1), ("XI", 2), ("ZY", -1)])  # two QWC groups
    values = np.random.default_rng(12).random(qc.num_parameters).tolist()
    before = len(client.list_jobs())
    job = estimator(backend).run([(qc, op, values)] * 5)
    assert len(job.result()) == 5
    assert len(client.list_jobs()) == before + 1
    assert len(client.get_job(job.job_id())["payload"]["circuits"]) == 10


def test_iter_pub(backend):
    circuit = PSI[0].assign_parameters([0, 1, 1, 2, 3, 5])
    result = estimator(backend).run(iter([(circuit, OBSERVABLE), (circuit, OBSERVABLE)]))
    for pub in result.result():
        assert_estimates(pub.data, -1.284366511861733, PRECISION)


def test_metadata(backend):
    qc, qc2 = QuantumCircuit(2), QuantumCircuit(2)
    qc2.metadata = {"a": 1}
    job = estimator(backend).run([(qc, "ZZ"), (qc2, "ZZ")], precision=0.1)
    result = job.result()
    assert len(result) == 2
    assert result.metadata["version"] == 2 and result.metadata["job_id"] == job.job_id()
    assert result[0].metadata == {"target_precision": 0.1, "shots": 100, "circuit_metadata": {}}
    assert result[1].metadata == {
        "target_precision": 0.1,
        "shots": 100,
        "circuit_metadata": {"a": 1},
    }


def test_reset(backend):
    qc = QuantumCircuit(2)
    qc.h(0)
    qc.cx(0, 1)
    qc.reset(0)
    result = estimator(backend, precision=0.01).run([(qc, [SparsePauliOp("ZI")] * 50)]).result()
    assert result[0].data.evs.shape == (50,)
    assert_estimates(result[0].data, np.zeros(50), 0.01)
