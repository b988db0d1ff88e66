"""The client on a real QPI v0.1.2 server (``LocalServer(strict=True)``) and on ``qpi serve``.

Strict mode reproduces the real server's results bug, its id-only QPU routes and its driver
(see ``tests/server/test_strict.py``); these tests check that the client reads every result
there once logged in, says how to log in otherwise, never sends an untargeted job, and costs
no extra request on a server that answers correctly.
"""

from __future__ import annotations

import time
from collections.abc import Iterator

import pytest

from qpi import QPIClient, errors
from qpi.server import LocalServer
from qpi.server.config import BUILTIN_QPUS
from tests.client.conftest import BELL
from tests.faultproxy import FaultProxy

TWO_REGISTERS = (
    'OPENQASM 3.0;\ninclude "stdgates.inc";\nbit[1] a;\nbit[2] b;\nqubit[3] q;\n'
    "x q[0];\nx q[2];\na[0] = measure q[0];\nb[0] = measure q[1];\nb[1] = measure q[2];\n"
)
WIDE_X = (
    'OPENQASM 3.0;\ninclude "stdgates.inc";\nbit[10] c;\nqubit[10] q;\nx q[3];\nc = measure q;\n'
)


@pytest.fixture(scope="module")
def strict() -> Iterator[LocalServer]:
    with LocalServer(seed=3, strict=True, token_ttl=6.0) as srv:
        yield srv


@pytest.fixture
def logged_in(strict: LocalServer) -> Iterator[QPIClient]:
    with QPIClient(strict.url, api_token=strict.api_token, cache=False) as client:
        client.auth_with_password(strict.user_email, strict.user_password)
        yield client


def test_default_qpu_is_the_one_the_server_marks(server):
    with server.client(cache=False) as client:
        assert client.resolve_qpu(None) == client.get_qpu("mock")["id"]


def test_no_silent_pick_among_several_unmarked_qpus(strict, monkeypatch):
    client = QPIClient(strict.url, api_token=strict.api_token, cache=False)
    with client, pytest.raises(errors.ValidationError) as caught:
        client.run(BELL, shots=10)
    assert "mock (id " in str(caught.value) and "qiskit_aer (id " in str(caught.value)
    monkeypatch.setenv("QPI_QPU", "qiskit_aer")
    with QPIClient(strict.url, api_token=strict.api_token, cache=False) as client:
        assert client.resolve_qpu(None) == client.get_qpu("qiskit_aer")["id"]


def test_the_only_online_qpu_is_the_default():
    only_mock = LocalServer(strict=True, qpus=BUILTIN_QPUS[:1], workers=1)
    with only_mock as srv, QPIClient(srv.url, api_token=srv.api_token, cache=False) as client:
        assert client.resolve_qpu(None) == client.list_qpus()[0]["id"]


def test_an_api_token_alone_gets_the_log_in_error(strict):
    with QPIClient(strict.url, api_token=strict.api_token, cache=False) as client:
        job = client.run(BELL, shots=10, qpu="mock")
        with pytest.raises(errors.LoginRequiredError) as caught:
            job.result(timeout=30)
    message = str(caught.value)
    assert "client.auth_with_password(" in message
    assert f"qpi login --url {strict.url} --email" in message
    assert "upgrade" not in message


def test_logged_in_results_failures_and_records(logged_in):
    result = logged_in.run(BELL, shots=2000, qpu="mock").result(timeout=30)
    counts = result.get_counts()
    assert set(counts) == {"00", "11"}
    assert abs(counts["00"] - 1000) < 5 * (2000 * 0.25) ** 0.5  # 5 sigma
    with pytest.raises(errors.JobFailedError) as caught:
        # OpenQASM 3 text the real driver's loader refuses (no stdgates.inc include).
        logged_in.run(
            "OPENQASM 3.0;\nbit[1] c;\nqubit[1] q;\nx q[0];\nc[0] = measure q[0];\n",
            shots=10,
            qpu="mock",
        ).result(timeout=30)
    assert "Failed to parse QASM circuit" in str(caught.value)
    record = logged_in.get_job(result.job_id)
    assert record["results"]["circuit_results"][0]["counts"] == counts


def test_zero_counts_are_dropped_on_arrival(logged_in):
    result = logged_in.run(WIDE_X, shots=50, qpu="mock").result(timeout=30)
    assert result.get_counts() == {"0000001000": 50}
    raw = logged_in.get_job(result.job_id)["results"]
    assert raw["counts"] == {"0000001000": 50}  # not 1,024 keys


def test_two_registers_are_merged_before_sending(logged_in, server):
    strict_counts = logged_in.run(TWO_REGISTERS, shots=20, qpu="mock").result(30).get_counts()
    with server.client(cache=False) as friendly:
        friendly_counts = friendly.run(TWO_REGISTERS, shots=20).result(30).get_counts()
    assert strict_counts == friendly_counts == {"101": 20}


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        (
            'OPENQASM 2.0;\ninclude "qelib1.inc";\nqreg q[1];\ncreg c[1];\nsx q[0];\n'
            "measure q -> c;\n",
            "not in qelib1.inc",
        ),
        ("qubit[1] q;\n", "no 'OPENQASM 3.0;'"),
    ],
)
def test_raw_qasm_the_driver_rejects_is_refused_before_sending(logged_in, text, reason):
    with pytest.raises(errors.ValidationError, match=reason):
        logged_in.run(text, qpu="mock")


def test_a_circuit_without_classical_bits_is_sent_with_a_warning(logged_in):
    text = 'OPENQASM 3.0;\ninclude "stdgates.inc";\nqubit[1] q;\nh q[0];\n'
    with pytest.warns(UserWarning, match="no classical bits"):
        job = logged_in.run(text, shots=10, qpu="qiskit_aer")
    with pytest.raises(errors.JobFailedError, match="QiskitError"):
        job.result(timeout=30)


def test_the_bug_is_detected_once_and_correct_servers_cost_nothing_extra(server, strict):
    with FaultProxy(server.url) as proxy:
        with QPIClient(proxy.url, api_token=server.api_token, cache=False) as client:
            for _ in range(3):
                client.run(BELL, shots=10).result(timeout=30)
        assert proxy.count("GET", "/api/collections/") == 0
    proxy = FaultProxy(strict.url)
    with proxy, QPIClient(proxy.url, api_token=strict.api_token, cache=False) as client:
        client.auth_with_password(strict.user_email, strict.user_password)
        for _ in range(3):
            client.run(BELL, shots=10, qpu="mock").result(timeout=30)
        # Once the bug is known, a job's full record is read once, through the records route
        # (the status polls stay on /api/jobs, where the status is right).
        records = "/api/collections/quantum_jobs/records/"
        before = proxy.count("GET", records)
        client.run(BELL, shots=10, qpu="mock").result(timeout=30)
        assert proxy.count("GET", records) == before + 1


def test_the_session_is_renewed_before_it_expires(strict, logged_in):
    # token_ttl is 6 s: the session is renewed past half its life, and outlives the first token.
    for _ in range(3):
        counts = logged_in.run(BELL, shots=100, qpu="mock").result(timeout=30).get_counts()
        assert set(counts) <= {"00", "11"}
        time.sleep(2.5)
    logged_in.run(BELL, shots=100, qpu="mock").result(timeout=30)
