"""The plugin's hooks: QPIClient.run with Qiskit circuits, native results, lazy imports."""

from __future__ import annotations

import subprocess
import sys

import numpy as np
from qiskit.circuit import Parameter
from qiskit.result import Result
from qpi_qiskit import QPIBackend

from qpi import QPIClient
from tests.qiskit.checks import bell


def test_client_run_translates_qiskit_circuits_and_gives_qiskit_results(client):
    theta = Parameter("θ")
    rx = bell().copy_empty_like(name="rx")
    rx.rx(theta, 0)
    rx.measure(0, 0)
    job = client.run([bell(), rx], shots=200, parameter_values=[None, [[0.0], [np.pi]]], qpu="mock")
    first, second = job.native_results()
    assert isinstance(first, Result) and set(first.get_counts()) <= {"00", "11"}
    assert second.get_counts() == [{"00": 200}, {"01": 200}]
    assert second.results[1].header["parameter_values"] == {"θ": np.pi}
    assert first.job_id == second.job_id == job.id  # the hook sees the whole job's result
    assert first.backend_name == "mock"


def test_client_get_backend_is_a_qiskit_backend(client):
    backend = client.get_backend("qiskit_aer")
    assert isinstance(backend, QPIBackend) and backend.name == "qiskit_aer"


def test_creating_a_client_does_not_import_qiskit():
    code = (
        "import sys; from qpi import QPIClient; QPIClient('http://127.0.0.1:9', cache=False); "
        "import qpi_qiskit, qpi_qiskit.plugin; "
        "print('qiskit' in sys.modules)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False", out.stderr


def test_results_and_jobs_replay_from_the_cache_offline(server, tmp_path):

    theta = Parameter("θ")
    rx = bell().copy_empty_like(name="sweep")
    rx.rx(theta, 1)
    rx.measure(1, 1)
    with server.client(cache=str(tmp_path)) as online:
        backend = online.get_backend("mock")
        job = backend.run(rx, parameter_values=[[0.0], [np.pi]], shots=64)
        first = job.result()
        assert not first.metadata["from_cache"]
    with server.client(cache=str(tmp_path)) as rerun:  # a new session: answered from the cache
        backend = rerun.get_backend("mock")
        again = backend.run(rx, parameter_values=[[0.0], [np.pi]], shots=64).result()
        assert again.metadata["from_cache"] and again.get_counts() == first.get_counts()
    replay = {"cache": str(tmp_path), "cache_mode": "replay"}
    with QPIClient(server.url, server.api_token, **replay) as offline:
        past = offline.job(job.job_id())
        replayed = past.result()
        assert [r.header for r in replayed.results] == [r.header for r in first.results]
        assert replayed.get_counts() == [{"00": 64}, {"10": 64}]
        backend = offline.get_backend("mock")
        assert backend.run(
            rx, parameter_values=[[0.0], [np.pi]], shots=64
        ).result().get_counts() == (first.get_counts())
