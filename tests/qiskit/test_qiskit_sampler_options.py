"""QPISampler options and shapes (issue 17): options, numpy shots, width checks before sending,
circuits without measurements, IQ data, and ``backend.job(id)`` giving the PrimitiveResult."""

from __future__ import annotations

import numpy as np
import pytest
from qiskit import ClassicalRegister, QuantumCircuit
from qiskit.primitives import PrimitiveResult
from qpi_qiskit import QPIPrimitiveJob, QPISampler, SamplerOptions

from qpi import errors
from tests.qiskit.checks import assert_close, bell


def test_options_follow_ibm_sampler_names(backend):
    sampler = QPISampler(backend, options={"default_shots": 300})
    assert sampler.options == SamplerOptions(300, None, "classified")
    sampler.options.default_shots = 250
    assert sampler.default_shots == 250
    assert sampler.run([bell()]).result()[0].data.c.num_shots == 250
    with pytest.raises(errors.ValidationError, match="unknown sampler option"):
        sampler.options.update(shots=3)
    with pytest.raises(errors.ValidationError, match="meas_type"):
        QPISampler(backend, options={"meas_type": "raw"})


def test_numpy_integer_shots_are_accepted(client, backend):
    sampler = QPISampler(backend, default_shots=np.int64(120))
    result = sampler.run([bell(), (bell(), None, np.int64(90))], shots=np.int32(110)).result()
    assert result[0].data.c.num_shots == 110
    assert result[1].data.c.num_shots == 90 and result[1].metadata["shots"] == 90
    with pytest.raises(errors.ValidationError, match="positive integer"):
        sampler.run([bell()], shots=np.float64(100.0))


def test_a_pub_wider_than_the_qpu_is_refused_before_any_job(client, backend):
    wide = QuantumCircuit(backend.num_qubits + 1)
    wide.h(0)
    wide.measure_all()
    before = len(client.list_jobs())
    with pytest.raises(errors.ValidationError, match=f"PUB 1.*{backend.num_qubits + 1} qubits"):
        QPISampler(backend).run([bell(), wide])
    assert len(client.list_jobs()) == before


def test_circuits_without_measurements_warn_and_give_empty_data(client, backend):
    """As Qiskit's StatevectorSampler: no registers → empty data and a warning; registers
    that nothing writes read zeros. Only the measured PUB is sent."""
    bare = QuantumCircuit(2)
    bare.h(0)
    unwritten = QuantumCircuit(2)
    unwritten.add_register(ClassicalRegister(3, "r"))
    unwritten.x(0)
    with pytest.warns(UserWarning, match="no output classical registers"):
        job = QPISampler(backend, default_shots=64).run([bare, (unwritten, None, 10), bell()])
    result = job.result()
    assert list(result[0].data) == [] and result[0].data.shape == ()
    assert result[1].data.r.num_bits == 3 and result[1].data.r.num_shots == 10
    assert not result[1].data.r.array.any()
    assert_close(result[2].data.c.get_counts(), {"00": 0.5, "11": 0.5}, 64)
    assert len(client.get_job(job.job_id())["payload"]["circuits"]) == 1


def test_nothing_to_measure_sends_no_job(client, backend):
    before = len(client.list_jobs())
    with pytest.warns(UserWarning):
        job = QPISampler(backend).run([QuantumCircuit(1)])
    assert job.done() and job.job_id().startswith("local-")
    assert len(job.result()) == 1 and len(client.list_jobs()) == before


def test_backend_job_of_a_sampler_job_gives_the_primitive_result(client, backend):
    theta = np.linspace(0, np.pi, 6).reshape(2, 3)
    qc = QuantumCircuit(1, name="sweep")
    qc.metadata = {"tag": 7}
    param = __import__("qiskit").circuit.Parameter("a")
    qc.ry(param, 0)
    qc.measure_all()
    sampler = QPISampler(backend, options={"default_shots": 200, "seed_simulator": 5})
    job = sampler.run([(qc, theta[..., None]), bell()])
    first = job.result()
    again = backend.job(job.job_id())
    assert isinstance(again, QPIPrimitiveJob) and again.kind == "sampler"
    rebuilt = again.result()
    assert isinstance(rebuilt, PrimitiveResult) and len(rebuilt) == 2
    assert rebuilt[0].data.meas.shape == (2, 3)
    assert np.array_equal(rebuilt[0].data.meas.array, first[0].data.meas.array)
    assert rebuilt[0].metadata == {"shots": 200, "circuit_metadata": {"tag": 7}}
    assert rebuilt.metadata["job_id"] == job.job_id()
    assert isinstance(client.job(job.job_id()), QPIPrimitiveJob)
    # a plain backend.run job still comes back as a QPIJob with a legacy Result
    plain = backend.run(bell(), shots=10)
    assert backend.job(plain.job_id()).result().get_counts()


def test_kerneled_measurements_are_complex_iq_points(backend):
    qc = QuantumCircuit(2, 2)
    qc.x(0)
    qc.measure([0, 1], [0, 1])
    single = QPISampler(backend, options={"meas_type": "kerneled"}).run([(qc, None, 50)])
    data = single.result()[0].data.c
    assert data.dtype == complex and data.shape == (50, 2)
    # |1> and |0> are told apart by their IQ points
    assert abs(data[:, 0].mean() - data[:, 1].mean()) > 0.5
    avg = QPISampler(backend, options={"meas_type": "avg_kerneled"}).run([(qc, None, 50)])
    assert avg.result()[0].data.c.shape == (2,)


def test_raw_qasm_wider_than_the_qpu_is_refused_before_any_job(client, backend):
    wide = backend.num_qubits + 1
    text = (
        f'OPENQASM 3.0;\ninclude "stdgates.inc";\nbit[1] c;\nqubit[{wide}] q;\n'
        "h q[0];\nc[0] = measure q[0];\n"
    )
    before = len(client.list_jobs())
    with pytest.raises(errors.ValidationError, match=f"declares {wide} qubits"):
        backend.run(qasm=text)
    assert len(client.list_jobs()) == before


@pytest.mark.slow
def test_backend_job_of_one_part_of_a_split_run_says_so(backend):
    """8,000 rows of 8 doubles are over the server's 1 MiB: the run is split over two jobs,
    and rebuilding a PrimitiveResult from one of them is refused with a reason."""
    from qiskit.circuit import ParameterVector

    v = ParameterVector("v", 8)
    qc = QuantumCircuit(1)
    for x in v:
        qc.rx(x, 0)
    qc.measure_all()
    values = np.random.default_rng(0).uniform(size=(8000, 8))
    job = QPISampler(backend, default_shots=20).run([(qc, values)])
    assert job.result()[0].data.meas.shape == (8000,)
    with pytest.raises(errors.ValidationError, match="split over several jobs"):
        backend.job(job.job_id()).result()
