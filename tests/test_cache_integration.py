"""The cache against a real local orchestrator, through the public client API."""

from __future__ import annotations

import errno
import gzip
import os
import queue
import signal
import socket
import subprocess
import sys
import textwrap
import threading
import time
import uuid
from collections.abc import Iterator

import pytest
import requests

from qpi import QPIClient, errors
from qpi.cache import Cache, CacheWarning
from qpi.job import Job
from qpi.server import LocalServer
from qpi.transport import RetryPolicy

BELL = (
    'OPENQASM 3.0;\ninclude "stdgates.inc";\nbit[2] c;\nqubit[2] q;\n'
    "h q[0];\ncx q[0], q[1];\nc = measure q;\n"
)
# An unknown gate: the server fails the job (it measures into a bit, or the client refuses it).
BROKEN = 'OPENQASM 3.0;\ninclude "stdgates.inc";\nbit[1] c;\nqubit[1] q;\nfoo q[0];\n'

# Runs the same few lines a user's script would, in a process the test can kill.
SCRIPT = textwrap.dedent(
    """
    import sys
    from qpi import QPIClient

    url, qasm_file, qpu = sys.argv[1:4]
    client = QPIClient(url)  # token and cache directory come from the environment
    job = client.run(open(qasm_file).read(), shots=64, qpu=qpu)
    print("job", job.id, flush=True)
    result = job.result(timeout=60)
    print("done", result.job_id, result.from_cache, flush=True)
    """
)


@pytest.fixture(scope="module")
def server() -> Iterator[LocalServer]:
    with LocalServer(seed=11) as srv:
        yield srv


@pytest.fixture(scope="module")
def mock_id(server: LocalServer) -> str:
    with server.client(cache=False) as client:
        return str(client.get_qpu("mock")["id"])


@pytest.fixture
def admin(server: LocalServer) -> Iterator[QPIClient]:
    with QPIClient(server.url, cache=False) as client:
        client.auth_with_password(server.admin_email, server.admin_password, superuser=True)
        yield client


@pytest.fixture
def bell() -> str:
    """A Bell circuit no other test submits (a comment makes its payload unique)."""
    return BELL + f"// {uuid.uuid4().hex}\n"


def jobs_for(server: LocalServer, circuit: str) -> list[dict]:
    """The jobs the server holds for payloads containing ``circuit``."""
    with server.client(cache=False) as client:
        return [
            job
            for job in client.list_jobs()
            if any(c.get("circuit") == circuit for c in job["payload"]["circuits"])
        ]


class ConnectionCounter:
    """Counts every TCP connection this process tries to open."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        self.attempts: list[object] = []
        real_connect = socket.socket.connect

        def counting_connect(sock: socket.socket, address: object) -> None:
            self.attempts.append(address)
            return real_connect(sock, address)

        monkeypatch.setattr(socket.socket, "connect", counting_connect)


def test_reuse_answers_the_kth_run_with_the_kth_stored_result(server, tmp_path, bell):
    # Was "reuse submits once": that froze shot noise (issue 13). Now repeated runs inside a
    # session are fresh jobs, and a new session replays them in order.
    with server.client(cache=tmp_path / "cache") as client:
        assert client.cache_mode == "reuse"
        first = client.run(bell, shots=200, qpu="mock").result(timeout=30)
        second = client.run(bell, shots=200, qpu="mock").result(timeout=30)
    assert not first.from_cache and not second.from_cache
    assert second.job_id != first.job_id
    assert second.metadata["fingerprint"] == first.metadata["fingerprint"]
    assert len(jobs_for(server, bell)) == 2
    with server.client(cache=tmp_path / "cache") as fresh:  # a new session, same cache
        again = fresh.run(bell, shots=200, qpu="mock").result(timeout=30)
        assert again.from_cache and again.metadata["from_cache"] is True
        assert again.job_id == first.job_id and again.get_counts() == first.get_counts()
        assert again.metadata["status"] == "completed"
        target = first.payload.qpu_target
        assert fresh.submit_job([{"circuit": bell}], shots=200, qpu_target=target) == (
            second.job_id
        )
    assert len(jobs_for(server, bell)) == 2


def test_memo_submit_job_twice_while_pending_makes_one_job(server, admin, mock_id, tmp_path, bell):
    # Same payload, same answer is the memo mode now (reuse gives the second call a new job).
    admin.toggle_qpu(mock_id, False)
    try:
        with server.client(cache=tmp_path / "cache", cache_mode="memo") as client:
            first = client.submit_job([{"circuit": bell}], shots=50, qpu_target=mock_id)
            again = client.submit_job([{"circuit": bell}], shots=50, qpu_target=mock_id)
            assert again == first
            assert client.get_job(first)["status"] == "pending"
    finally:
        admin.toggle_qpu(mock_id, True)
    with server.client(cache=tmp_path / "cache", cache_mode="memo") as client:
        assert client.wait_for_job(first, timeout=30)["status"] == "completed"
        assert client.submit_job([{"circuit": bell}], shots=50, qpu_target=mock_id) == first
    assert len(jobs_for(server, bell)) == 1


def test_record_mode_always_submits_and_stores(server, tmp_path, bell):
    with server.client(cache=tmp_path / "cache", cache_mode="record") as client:
        one = client.run(bell, shots=100, qpu="mock").result(timeout=30)
        two = client.run(bell, shots=100, qpu="mock").result(timeout=30)
    assert not one.from_cache and not two.from_cache
    assert one.job_id != two.job_id
    assert len(jobs_for(server, bell)) == 2
    with server.client(cache=tmp_path / "cache") as client:
        assert client.run(bell, shots=100, qpu="mock").result(timeout=30).from_cache


def test_failed_job_is_submitted_again_not_reattached(server, tmp_path):
    broken = BROKEN + f"// {uuid.uuid4().hex}\n"
    with server.client(cache=tmp_path / "cache") as client:
        for _ in range(2):
            with pytest.raises(errors.JobFailedError):
                client.run(broken, shots=10, qpu="mock").result(timeout=30)
    assert len(jobs_for(server, broken)) == 2


def test_replay_with_the_server_stopped_opens_no_connection(tmp_path, bell, monkeypatch):
    cache_dir = tmp_path / "cache"
    with LocalServer(seed=5) as srv, srv.client(cache=cache_dir) as client:
        url, token = srv.url, srv.api_token
        recorded = client.run(bell, shots=300, qpu="mock").result(timeout=30)
        qpu_id = recorded.payload.qpu_target
        other = client.submit_job([{"circuit": bell}], shots=301, qpu_target=qpu_id)
        client.wait_for_job(other, timeout=30)
    with pytest.raises(requests.ConnectionError):
        requests.get(url + "/api/qpus", timeout=2)  # the port is closed now

    counter = ConnectionCounter(monkeypatch)
    with QPIClient(url, token, cache=cache_dir, cache_mode="replay") as replay:
        again = replay.run(bell, shots=300, qpu="mock").result()
        assert again.from_cache and again.job_id == recorded.job_id
        assert again.get_counts() == recorded.get_counts()
        assert [e.counts for e in again.experiments] == [e.counts for e in recorded.experiments]
        assert replay.submit_job([{"circuit": bell}], shots=301, qpu_target=qpu_id) == other
        assert replay.wait_for_job(other)["status"] == "completed"
        assert replay.get_job(recorded.job_id)["status"] == "completed"
        rebuilt = Job.from_id(replay.runner, recorded.job_id).result()
        assert rebuilt.get_counts() == recorded.get_counts()
        assert replay.job(recorded.job_id).job_id() == recorded.job_id
        with pytest.raises(errors.CacheMissError, match="holds no result #1 for payload"):
            replay.run(bell, shots=302, qpu="mock")
    with QPIClient(
        url, token, cache=cache_dir, retry=RetryPolicy(attempts=1)
    ) as offline:  # reuse mode reads finished jobs offline
        assert offline.get_job(other)["status"] == "completed"
        assert offline.wait_for_job(recorded.job_id)["id"] == recorded.job_id
        assert counter.attempts == []
        with pytest.raises(errors.ConnectionError):  # the control: a real request is counted
            offline.get_job("not-cached")
    assert counter.attempts


def test_export_import_into_an_empty_cache_then_replay(server, tmp_path, bell, monkeypatch):
    with server.client(cache=tmp_path / "mine") as client:
        recorded = client.run(bell, shots=120, qpu="mock").result(timeout=30)
        client.run(bell, shots=121, qpu="mock").result(timeout=30)
    export = tmp_path / "notebook.qpicache.gz"
    with Cache(tmp_path / "mine") as mine:
        assert mine.export_to(export, job_ids=[recorded.job_id]) >= 2
    with Cache(tmp_path / "theirs") as theirs:
        assert theirs.info()["count"] == 0
        assert theirs.import_from(export) >= 2
    counter = ConnectionCounter(monkeypatch)
    with QPIClient(
        server.url, server.api_token, cache=tmp_path / "theirs", cache_mode="replay"
    ) as replay:
        again = replay.run(bell, shots=120, qpu="mock").result()
        assert again.from_cache and again.get_counts() == recorded.get_counts()
        with pytest.raises(errors.CacheMissError):  # the other job was not exported
            replay.run(bell, shots=121, qpu="mock")
    assert counter.attempts == []


def test_full_disk_warns_and_the_job_still_runs(server, tmp_path, bell, monkeypatch):
    with server.client(cache=tmp_path / "cache") as client:
        qpu_id = client.get_qpu("mock")["id"]

        def no_space(*args: object, **kwargs: object) -> None:
            raise OSError(errno.ENOSPC, "No space left on device")

        monkeypatch.setattr("diskcache.Disk.store", no_space)
        with pytest.warns(CacheWarning, match="could not write .*No space left"):
            result = client.run(bell, shots=80, qpu=qpu_id).result(timeout=30)
        assert not result.from_cache and sum(result.get_counts().values()) == 80
        monkeypatch.undo()
        again = client.run(bell, shots=80, qpu=qpu_id).result(timeout=30)
    assert not again.from_cache  # the second run is a fresh job anyway
    assert len(jobs_for(server, bell)) == 2


def test_no_credentials_in_cache_files_or_exports(server, admin, tmp_path, bell):
    with server.client(cache=tmp_path / "cache") as client:
        job = client.run(bell, shots=60, qpu="mock")
        job.result(timeout=30)
        client.get_job(job.id)
        client.list_qpus()
    with Cache(tmp_path / "cache") as cache:
        cache.export_to(tmp_path / "export.gz")
    blobs = [f.read_bytes() for f in (tmp_path / "cache").rglob("*") if f.is_file()]
    blobs.append(gzip.decompress((tmp_path / "export.gz").read_bytes()))
    secrets = [server.api_token, server.admin_password]
    assert len(blobs) > 1
    for secret in secrets:
        assert not any(secret.encode() in blob for blob in blobs)


class Script:
    """A child process running SCRIPT, its output lines collected by a reader thread."""

    def __init__(self, command: list[str], env: dict[str, str]) -> None:
        self.proc = subprocess.Popen(
            command, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
        )
        self.lines: queue.Queue[str] = queue.Queue()
        self.seen: list[str] = []
        threading.Thread(target=self._pump, daemon=True).start()

    def _pump(self) -> None:
        assert self.proc.stdout is not None
        for line in self.proc.stdout:
            self.lines.put(line)

    def expect(self, prefix: str, timeout: float = 30.0) -> list[str]:
        """Wait for a line starting with ``prefix`` and return its words."""
        deadline = time.monotonic() + timeout
        while (left := deadline - time.monotonic()) > 0:
            try:
                line = self.lines.get(timeout=left)
            except queue.Empty:
                break
            self.seen.append(line)
            if line.startswith(prefix):
                return line.split()
        self.proc.kill()
        raise AssertionError(f"no {prefix!r} line from the script; it printed: {self.seen}")


@pytest.mark.slow
def test_process_killed_while_waiting_reattaches_to_its_job(server, admin, mock_id, tmp_path, bell):
    qasm = tmp_path / "bell.qasm"
    qasm.write_text(bell)
    script = tmp_path / "script.py"
    script.write_text(SCRIPT)
    env = {
        **os.environ,
        "QPI_API_TOKEN": server.api_token,
        "QPI_CACHE_DIR": str(tmp_path / "cache"),
        "QPI_CACHE_MODE": "reuse",
    }
    command = [sys.executable, str(script), server.url, str(qasm), mock_id]

    admin.toggle_qpu(mock_id, False)  # the job stays pending: the script waits on it
    try:
        first = Script(command, env)
        _, job_id = first.expect("job")
        time.sleep(0.2)  # let it settle into its wait
        first.proc.send_signal(signal.SIGKILL)
        assert first.proc.wait(timeout=10) == -signal.SIGKILL

        second = Script(command, env)
        _, reattached = second.expect("job")
        assert reattached == job_id
        admin.toggle_qpu(mock_id, True)
        _, done_id, from_cache = second.expect("done")
        assert second.proc.wait(timeout=10) == 0
    finally:
        admin.toggle_qpu(mock_id, True)
    assert (done_id, from_cache) == (job_id, "False")
    assert [job["id"] for job in jobs_for(server, bell)] == [job_id]


def test_a_store_passed_in_is_left_open_by_the_client(tmp_path):
    class Store:
        """Any Store can be the cache; this one only counts closes."""

        closes = 0

        def close(self) -> None:
            self.closes += 1

    store = Store()
    with QPIClient("http://127.0.0.1:9", cache=store) as client:
        assert client.cache is store
    assert store.closes == 0  # it may serve other clients
    with QPIClient("http://127.0.0.1:9", cache=tmp_path / "own") as client:
        assert isinstance(client.cache, Cache)
        assert client.cache.directory == tmp_path / "own"
