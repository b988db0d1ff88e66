"""The job lifecycle (issue 13) against a real LocalServer over HTTP.

Cache semantics that keep shot noise fresh (``reuse``: the k-th identical submission gets the
k-th stored result), ``memo``, identity scoping, re-attaching after a client was killed
mid-POST, splitting jobs larger than one request, status-only polls, and a stopped server.
"""

from __future__ import annotations

import json
import math
import os
import socket
import sqlite3
import subprocess
import sys
import textwrap
import uuid
from collections.abc import Iterator, Mapping
from typing import Any

import pytest
from click.testing import CliRunner

from qpi import QPIClient, errors
from qpi.cache import CacheWarning
from qpi.cli import main as cli
from qpi.server import LocalServer
from qpi.transport import HTTPTransport, RetryPolicy
from tests.faultproxy import fault_proxy, wait_until
from tests.server.helpers import admin_session, make_account

# Four qubits in superposition: 16 outcomes, so two 200-shot samples are never alike by chance
# on a seeded server (the seeds make every figure here reproducible).
SPREAD = (
    'OPENQASM 3.0;\ninclude "stdgates.inc";\nbit[4] c;\nqubit[4] q;\n'
    "h q[0];\nh q[1];\nh q[2];\nh q[3];\nc = measure q;\n"
)

# Runs what a user's script would, in a fresh process; prints one JSON line per run.
SCRIPT = textwrap.dedent(
    """
    import json, sys
    from qpi import QPIClient

    url, qasm_file, qpu, runs = sys.argv[1:5]
    with QPIClient(url) as client:  # token and cache directory come from the environment
        for _ in range(int(runs)):
            job = client.run(open(qasm_file).read(), shots=200, qpu=qpu)
            print("job", job.id, flush=True)
            result = job.result(timeout=60)
            print(json.dumps([result.job_id, result.from_cache, result.get_counts()]), flush=True)
    """
)


@pytest.fixture(scope="module")
def server() -> Iterator[LocalServer]:
    with LocalServer(seed=13) as srv:
        yield srv


@pytest.fixture(scope="module")
def mock_id(server: LocalServer) -> str:
    with server.client(cache=False) as client:
        return str(client.get_qpu("mock")["id"])


def unique(text: str) -> str:
    """``text`` made a payload no other test sends (a comment changes nothing else)."""
    return text + f"// {uuid.uuid4().hex}\n"


def jobs_for(server: LocalServer, circuit: str, token: str | None = None) -> list[dict]:
    """The jobs a user holds whose first circuit is ``circuit`` (or a part of a split job)."""
    with QPIClient(server.url, token or server.api_token, cache=False) as client:
        return [
            job
            for job in client.list_jobs()
            if job["payload"]["circuits"][0].get("circuit") == circuit
        ]


def all_jobs(server: LocalServer) -> int:
    """How many jobs the server's user holds (each xdist worker has its own server)."""
    with server.client(cache=False) as client:
        return len(client.list_jobs())


def counts_key(counts: Mapping[str, int]) -> str:
    return json.dumps(sorted(counts.items()))


class Recording(HTTPTransport):
    """The real HTTP transport, noting every request it sends (method, path, params)."""

    def __init__(self, base_url: str) -> None:
        super().__init__(base_url)
        self.sent: list[tuple[str, str, dict[str, Any]]] = []

    def handle_request(self, method: str, url: str, **kwargs: Any) -> Any:
        path = url.split("://", 1)[-1].partition("/")[2]
        self.sent.append((method, "/" + path, dict(kwargs.get("params") or {})))
        return super().handle_request(method, url, **kwargs)

    def job_reads(self, job_id: str) -> tuple[int, int]:
        """(status-only polls, full reads) of one job."""
        reads = [p for m, path, p in self.sent if m == "GET" and path == f"/api/jobs/{job_id}"]
        polls = sum(1 for p in reads if p.get("fields"))
        return polls, len(reads) - polls


def user_script(server: LocalServer, tmp_path) -> tuple[str, Any, Any, dict[str, str]]:
    """A fresh circuit, its file, SCRIPT's file, and the environment a user's shell sets."""
    circuit = unique(SPREAD)
    qasm = tmp_path / "spread.qasm"
    qasm.write_text(circuit)
    script = tmp_path / "script.py"
    script.write_text(SCRIPT)
    env = {
        **os.environ,
        "QPI_API_TOKEN": server.api_token,
        "QPI_CACHE_DIR": str(tmp_path / "cache"),
        "QPI_CACHE_MODE": "reuse",
    }
    return circuit, qasm, script, env


# -- reuse: fresh samples inside a session, the same sequence in the next ----------------------


def test_five_identical_runs_are_five_jobs_then_a_new_session_replays_them(server, tmp_path):
    circuit = unique(SPREAD)
    with server.client(cache=tmp_path / "cache") as client:
        first = [client.run(circuit, shots=200, qpu="mock").result(timeout=30) for _ in range(5)]
    assert len({r.job_id for r in first}) == 5
    assert not any(r.from_cache for r in first)
    assert len({counts_key(r.get_counts()) for r in first}) == 5  # five different samples
    assert len(jobs_for(server, circuit)) == 5

    with server.client(cache=tmp_path / "cache") as again:  # a rerun of the same script
        second = [again.run(circuit, shots=200, qpu="mock").result(timeout=30) for _ in range(5)]
        assert all(r.from_cache for r in second)
        assert [r.job_id for r in second] == [r.job_id for r in first]
        assert [r.get_counts() for r in second] == [r.get_counts() for r in first]
        assert len(jobs_for(server, circuit)) == 5  # zero jobs
        sixth = again.run(circuit, shots=200, qpu="mock").result(timeout=30)
    assert not sixth.from_cache  # past what is stored: a fresh job, stored as the sixth
    assert len(jobs_for(server, circuit)) == 6


def test_a_second_process_makes_no_job_and_sees_the_same_sequence(server, mock_id, tmp_path):
    circuit, qasm, script, env = user_script(server, tmp_path)
    command = [sys.executable, str(script), server.url, str(qasm), mock_id, "3"]

    def outcomes() -> list[list[Any]]:
        done = subprocess.run(command, env=env, capture_output=True, text=True, timeout=120)
        assert done.returncode == 0, done.stdout + done.stderr
        return [json.loads(line) for line in done.stdout.splitlines() if line.startswith("[")]

    first = outcomes()
    assert [from_cache for _, from_cache, _ in first] == [False] * 3
    assert len(jobs_for(server, circuit)) == 3
    second = outcomes()
    assert [from_cache for _, from_cache, _ in second] == [True] * 3
    assert [(j, c) for j, _, c in second] == [(j, c) for j, _, c in first]
    assert len(jobs_for(server, circuit)) == 3


def test_memo_answers_every_identical_submission_with_the_first_result(server, tmp_path):
    circuit = unique(SPREAD)
    with server.client(cache=tmp_path / "cache", cache_mode="memo") as client:
        results = [client.run(circuit, shots=100, qpu="mock").result(timeout=30) for _ in range(3)]
    assert [r.from_cache for r in results] == [False, True, True]
    assert len({r.job_id for r in results}) == 1
    assert len({counts_key(r.get_counts()) for r in results}) == 1
    assert len(jobs_for(server, circuit)) == 1


def test_record_then_replay_in_order_and_a_miss_names_the_fingerprint(server, tmp_path):
    circuit = unique(SPREAD)
    with server.client(cache=tmp_path / "cache", cache_mode="record") as client:
        recorded = [client.run(circuit, shots=100, qpu="mock").result(timeout=30) for _ in "ab"]
    with server.client(cache=tmp_path / "cache", cache_mode="replay") as replay:
        replayed = [replay.run(circuit, shots=100, qpu="mock").result() for _ in "ab"]
        assert [r.get_counts() for r in replayed] == [r.get_counts() for r in recorded]
        with pytest.raises(errors.CacheMissError) as miss:
            replay.run(circuit, shots=100, qpu="mock")
    assert miss.value.fingerprint == recorded[0].metadata["fingerprint"]
    assert recorded[0].metadata["fingerprint"] in str(miss.value)
    assert "#3" in str(miss.value)


def test_two_tokens_sharing_a_cache_directory_never_share(server, tmp_path):
    circuit = unique(SPREAD)
    cache_dir = tmp_path / "shared"
    with server.client(cache=cache_dir) as alice:
        mine = alice.run(circuit, shots=100, qpu="mock").result(timeout=30)
    bob_token = make_account(
        server.url, admin_session(server.url, server.admin_email, server.admin_password)
    ).token
    with QPIClient(server.url, bob_token, cache=cache_dir) as bob:
        theirs = bob.run(circuit, shots=100, qpu="mock").result(timeout=30)
        assert not theirs.from_cache and theirs.job_id != mine.job_id
    bob_replay = QPIClient(server.url, bob_token, cache=cache_dir, cache_mode="replay")
    with bob_replay, pytest.raises(errors.CacheMissError):
        bob_replay.get_job(mine.job_id)  # Alice's job record is not Bob's to read
    assert len(jobs_for(server, circuit, bob_token)) == 1
    with server.client(cache=cache_dir, cache_mode="replay") as alice:
        assert alice.run(circuit, shots=100, qpu="mock").result().job_id == mine.job_id


def test_a_new_process_on_a_full_disk_opens_the_cache_read_only_and_replays(
    server, tmp_path, monkeypatch
):
    circuit = unique(SPREAD)
    with server.client(cache=tmp_path / "cache") as client:
        recorded = client.run(circuit, shots=100, qpu="mock").result(timeout=30)

    def disk_full(*args: object, **kwargs: object) -> None:
        raise sqlite3.OperationalError("database or disk is full")

    monkeypatch.setattr("diskcache.Cache.__init__", disk_full)  # opening writes: it fails
    with (
        pytest.warns(CacheWarning, match="opened read-only"),
        server.client(cache=tmp_path / "cache", cache_mode="replay") as replay,
    ):
        again = replay.run(circuit, shots=100, qpu="mock").result()
    assert again.from_cache and again.get_counts() == recorded.get_counts()


# -- crash re-attach ---------------------------------------------------------------------------


@pytest.mark.slow
def test_a_client_killed_mid_post_reattaches_and_makes_one_job(server, mock_id, tmp_path):
    circuit, qasm, script, env = user_script(server, tmp_path)
    with fault_proxy(server.url) as proxy:
        # The server accepts the job; its answer is held back until the client is gone.
        proxy.add("stall_after", method="POST", path="/api/jobs", seconds=60)
        command = [sys.executable, str(script), proxy.url, str(qasm), mock_id, "1"]
        first = subprocess.Popen(command, env=env, stdout=subprocess.PIPE, text=True)
        try:
            assert wait_until(lambda: len(jobs_for(server, circuit)) == 1, timeout=60)
        finally:
            first.kill()
            first.wait(timeout=10)
        [made] = jobs_for(server, circuit)
        done = subprocess.run(command, env=env, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stdout + done.stderr
    [(job_id, from_cache, _)] = [
        json.loads(line) for line in done.stdout.splitlines() if line.startswith("[")
    ]
    assert (job_id, from_cache) == (made["id"], False)
    assert [job["id"] for job in jobs_for(server, circuit)] == [made["id"]]


# -- splitting ---------------------------------------------------------------------------------

SWEEP = (
    'OPENQASM 3.0;\ninclude "stdgates.inc";\n'
    + "".join(f"input float[64] t{i};\n" for i in range(8))
    + "bit[1] c;\nqubit[1] q;\nrx(t0) q[0];\n"
    + "".join(f"rz(t{i}) q[0];\n" for i in range(1, 8))
    + "c[0] = measure q[0];\n"
)


@pytest.mark.slow
def test_a_10000_row_sweep_is_one_call_split_and_merged_in_order(server):
    rows = [
        [math.pi if i % 3 == 0 else 0.0] + [i / 7 + k / 3 for k in range(1, 8)]
        for i in range(10_000)
    ]
    circuit = unique(SWEEP)
    recording = Recording(server.url)
    with QPIClient(server.url, server.api_token, cache=False, transport=recording) as client:
        job = client.run(circuit, shots=10, parameter_values=rows, qpu="mock")
        assert len(job.job_ids) == 2  # 1.6 MB of rows: two jobs of at most 1 MiB
        result = job.result(timeout=120)
        assert job.status() == "completed"
    assert [(e.circuit, e.row) for e in result.experiments] == [(0, i) for i in range(10_000)]
    assert [e.counts for e in result.experiments] == [
        {"1": 10} if i % 3 == 0 else {"0": 10} for i in range(10_000)
    ]
    assert result.experiments[9_999].parameter_values == tuple(rows[9_999])
    assert result.metadata["job_ids"] == job.job_ids
    for job_id in job.job_ids:
        polls, full = recording.job_reads(job_id)
        # Status-only polls (or one held long-poll read): the results are downloaded once.
        assert full == 1, (polls, full)


def test_backend_run_of_1000_circuits_is_split_merged_and_followed_by_one_handle(server):
    from qiskit import QuantumCircuit

    circuits = []
    for i in range(1000):
        qc = QuantumCircuit(10, 10, name=f"c{i}-{uuid.uuid4().hex[:6]}")
        for bit in range(10):
            if i >> bit & 1:
                qc.x(bit)
        qc.measure(range(10), range(10))
        circuits.append(qc)
    recording = Recording(server.url)
    with QPIClient(server.url, server.api_token, cache=False, transport=recording) as client:
        client.runner.max_bytes = 128 * 1024  # a small server limit, so 1,000 circuits split
        backend = client.get_backend("mock")
        job = backend.run(circuits, shots=5)
        ids = job.qpi_job.job_ids
        assert len(ids) > 1
        counts = job.result(timeout=120).get_counts()
    assert counts == [{format(i, "010b"): 5} for i in range(1000)]
    posts = [path for method, path, _ in recording.sent if method == "POST"]
    assert posts == ["/api/jobs"] * len(ids)
    assert all(recording.job_reads(job_id)[1] == 1 for job_id in ids)


def test_backend_sampler_v2_over_a_split_run(server):
    from qiskit import QuantumCircuit
    from qiskit.primitives import BackendSamplerV2

    circuits = []
    for i in range(64):
        qc = QuantumCircuit(6, name=f"s{i}-{uuid.uuid4().hex[:6]}")
        for bit in range(6):
            if i >> bit & 1:
                qc.x(bit)
        qc.measure_all()
        circuits.append(qc)
    with server.client(cache=False) as client:
        client.runner.max_bytes = 8 * 1024
        sampler = BackendSamplerV2(backend=client.get_backend("mock"))
        result = sampler.run(circuits, shots=4).result()
    assert [r.data.meas.get_counts() for r in result] == [{format(i, "06b"): 4} for i in range(64)]


def test_one_handle_follows_a_split_group_status_and_cancel(server, mock_id):
    admin = QPIClient(server.url, cache=False)
    admin.auth_with_password(server.admin_email, server.admin_password, superuser=True)
    rows = [[0.001 * i] + [i / 7 + k / 3 for k in range(1, 8)] for i in range(600)]
    admin.toggle_qpu(mock_id, False)  # the jobs stay pending
    try:
        with server.client(cache=False) as client:
            client.runner.max_bytes = 32 * 1024
            job = client.run(unique(SWEEP), shots=5, parameter_values=rows, qpu=mock_id)
            assert len(job.job_ids) > 2
            assert job.status() == "pending" and not job.done()
            cancelled = job.cancel()
            assert cancelled["job_ids"] == job.job_ids and cancelled["status"] == "cancelled"
            assert {client.get_job(i)["status"] for i in job.job_ids} == {"cancelled"}
            assert job.status() == "cancelled"
            with pytest.raises(errors.JobCancelledError):
                job.result(timeout=30)
    finally:
        admin.toggle_qpu(mock_id, True)
        admin.close()


# -- names from global counters, stopped servers, frameworks -----------------------------------


def test_transpiled_circuits_replay_offline_after_an_extra_circuit_was_built(tmp_path):
    from qiskit import QuantumCircuit, transpile

    def bell() -> QuantumCircuit:
        qc = QuantumCircuit(2, 2)  # unnamed: Qiskit names it from its global counter
        qc.h(0)
        qc.cx(0, 1)
        qc.measure([0, 1], [0, 1])
        return transpile(qc, basis_gates=["u", "cx"])

    with LocalServer(seed=3) as srv:
        url, token = srv.url, srv.api_token
        with srv.client(cache=tmp_path / "cache") as client:
            recorded = client.get_backend("mock").run(bell(), shots=300).result()
    QuantumCircuit(1, name=None)  # one more cell built a circuit: the counter moved on
    again = bell()
    with QPIClient(url, token, cache=tmp_path / "cache", cache_mode="replay") as replay:
        replayed = replay.get_backend("mock").run(again, shots=300).result()
    assert replayed.get_counts() == recorded.get_counts()
    assert replayed.job_id == recorded.job_id


def closed_port_url() -> str:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return f"http://127.0.0.1:{sock.getsockname()[1]}"


def test_a_stopped_server_is_a_connection_error_not_a_cache_miss(tmp_path):
    url = closed_port_url()
    once = RetryPolicy(attempts=1)
    client = QPIClient(url, "qpi_token", cache=tmp_path / "cache", retry=once)
    with client, pytest.raises(errors.ConnectionError) as info:
        client.run(SPREAD, shots=10, qpu="mock")
    assert not isinstance(info.value, errors.CacheMissError)
    qasm = tmp_path / "spread.qasm"
    qasm.write_text(SPREAD)
    outcome = CliRunner().invoke(
        cli, ["run", str(qasm), "--url", url, "--cache-dir", str(tmp_path / "cache")]
    )
    assert outcome.exit_code == 5, outcome.output


@pytest.mark.slow
def test_cirq_sample_expectation_values_draws_fresh_samples_then_reruns_free(server, tmp_path):
    cirq = pytest.importorskip("cirq")
    from qpi_cirq import QPISampler

    q = cirq.LineQubit(1_000 + int(uuid.uuid4().int % 10_000))  # a circuit no other test sends
    circuit = cirq.Circuit(cirq.H(q))
    observable = cirq.Z(q)

    def estimate() -> tuple[float, int]:
        before = all_jobs(server)
        with QPISampler(
            url=server.url, api_token=server.api_token, cache=tmp_path / "cache", backend="mock"
        ) as sampler:
            [[value]] = sampler.sample_expectation_values(circuit, [observable], num_samples=40_000)
        return value.real, all_jobs(server) - before

    first, made = estimate()
    assert made == 4  # four 10,000-shot jobs: fresh samples, not one job reused four times
    assert abs(first) < 5 / math.sqrt(40_000)  # 5 sigma of a fair coin's mean
    second, made_again = estimate()
    assert made_again == 0 and second == first


@pytest.mark.slow
def test_pennylane_tracker_counts_submitted_jobs_apart_from_cache_answers(server, tmp_path):
    qml = pytest.importorskip("pennylane")
    angle = 0.1 + (uuid.uuid4().int % 1000) / 10_000  # a circuit no other test sends

    def tracked() -> dict[str, Any]:
        dev = qml.device(
            "qpi.remote",
            wires=1,
            shots=100,
            url=server.url,
            api_token=server.api_token,
            cache=tmp_path / "cache",
            backend="mock",
        )

        @qml.qnode(dev)
        def circuit() -> Any:
            qml.RX(angle, wires=0)
            return qml.expval(qml.PauliZ(0))

        with qml.Tracker(dev) as tracker:
            circuit()
        return dict(tracker.totals)

    fresh = tracked()
    assert fresh.get("jobs") == 1 and "cache_hits" not in fresh
    rerun = tracked()
    assert rerun.get("cache_hits") == 1 and "jobs" not in rerun


WIDE = (
    'OPENQASM 3.0;\ninclude "stdgates.inc";\ninput float[64] theta;\nbit[12] c;\nqubit[12] q;\n'
    + "".join(f"rx(theta) q[{i}];\n" for i in range(12))
    + "c = measure q;\n"
)


def test_a_split_keeps_each_jobs_results_under_the_servers_cap():
    from qpi.jobs import split_payload
    from qpi.payload import CircuitPayload, JobPayload

    rows = tuple((0.1 * i,) for i in range(100))
    payload = JobPayload((CircuitPayload(WIDE, rows),), qpu_target="q", shots=4096)
    parts = split_payload(payload, max_bytes=1 << 20)
    # 4,096 outcomes of 12 bits each at most per row: about 106 kB, so 9 rows a job.
    assert [len(p.payload.circuits[0].parameter_values) for p in parts] == [9] * 11 + [1]
    assert [p.origin for p in parts] == [((0, 9 * k),) for k in range(12)]
    few = JobPayload((CircuitPayload(WIDE, rows),), qpu_target="q", shots=10)
    assert len(split_payload(few, max_bytes=1 << 20)) == 1


def test_a_sweep_whose_results_pass_the_cap_is_split_and_completes(server):
    # Found by the estimator benchmark: a 144-point gradient's results passed the 1 MiB cap.
    rows = [[math.pi / 2 + i * 1e-3] for i in range(40)]
    with server.client(cache=False) as client:
        job = client.run(unique(WIDE), shots=2000, parameter_values=rows, qpu="mock")
        assert len(job.job_ids) == 2
        result = job.result(timeout=120)
    assert [(e.circuit, e.row) for e in result.experiments] == [(0, i) for i in range(40)]
    assert all(sum(e.counts.values()) == 2000 for e in result.experiments)
    assert len(result.experiments[0].counts) > 1000  # uniform over 4,096 outcomes
