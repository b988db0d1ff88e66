"""QPIClient.run: many circuits of several kinds as ONE job, and plugins through the hooks."""

import warnings

import pytest

from qpi import errors
from qpi.hooks import QPIPluginWarning, TranslatedCircuit, hookimpl, make_plugin_manager
from qpi.payload import CircuitPayload
from tests.client.conftest import BELL, RX


class ToyCircuit:
    """A framework no one has heard of: flip some qubits, then measure all."""

    def __init__(self, num_qubits, flips):
        self.num_qubits, self.flips = num_qubits, flips


class ToyResult:
    def __init__(self, counts):
        self.counts = counts


class ToyPlugin:
    @hookimpl
    def qpi_translate_circuit(self, obj, parameter_values, options):
        if not isinstance(obj, ToyCircuit):
            return None
        n = obj.num_qubits
        body = "".join(f"x q[{i}];\n" for i in obj.flips)
        qasm = (
            f'OPENQASM 3.0;\ninclude "stdgates.inc";\nbit[{n}] c;\nqubit[{n}] q;\n'
            f"{body}c = measure q;\n"
        )
        return TranslatedCircuit(CircuitPayload(qasm), plugin="toy", context={"n": n})

    @hookimpl
    def qpi_native_result(self, experiments, translated):
        if translated.plugin != "toy":
            return None
        return ToyResult(experiments[0].counts)


def test_toy_plugin_end_to_end_in_one_job(client):
    client.plugins.register(ToyPlugin(), name="toy")
    before = len(client.list_jobs())
    job = client.run(
        [ToyCircuit(3, [0, 2]), BELL, RX],
        shots=200,
        parameter_values=[None, None, [[0.0], [3.141592653589793]]],
        qpu="mock",
    )
    result = job.result(timeout=30)
    assert len(client.list_jobs()) == before + 1
    assert result.get_counts(0) == {"101": 200}
    assert set(result.get_counts(1)) <= {"00", "11"}
    assert result.get_counts(2, 0) == {"0": 200} and result.get_counts(2, 1) == {"1": 200}
    assert result.experiment(2, 1).parameter_values == (3.141592653589793,)
    assert result.metadata["job_id"] == job.id and result.metadata["from_cache"] is False
    native = job.native_results()
    assert isinstance(native[0], ToyResult) and native[0].counts == {"101": 200}
    assert [e.row for e in native[2]] == [0, 1]  # QASM text: neutral experiments


def test_run_single_circuit_takes_rows_directly(client):
    job = client.run(RX, shots=64, parameter_values=[[0.0], [3.141592653589793], [0.0]], qpu="mock")
    result = job.result(timeout=30)
    assert [result.get_counts(0, r) for r in range(3)] == [{"0": 64}, {"1": 64}, {"0": 64}]


def test_run_without_qpu_picks_an_online_one(client):
    job = client.run(BELL, shots=10)
    assert job.payload.qpu_target == client.list_qpus()[0]["id"]
    assert sum(job.result(timeout=30).get_counts().values()) == 10


def test_run_rejects_what_no_plugin_knows(client):
    with pytest.raises(errors.ValidationError, match="no installed qpi plugin can translate"):
        client.run(object(), qpu="mock")
    with pytest.raises(errors.ValidationError, match="one entry"):
        client.run([BELL, BELL], parameter_values=[None], qpu="mock")


def test_job_handle_from_id_rebuilds_results(client):
    job = client.run([BELL, RX], shots=32, parameter_values=[None, [[0.0]]], qpu="mock")
    first = job.result(timeout=30)
    again = client.job(job.id)
    assert again.id == job.id
    result = again.result(timeout=30) if hasattr(again, "payload") else None
    if result is not None:  # the neutral handle (the Qiskit plugin returns its own job)
        assert result.get_counts(1, 0) == first.get_counts(1, 0)


def test_installed_framework_plugins_are_registered(client):
    names = {client.plugins.get_name(p) for p in client.plugins.get_plugins()}
    assert {"qiskit", "pennylane", "cirq"} <= names


def test_a_broken_plugin_is_reported_once_and_skipped(tmp_path, monkeypatch):
    dist = tmp_path / "qpi_broken_demo-0.1.dist-info"
    dist.mkdir()
    (dist / "METADATA").write_text("Metadata-Version: 2.1\nName: qpi-broken-demo\nVersion: 0.1\n")
    (dist / "entry_points.txt").write_text("[qpi]\nbroken = qpi_broken_demo_mod\n")
    (tmp_path / "qpi_broken_demo_mod.py").write_text("raise ImportError('needs libfoo')\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("default")
        pm = make_plugin_manager()
        make_plugin_manager()
    messages = [str(w.message) for w in caught if issubclass(w.category, QPIPluginWarning)]
    assert len(messages) == 1 and "broken" in messages[0] and "needs libfoo" in messages[0]
    assert pm.get_plugin("broken") is None
