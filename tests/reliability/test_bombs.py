"""Issue 16, item 2: resource bombs in tiny payloads.

Each payload is a few hundred bytes that stood for billions of operations, gigabytes, or a
simulation that never ends. Sizes are checked before anything expands (the job is refused
with 400 and the numbers), and what no count can bound (a ``while`` loop on a measurement,
results that grow in memory) runs under a time and a memory limit that end the job with the
reason and give its worker back. Limits are tight so the suite stays fast.
"""

from __future__ import annotations

import time
from collections.abc import Iterator

import pytest

from qpi.server import LocalServer
from tests.reliability.helpers import BELL, assert_error_body, tagged
from tests.server.helpers import Session, session

#: `for uint i in [0:1000000000] { x q[0]; }`: 122 bytes that held a qiskit_aer worker for ever.
LOOP_BOMB = (
    'OPENQASM 3.0;\ninclude "stdgates.inc";\nqubit[1] q;\nbit[1] c;\n'
    "for uint i in [0:1000000000] { x q[0]; }\nc[0] = measure q[0];\n"
)
#: `qubit[3000000] q; h q;`: 92 bytes that expanded to 1.3 GB before the qubit check.
BROADCAST_BOMB = 'OPENQASM 3.0;\ninclude "stdgates.inc";\nqubit[3000000] q;\nh q;\n'
#: A loop no count can bound: it runs while the qubit it measures reads 1, which is always.
WHILE_FOREVER = (
    'OPENQASM 3.0;\ninclude "stdgates.inc";\nqubit[1] q;\nbit[1] c;\nx q[0];\n'
    "c[0] = measure q[0];\nwhile (c == 1) { c[0] = measure q[0]; }\n"
)


def gate_bomb(levels: int) -> str:
    """Gate definitions that each call the previous one twice: 2**levels gates per call."""
    lines = ['OPENQASM 3.0;\ninclude "stdgates.inc";', "gate g0 a { x a; }"]
    lines += [f"gate g{k} a {{ g{k - 1} a; g{k - 1} a; }}" for k in range(1, levels + 1)]
    lines += ["qubit[2] q;", "bit[2] c;", f"g{levels} q;", "c = measure q;"]
    return "\n".join(lines) + "\n"


@pytest.fixture(scope="module")
def tight() -> Iterator[LocalServer]:
    """One worker, no short lane, a 5 s time limit, 1 GiB of memory."""
    with LocalServer(
        seed=16, workers=1, short_workers=0, time_limit=5.0, memory_limit=1 << 30
    ) as srv:
        yield srv


@pytest.fixture(scope="module")
def user(tight: LocalServer) -> Session:
    return session(tight.url, {"X-API-Token": tight.api_token})


@pytest.fixture(scope="module")
def qpus(user: Session) -> dict[str, str]:
    return {q["name"]: q["id"] for q in user.get("/api/qpus").json()}


def refused(user: Session, circuit: str, qpu: str) -> str:
    answer = user.post("/api/jobs", json={"circuits": [{"circuit": circuit}], "qpu_target": qpu})
    assert answer.status_code == 400, answer.text
    return assert_error_body(answer)["message"]


@pytest.mark.parametrize("qpu", ["mock", "qiskit_aer"])
def test_a_billion_iteration_loop_is_refused_with_its_count(user, qpus, qpu):
    message = refused(user, LOOP_BOMB, qpus[qpu])
    assert "1000000001 iterations" in message and "the limit is 1000000" in message


@pytest.mark.parametrize("qpu", ["mock", "qiskit_aer"])
def test_a_huge_register_is_refused_before_the_broadcast_expands(user, qpus, qpu):
    started = time.perf_counter()
    message = refused(user, BROADCAST_BOMB, qpus[qpu])
    assert time.perf_counter() - started < 5  # nothing was expanded
    assert "declares 3000000 qubits" in message
    size = user.get(f"/api/qpus/{qpus[qpu]}").json()["num_qubits"]
    assert f"the limit is {size}" in message and "GiB" in message


@pytest.mark.parametrize("qpu", ["mock", "qiskit_aer"])
def test_doubling_gate_definitions_are_refused_by_depth(user, qpus, qpu):
    message = refused(user, gate_bomb(18), qpus[qpu])
    assert "levels of gate definitions; the limit is 16" in message


def test_gate_definitions_within_the_limits_still_run(user, qpus):
    # 2**6 x gates on each qubit: an even count, so both qubits end in |0>.
    job = user.run(tagged(gate_bomb(6)), qpu_target=qpus["mock"], shots=10)
    assert job["status"] == "completed", job["results"]
    assert job["results"]["circuit_results"][0]["counts"] == {"00": 10}


@pytest.mark.slow
def test_an_endless_loop_is_ended_by_the_time_limit_and_the_worker_replaced(user, qpus):
    started = time.monotonic()
    job = user.submit(WHILE_FOREVER, qpu_target=qpus["qiskit_aer"], shots=1)
    final = user.wait(job["id"], timeout=30)
    assert final["status"] == "failed"
    assert "time limit of 5 s" in final["results"]["error"]
    assert time.monotonic() - started < 20
    # The only worker was replaced: the next job runs.
    assert user.run(tagged(BELL), shots=5)["status"] == "completed"


def test_cancelling_an_endless_job_frees_its_worker_at_once(tight, user, qpus):
    job = user.submit(WHILE_FOREVER, qpu_target=qpus["qiskit_aer"], shots=1)
    deadline = time.monotonic() + 20
    while user.get(f"/api/jobs/{job['id']}").json()["status"] != "running":
        assert time.monotonic() < deadline
        time.sleep(0.01)
    assert user.post(f"/api/jobs/{job['id']}/cancel").status_code == 200
    cancelled = time.monotonic()
    # One worker, and it was busy: the next job runs only if the cancel freed it.
    bell = user.submit(tagged(BELL), shots=5)
    assert user.wait(bell["id"], timeout=10)["status"] == "completed"
    assert time.monotonic() - cancelled < 4.5  # before the time limit could have freed it
    assert user.get(f"/api/jobs/{job['id']}").json()["status"] == "cancelled"


@pytest.mark.slow
def test_results_that_outgrow_the_memory_limit_end_the_job():
    # 64 circuits of a million IQ points each: small to send, gigabytes to build.
    one = 'OPENQASM 3.0;\ninclude "stdgates.inc";\nqubit[1] q;\nbit[1] c;\nc[0] = measure q[0];\n'
    circuits = [{"circuit": tagged(one, str(k))} for k in range(64)]
    with LocalServer(workers=1, short_workers=0, memory_limit=320 << 20, time_limit=300) as srv:
        user = session(srv.url, {"X-API-Token": srv.api_token})
        job = user.submit(circuits, shots=1_000_000, meas_level=1)
        final = user.wait(job["id"], timeout=120)
        assert final["status"] == "failed"
        assert "over the memory limit of 320 MiB" in final["results"]["error"]
        assert user.run(tagged(BELL), shots=5)["status"] == "completed"
