"""Qiskit's own sampler tests, adapted to QPISampler on the local ``mock`` QPU.

Adapted from Qiskit/qiskit ``test/python/primitives/test_statevector_sampler.py`` and
``test/python/primitives/test_backend_sampler_v2.py`` (commit 301a22ce): the same circuits,
parameter values, registers and shapes. What differs, and why:

* Targets are exact probabilities (from ``Statevector``, or worked out for the register
  cases) checked within 5 sigma of the shot count; Qiskit compares seeded counts with
  ``rtol=0.1, atol=500``.
* No seed: the QPU takes none over the wire (``seed_simulator`` seeds only the order of the
  synthesised shots), so reproducibility tests (``test_seed``, "run multiple times gives the
  same counts") are not adapted.
* ``for_loop`` is not an error (Qiskit's ``test_run_errors`` expects one): it is unrolled and
  sent; a circuit using feed-forward on ``mock`` raises ``ValidationError`` instead.
* ``result.metadata`` holds the job id and the job's metadata besides ``{"version": 2}``.
* ``test_run_level1``: ``meas_type="kerneled"`` gives the QPU's IQ points (tested in
  ``test_qiskit_sampler_options.py``), not Qiskit's synthetic ``Level1BackendV2`` values.
* ``test_job_size_limit_*``: every PUB goes into one job (tested in
  ``test_qiskit_primitives.py``).
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from qiskit import ClassicalRegister, QuantumCircuit, QuantumRegister
from qiskit.circuit import Parameter
from qiskit.circuit.library import UnitaryGate, real_amplitudes
from qiskit.primitives import BitArray, PrimitiveResult, PubResult
from qiskit.primitives.containers.sampler_pub import SamplerPub
from qiskit.providers import JobStatus
from qiskit.quantum_info import Statevector
from qpi_qiskit import QPISampler

from qpi import errors
from tests.qiskit.checks import SIGMAS

SHOTS = 4000


def probabilities(circuit: QuantumCircuit, values=None) -> dict[int, float]:
    """Outcome probabilities of a circuit measuring every qubit i into clbit i at the end."""
    bound = circuit.assign_parameters(values) if values is not None else circuit
    state = Statevector(bound.remove_final_measurements(inplace=False))
    return {int(k, 2): p for k, p in state.probabilities_dict().items() if p > 1e-12}


def assert_int_counts(bits: BitArray, target: dict[int, float], shots: int = SHOTS) -> None:
    """Each outcome's count within 5 sigma of ``shots * p`` (binomial)."""
    counts = bits.get_int_counts()
    assert sum(counts.values()) == shots
    for key in set(counts) | set(target):
        p = target.get(key, 0.0)
        bound = SIGMAS * math.sqrt(shots * p * (1 - p)) + 0.5
        assert abs(counts.get(key, 0) - shots * p) <= bound, (key, counts, target)


def pqc(reps: int) -> QuantumCircuit:
    qc = QuantumCircuit(2)
    qc.append(real_amplitudes(num_qubits=2, reps=reps), [0, 1])
    qc.measure_all()
    return qc


def hadamard() -> QuantumCircuit:
    qc = QuantumCircuit(1, 1, name="Hadamard")
    qc.h(0)
    qc.measure(0, 0)
    return qc


def bell() -> QuantumCircuit:
    qc = QuantumCircuit(2, name="Bell")
    qc.h(0)
    qc.cx(0, 1)
    qc.measure_all()
    return qc


CASES = [
    (hadamard(), None),
    (bell(), None),
    (pqc(2), [0] * 6),
    (pqc(2), [1] * 6),
    (pqc(2), [0, 1, 1, 2, 3, 5]),
    (pqc(2), [1, 2, 3, 4, 5, 6]),
    (pqc(3), [0, 1, 2, 3, 4, 5, 6, 7]),
]


@pytest.fixture
def sampler(backend):
    return QPISampler(backend, default_shots=SHOTS)


def _data(pub_result):
    return next(iter(pub_result.data.values()))


def test_sampler_run(sampler):
    for circuit, values in CASES:
        result = sampler.run([(circuit, values)]).result()
        assert len(result) == 1
        assert_int_counts(_data(result[0]), probabilities(circuit, values))
    circuit, values = CASES[4]
    result = sampler.run([(circuit, [values, values])]).result()
    assert result[0].data.meas.shape == (2,)
    for index in range(2):
        assert_int_counts(result[0].data.meas[index], probabilities(circuit, values))


def test_sample_run_multiple_circuits(sampler):
    (h, _), (b, _) = CASES[0], CASES[1]
    result = sampler.run([h, b, h]).result()
    assert len(result) == 3
    assert_int_counts(result[0].data.c, {0: 0.5, 1: 0.5})
    assert_int_counts(result[1].data.meas, {0: 0.5, 3: 0.5})
    assert_int_counts(result[2].data.c, {0: 0.5, 1: 0.5})


def test_run_1qubit_and_2qubit(sampler):
    qc = QuantumCircuit(1)
    qc.measure_all()
    qc2 = QuantumCircuit(1)
    qc2.x(0)
    qc2.measure_all()
    result = sampler.run([qc, qc2]).result()
    assert_int_counts(result[0].data.meas, {0: 1.0})
    assert_int_counts(result[1].data.meas, {1: 1.0})
    qc0 = QuantumCircuit(2)
    qc0.measure_all()
    qc1, qc3 = QuantumCircuit(2), QuantumCircuit(2)
    qc1.x(0)
    qc1.measure_all()
    qc3.x(1)
    qc3.measure_all()
    result = sampler.run([qc0, qc1, qc3]).result()
    for data, value in zip(result, (0, 1, 2), strict=True):
        assert_int_counts(data.data.meas, {value: 1.0})


def test_run_single_circuit(sampler):
    circuit = bell()
    for values in (None, {}):
        assert_int_counts(sampler.run([(circuit, values)]).result()[0].data.meas, {0: 0.5, 3: 0.5})
    x = Parameter("x")
    ry = QuantumCircuit(1, 1, name="X gate")
    ry.ry(x, 0)
    ry.measure(0, 0)
    for value in (np.pi, np.array(np.pi), [np.pi], np.array([np.pi])):
        for key in ("x", x):
            result = sampler.run([(ry, {key: value})]).result()
            assert result[0].data.c.shape == ()
            assert result[0].data.c.get_int_counts() == {1: SHOTS}
    circuit, values = CASES[3]
    target = probabilities(circuit, values)
    given_shapes = [(values, ()), (tuple(values), ()), (np.array(values), ()),
                    ((values,), (1,)), ([values], (1,)), (np.array([values]), (1,))]  # fmt: skip
    for given, shape in given_shapes:
        data = sampler.run([(circuit, given)]).result()[0].data.meas
        assert data.shape == shape
        assert_int_counts(data[0] if shape else data, target)


def test_run_reverse_meas_order(sampler):
    x, y = Parameter("x"), Parameter("y")
    qc = QuantumCircuit(3, 3)
    qc.rx(x, 0)
    qc.rx(y, 1)
    qc.x(2)
    qc.measure(0, 2)
    qc.measure(1, 1)
    qc.measure(2, 0)
    result = sampler.run([(qc, [0, 0]), (qc, [np.pi / 2, 0])]).result()
    assert_int_counts(result[0].data.c, {1: 1.0})
    assert_int_counts(result[1].data.c, {1: 0.5, 5: 0.5})


def test_run_errors(backend, sampler):
    qc1 = QuantumCircuit(1)
    qc1.measure_all()
    qc2 = QuantumCircuit(1)
    qc2.append(real_amplitudes(num_qubits=1, reps=1), [0])
    qc2.measure_all()
    bad = [
        ([(qc1, [1e2])], {}),
        ([qc2], {}),
        ([(qc2, [])], {}),
        ([(qc2, None)], {}),
        ([(qc2, [1e2])], {}),
        ([(qc2, [1e2] * 100)], {}),
        ([qc1], {"shots": -1}),
        ([(qc1, None, -1)], {}),
        ([qc1], {"shots": 0}),
        ([(qc1, None, 0)], {}),
    ]
    for pubs, kwargs in bad:
        with pytest.raises(ValueError):
            sampler.run(pubs, **kwargs).result()
    for shots in (-1, 0):
        with pytest.raises(ValueError):
            sampler.run([SamplerPub(qc1, shots=shots)]).result()
    with pytest.raises(ValueError, match="An invalid Sampler pub-like was given"):
        sampler.run(qc1).result()
    with pytest.raises(ValueError, match="Note that if you want to run a single pub,"):
        sampler.run((qc2, [0, 1])).result()
    flow = QuantumCircuit(2, 2)  # feed-forward: the mock QPU cannot run it
    flow.h(0)
    flow.measure(0, 0)
    with flow.if_test((flow.clbits[0], 1)):
        flow.x(1)
    flow.measure(1, 1)
    with pytest.raises(errors.ValidationError, match="control flow"):
        sampler.run([flow])


def test_run_empty_parameter(sampler):
    qc = QuantumCircuit(5, 4)
    qc.measure(range(4), range(4))
    for pubs in ([qc], [qc, qc]):
        result = sampler.run(pubs).result()
        assert len(result) == len(pubs)
        for pub in result:
            assert_int_counts(pub.data.c, {0: 1.0})


def test_run_numpy_params(sampler):
    qc = pqc(2)
    params = np.linspace(0, 1, 5 * qc.num_parameters).reshape((5, qc.num_parameters))
    for given in (params, params.tolist()):
        result = sampler.run([(qc, given)]).result()
        for i in range(5):
            assert_int_counts(result[0].data.meas[i], probabilities(qc, params[i]))
    split = sampler.run([(qc, row) for row in params.tolist()]).result()
    assert len(split) == 5
    for i in range(5):
        assert_int_counts(split[i].data.meas, probabilities(qc, params[i]))


def test_run_with_shots_option(backend):
    circuit = bell()
    cases = [
        (QPISampler(backend), [circuit], {"shots": 100}, [100]),
        (QPISampler(backend), [circuit], {}, [1024]),
        (QPISampler(backend, default_shots=100), [circuit], {}, [100]),
        (QPISampler(backend), [(circuit, None, 100)], {}, [100]),
        (QPISampler(backend), [SamplerPub(circuit, shots=100)], {}, [100]),
        (QPISampler(backend), [SamplerPub(circuit, shots=100), SamplerPub(circuit, shots=200)],
         {"shots": SHOTS}, [100, 200]),
    ]  # fmt: skip
    for sampler, pubs, kwargs, expected in cases:
        result = sampler.run(pubs, **kwargs).result()
        assert [r.data.meas.num_shots for r in result] == expected
        assert [sum(r.data.meas.get_counts().values()) for r in result] == expected
        assert [r.metadata["shots"] for r in result] == expected


def test_run_shots_result_size(sampler):
    qc = QuantumCircuit(10)
    qc.h(range(10))
    qc.measure_all()
    result = sampler.run([qc]).result()
    assert result[0].data.meas.num_shots == SHOTS
    assert sum(result[0].data.meas.get_counts().values()) == SHOTS


def test_primitive_job_status_done(sampler):
    job = sampler.run([bell()])
    job.result()
    assert job.status() == JobStatus.DONE


def test_circuit_with_unitary(sampler):
    for matrix, value in ((np.eye(2), 0), ([[0, 1], [1, 0]], 1)):
        circuit = QuantumCircuit(1)
        circuit.append(UnitaryGate(matrix), [0])
        circuit.measure_all()
        assert_int_counts(sampler.run([circuit]).result()[0].data.meas, {value: 1.0})


def test_circuit_with_multiple_cregs(sampler):
    def three(sizes):
        a, b, c = (ClassicalRegister(n, name) for n, name in zip(sizes, "abc", strict=True))
        qc = QuantumCircuit(QuantumRegister(3), a, b, c)
        qc.h(range(3))
        return qc

    all_cregs = three((1, 2, 3))
    all_cregs.measure([0, 1, 2, 2], [0, 2, 4, 5])
    only_ab = three((1, 5, 3))
    only_ab.measure([0, 1, 2, 2], [0, 2, 4, 5])
    only_c = three((1, 2, 3))
    only_c.measure(1, 5)
    many_into_c = three((1, 2, 3))
    many_into_c.measure([0, 1, 2], [5, 5, 5])
    none = three((1, 2, 3))
    half = {0: 0.5}
    cases = [
        (all_cregs, {"a": {**half, 1: 0.5}, "b": {**half, 2: 0.5}, "c": {**half, 6: 0.5}}),
        (only_ab, {"a": {**half, 1: 0.5}, "b": {0: 0.25, 2: 0.25, 24: 0.25, 26: 0.25},
                   "c": {0: 1.0}}),
        (only_c, {"a": {0: 1.0}, "b": {0: 1.0}, "c": {**half, 4: 0.5}}),
        (many_into_c, {"a": {0: 1.0}, "b": {0: 1.0}, "c": {**half, 4: 0.5}}),
        (none, {"a": {0: 1.0}, "b": {0: 1.0}, "c": {0: 1.0}}),
    ]  # fmt: skip
    for qc, target in cases:
        data = sampler.run([qc]).result()[0].data
        assert len(data) == 3
        for creg in qc.cregs:
            assert_int_counts(getattr(data, creg.name), target[creg.name])


def test_circuit_with_aliased_cregs(sampler):
    q = QuantumRegister(3, "q")
    c1, c2 = ClassicalRegister(1, "c1"), ClassicalRegister(1, "c2")
    qc = QuantumCircuit(q, c1, c2)
    with qc.if_test((c1, 1)):
        qc.z(2)
    with qc.if_test((c2, 1)):
        qc.x(2)
    qc2 = QuantumCircuit(5, 5)
    qc2.compose(qc, [0, 2, 3], [2, 4], inplace=True)
    qc3 = QuantumCircuit.copy_empty_like(qc2)  # aliased: c1 -> c[2], c2 -> c[4]
    qc3.ry(np.pi / 4, 2)
    qc3.cx(2, 1)
    qc3.cx(0, 1)
    qc3.h(0)
    qc3.measure(0, 2)
    qc3.measure(1, 4)
    p = math.sin(np.pi / 8) ** 2
    names = [creg.name for creg in qc3.cregs]
    target = {
        names[0]: {0: (1 - p) / 2, 4: (1 - p) / 2, 16: p / 2, 20: p / 2},
        names[1]: {0: 0.5, 1: 0.5},
        names[2]: {0: 1 - p, 1: p},
    }
    data = sampler.run([qc3]).result()[0].data
    assert len(data) == 3
    for name, probs in target.items():
        assert_int_counts(getattr(data, name), probs)


def test_no_cregs(sampler):
    with pytest.warns(UserWarning):
        result = sampler.run([QuantumCircuit(2)]).result()
    assert len(result) == 1 and len(result[0].data) == 0


def test_empty_creg(sampler):
    qc = QuantumCircuit(QuantumRegister(1, "q"), ClassicalRegister(0, "c1"),
                        ClassicalRegister(1, "c2"))  # fmt: skip
    qc.h(0)
    qc.measure(0, 0)
    result = sampler.run([qc]).result()
    assert result[0].data.c1.array.shape == (SHOTS, 0)


def test_diff_shots(sampler):
    result = sampler.run([(bell(), None, SHOTS), (bell(), None, SHOTS + 2)]).result()
    assert result[0].data.meas.num_shots == SHOTS
    assert_int_counts(result[0].data.meas, {0: 0.5, 3: 0.5})
    assert result[1].data.meas.num_shots == SHOTS + 2
    assert_int_counts(result[1].data.meas, {0: 0.5, 3: 0.5}, SHOTS + 2)


def test_iter_pub(sampler):
    qc = QuantumCircuit(1)
    qc.measure_all()
    qc2 = QuantumCircuit(1)
    qc2.x(0)
    qc2.measure_all()
    result = sampler.run(iter([qc, qc2])).result()
    assert isinstance(result, PrimitiveResult) and len(result) == 2
    assert all(isinstance(r, PubResult) for r in result)
    assert_int_counts(result[0].data.meas, {0: 1.0})
    assert_int_counts(result[1].data.meas, {1: 1.0})


def test_metadata(sampler):
    qc = QuantumCircuit(2)
    qc.measure_all()
    qc2 = qc.copy()
    qc2.metadata = {"a": 1}
    job = sampler.run([(qc, None, 10), (qc2, None, 20)])
    result = job.result()
    assert len(result) == 2
    assert result.metadata["version"] == 2 and result.metadata["job_id"] == job.job_id()
    assert result[0].metadata == {"shots": 10, "circuit_metadata": {}}
    assert result[1].metadata == {"shots": 20, "circuit_metadata": {"a": 1}}
