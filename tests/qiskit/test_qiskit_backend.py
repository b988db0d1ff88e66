"""QPIBackend and QPIJob against a real local orchestrator."""

from __future__ import annotations

from collections import Counter

import numpy as np
import pytest
from qiskit import ClassicalRegister, QuantumCircuit, QuantumRegister, transpile
from qiskit.circuit import Parameter, ParameterVector
from qiskit.circuit.library import iSwapGate
from qiskit.providers import JobStatus
from qiskit.providers.exceptions import JobTimeoutError as QiskitJobTimeoutError
from qiskit.transpiler import generate_preset_pass_manager
from qpi_qiskit import QPIBackend, QPIJob, QPIJobTimeoutError

from qpi import errors
from tests.qiskit.checks import assert_close, bell, exact_probabilities

RX_QASM = (
    'OPENQASM 3.0;\ninclude "stdgates.inc";\ninput float[64] theta;\nbit[1] c;\nqubit[1] q;\n'
    "rx(theta) q[0];\nc[0] = measure q[0];\n"
)


def _jobs(client) -> int:
    return len(client.list_jobs())


def test_seed_usage_examples_run_as_written(client):
    my_circuit = bell()
    # Qiskit integration (preferred)
    backend = client.get_backend(name="mock")
    job = backend.run(circuit=my_circuit, shots=1024)
    result = job.result()
    assert set(result.get_counts()) <= {"00", "11"}
    assert sum(result.get_counts().values()) == 1024
    # Or submit raw QASM
    job = backend.run(qasm=RX_QASM, params=[[0.5]])
    result = job.result()
    assert_close(result.get_counts(), {"0": np.cos(0.25) ** 2, "1": np.sin(0.25) ** 2}, 1024)
    # Retrieve a past job
    job_id = job.job_id()
    past_job = client.job(job_id)
    assert isinstance(past_job, QPIJob)
    assert past_job.result().get_counts() == result.get_counts()
    past_job = backend.job(job_id)
    assert past_job.result().get_counts() == result.get_counts()
    assert past_job.status() is JobStatus.DONE


def test_backend_by_name_or_id_sends_the_qpu_id(client, backend):
    by_id = client.get_backend(backend.qpu_id)
    assert by_id.name == "mock" and by_id.num_qubits == backend.num_qubits
    job = by_id.run(bell(), shots=10)
    job.result()
    assert client.get_job(job.job_id())["qpu_target"] == backend.qpu_id


def test_default_name_falls_back_to_an_online_qpu_but_typos_do_not(client):
    fallback = QPIBackend(client)
    assert fallback.name in {q["name"] for q in client.list_qpus()}
    with pytest.raises(errors.NotFoundError, match="mokc"):
        client.get_backend("mokc")


def test_backend_shape(backend):
    assert backend.max_circuits is None
    assert backend.num_qubits == backend.qpu["num_qubits"]
    for name in ("h", "cx", "u", "cu", "ccx", "measure", "reset", "barrier"):
        assert name in backend.operation_names
    assert "delay" not in backend.operation_names


def test_transpile_and_preset_pass_managers_target_the_backend(backend):
    qc = QuantumCircuit(3)
    qc.h(0)
    qc.ecr(0, 1)
    qc.rzz(0.7, 1, 2)
    qc.append(iSwapGate(), [0, 2])
    qc.measure_all()
    probabilities = exact_probabilities(qc)
    for level in (0, 3):
        isa = transpile(qc, backend, optimization_level=level)
        assert set(isa.count_ops()) <= set(backend.operation_names)
        assert_close(backend.run(isa, shots=2000).result().get_counts(), probabilities, 2000)
    isa = generate_preset_pass_manager(optimization_level=2, backend=backend).run(qc)
    assert_close(backend.run(isa, shots=2000).result().get_counts(), probabilities, 2000)


def test_options_apply_and_run_arguments_override_them(client):
    backend = client.get_backend("mock", shots=77)
    assert backend.options.shots == 77
    assert backend.run(bell()).result().results[0].shots == 77
    backend.set_options(shots=33, memory=True)
    result = backend.run(bell()).result()
    assert result.results[0].shots == 33 and len(result.get_memory()) == 33
    assert backend.run(bell(), shots=12).result().results[0].shots == 12


def test_unknown_options_are_refused_and_simulator_options_ignored(client, backend):
    before = _jobs(client)
    with pytest.raises(errors.ValidationError, match=r"unknown run option\(s\) \['shot'\].*shots"):
        backend.run(bell(), shot=10)
    with pytest.raises(errors.ValidationError, match="unknown option"):
        backend.set_options(noise=True)
    with pytest.raises(errors.ValidationError, match="shots must be a positive integer"):
        backend.run(bell(), shots=0)
    with pytest.raises(errors.ValidationError, match="meas_return"):
        backend.run(bell(), meas_return="mean")
    assert _jobs(client) == before
    with pytest.warns(UserWarning, match="seed_simulator"):
        backend.run(bell(), shots=5, seed_simulator=1).result()
    backend.run(bell(), shots=5, seed_simulator=None).result()  # what the primitives pass


@pytest.mark.parametrize(
    ("make", "kwargs", "message"),
    [
        (lambda: QuantumCircuit(2), {}, "no measurements"),
        (None, {"parameter_values": [[0.1, 0.2]]}, "row 0 has 2 value"),
        (None, {}, "unbound parameter"),
        (lambda: bell(), {"qasm": RX_QASM}, "exactly one of circuit= .* and qasm="),
        (lambda: _wide(), {}, "uses 30 qubits but QPU 'mock' has 24"),
    ],
)
def test_bad_input_is_refused_before_anything_is_sent(client, backend, make, kwargs, message):
    circuit = make() if make is not None else _rx()
    before = _jobs(client)
    with pytest.raises(errors.ValidationError, match=message):
        backend.run(circuit, **kwargs)
    assert _jobs(client) == before


def test_control_flow_is_refused_before_anything_is_sent(client, backend):
    qc = QuantumCircuit(2, 2)
    qc.h(0)
    qc.measure(0, 0)
    with qc.if_test((qc.clbits[0], 1)):
        qc.x(1)
    qc.measure(1, 1)
    before = _jobs(client)
    with pytest.raises(errors.ValidationError, match="if_else.*'mock' cannot run classical"):
        backend.run(qc)
    assert _jobs(client) == before


def test_a_list_of_circuits_is_one_job_with_results_in_order(client, backend):
    x3 = QuantumCircuit(3, 3, name="x-on-1")
    x3.x(1)
    x3.measure(range(3), range(3))
    before = _jobs(client)
    result = backend.run([bell(), x3, _rx()], shots=300, parameter_values=[None, None, [[np.pi]]])
    result = result.result()
    assert _jobs(client) == before + 1
    assert set(result.get_counts(0)) <= {"00", "11"}
    assert result.get_counts("x-on-1") == {"010": 300}
    assert result.get_counts(2) == {"1": 300}


def test_a_sweep_is_one_circuit_entry_bound_on_the_server(client, backend):
    theta = Parameter("θ")
    qc = _rx(theta)
    angles = np.linspace(0, np.pi, 9)
    before = _jobs(client)
    job = backend.run(qc, parameter_values=[{theta: a} for a in angles], shots=400)
    result = job.result()
    assert _jobs(client) == before + 1
    entries = client.get_job(job.job_id())["payload"]["circuits"]
    assert len(entries) == 1 and len(entries[0]["parameter_values"]) == 9
    assert "input float[64] p0;" in entries[0]["circuit"]
    assert len(result.results) == 9
    for i, a in enumerate(angles):
        header = result.results[i].header
        assert header["parameter_values"] == {"θ": pytest.approx(a)}
        probabilities = {"0": np.cos(a / 2) ** 2, "1": np.sin(a / 2) ** 2}
        assert_close(result.get_counts(i), probabilities, 400)


def test_bindings_by_name_vector_or_row_agree(backend):
    v = ParameterVector("v", 2)
    qc = QuantumCircuit(2, name="two")
    qc.rx(v[0], 0)
    qc.rx(v[1], 1)
    qc.measure_all()
    forms = [[np.pi, 0.0], {"v[0]": np.pi, "v[1]": 0.0}, {v: [np.pi, 0.0]}]
    result = backend.run([qc] * 3, parameter_values=forms, shots=50).result()
    assert result.get_counts() == [{"01": 50}] * 3


def test_several_registers_are_merged_for_the_wire_and_split_back(backend):
    q = QuantumRegister(3, "q")
    a, b = ClassicalRegister(1, "a"), ClassicalRegister(2, "b")
    qc = QuantumCircuit(q, a, b, name="regs")
    qc.x(0)
    qc.x(2)
    qc.measure(0, a[0])
    qc.measure(1, b[0])
    qc.measure(2, b[1])
    result = backend.run(qc, shots=40, memory=True).result()
    assert result.get_counts() == {"10 1": 40}
    assert result.get_memory() == ["10 1"] * 40
    header = result.results[0].header
    assert header["creg_sizes"] == [["a", 1], ["b", 2]] and header["memory_slots"] == 3


def test_memory_is_synthesised_from_counts(backend):
    result = backend.run(bell(), shots=500, memory=True).result()
    memory = result.get_memory()
    assert len(memory) == 500
    assert Counter(memory) == result.get_counts()
    assert memory == result.get_memory()  # stable


def test_meas_level_1_memory_has_qiskit_shapes(backend):
    single = backend.run(bell(), shots=20, meas_level=1).result()
    assert single.get_memory().shape == (20, 2)
    assert single.results[0].meas_level == 1
    averaged = backend.run(bell(), shots=20, meas_level=1, meas_return="avg").result()
    assert averaged.get_memory().shape == (2,)


def test_job_by_id_rebuilds_headers(client, backend):
    theta = ParameterVector("θ", 2)
    q = QuantumRegister(2, "q")
    a, b = ClassicalRegister(1, "a"), ClassicalRegister(1, "b")
    qc = QuantumCircuit(q, a, b, name="rebuilt", metadata={"tag": "x"})
    qc.rx(theta[0], 0)
    qc.rx(theta[1], 1)
    qc.measure(0, a[0])
    qc.measure(1, b[0])
    job = backend.run(qc, parameter_values=[[0.0, np.pi], [np.pi, 0.0]], shots=30)
    original = job.result()
    for past in (client.job(job.job_id()), backend.job(job.job_id())):
        rebuilt = past.result()
        assert [r.header for r in rebuilt.results] == [r.header for r in original.results]
        with pytest.warns(UserWarning, match="multiple results"):  # one name, two rows
            assert rebuilt.get_counts("rebuilt") == original.get_counts(0) == {"1 0": 30}
        assert rebuilt.backend_name == "mock"


def test_failed_job_raises_with_the_parser_message(backend):
    job = backend.run(qasm="OPENQASM 3.0;\nqubit[1] q;\nfoo q[0];\n")
    with pytest.raises(errors.JobFailedError, match="foo") as info:
        job.result(timeout=30)
    assert isinstance(info.value, RuntimeError)
    assert job.status() is JobStatus.ERROR


def test_pending_job_times_out_then_cancels(client, backend, admin):
    admin.toggle_qpu(backend.qpu_id, False)
    try:
        job = backend.run(bell(), shots=10)
        assert job.status() is JobStatus.QUEUED
        with pytest.raises(QPIJobTimeoutError) as info:
            job.result(timeout=0.2, wait=0.05)
        assert isinstance(info.value, QiskitJobTimeoutError)
        assert isinstance(info.value, TimeoutError)
        assert info.value.job_id == job.job_id() and job.job_id() in str(info.value)
        assert job.cancel() is True
        assert job.status() is JobStatus.CANCELLED
        with pytest.raises(errors.JobCancelledError):
            job.result(timeout=5)
        assert job.cancel() is False
    finally:
        admin.toggle_qpu(backend.qpu_id, True)


def test_wait_for_final_state_reports_progress(backend):
    job = backend.run(bell(), shots=10)
    seen = []
    job.wait_for_final_state(timeout=30, wait=0.2, callback=lambda *a: seen.append(a[1]))
    assert seen[-1] is JobStatus.DONE
    assert job.done() and job.in_final_state()


def _rx(theta: Parameter | None = None) -> QuantumCircuit:
    qc = QuantumCircuit(1, 1, name="rx")
    qc.rx(theta if theta is not None else Parameter("θ"), 0)
    qc.measure(0, 0)
    return qc


def _wide() -> QuantumCircuit:
    qc = QuantumCircuit(30, 1)
    qc.measure(0, 0)
    return qc


def test_num_qubits_must_agree_with_the_qpu_record(client):
    assert client.get_backend("mock", num_qubits=24).num_qubits == 24
    with pytest.raises(errors.ValidationError, match="has 24 qubits; num_qubits=5 disagrees"):
        client.get_backend("mock", num_qubits=5)


def test_aliases_cannot_be_given_twice(backend):
    with pytest.raises(errors.ValidationError, match="parameter_values= or its alias params="):
        backend.run(_rx(), parameter_values=[[0.1]], params=[[0.2]])
