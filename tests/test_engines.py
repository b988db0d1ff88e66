"""The simulation engines sample the exact distribution (5 sigma), whichever one runs a job.

Each job runs the way a worker runs it (``qpi.server.executors.run_job``), on the engine its
shape picks: the wide ``mock`` path on Aer (14 qubits or more, measurements terminal), the
narrow or branching ``mock`` path on our kernel, and the ``qiskit_aer`` QPU's single Aer call
for every circuit and row. Exact probabilities come from Qiskit's ``Statevector`` (not from
our code), or by hand for the dynamic circuits. Seeds are fixed.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from qiskit import QuantumCircuit
from qiskit.quantum_info import Statevector

from qpi.server import executors

SHOTS = 4000


def run(executor: str, circuits: list[dict], shots: int = SHOTS) -> list[dict[str, int]]:
    result = executors.run_job(
        {"circuits": circuits, "shots": shots},
        executor_type=executor,
        backend_name=executor,
        seed=2026,
        max_qubits=20,
        max_shots=10**6,
        threads=1,
    )
    assert "error" not in result, result
    return [entry["counts"] for entry in result["circuit_results"]]


def assert_close(counts: dict[str, int], probabilities: dict[str, float], shots: int) -> None:
    """Every outcome within 5 binomial sigma of ``shots * p``; nothing impossible drawn."""
    assert sum(counts.values()) == shots
    for key in set(counts) | set(probabilities):
        p = probabilities.get(key, 0.0)
        sigma = math.sqrt(shots * p * (1 - p))
        assert abs(counts.get(key, 0) - shots * p) <= 5 * sigma + 1e-9, (key, counts, p)


def wide(num_qubits: int, measured: int) -> tuple[str, QuantumCircuit]:
    """Rotations and a cx ladder; the last ``measured`` qubits measured at the end."""
    angles = np.random.default_rng(num_qubits).uniform(0, math.pi, size=(2, num_qubits))
    qc = QuantumCircuit(num_qubits)
    lines = ["OPENQASM 3.0;", 'include "stdgates.inc";', "input float[64] theta;"]
    lines += [f"bit[{measured}] c;", f"qubit[{num_qubits}] q;"]
    for q in range(num_qubits):
        lines.append(f"ry({float(angles[0, q])!r} + theta) q[{q}];")
        lines.append(f"rz({float(angles[1, q])!r}) q[{q}];")
    for q in range(num_qubits - 1):
        lines.append(f"cx q[{q}], q[{q + 1}];")
    for k in range(measured):
        lines.append(f"c[{k}] = measure q[{num_qubits - measured + k}];")
    return "\n".join(lines) + "\n", qc


def exact(num_qubits: int, measured: int, theta: float) -> dict[str, float]:
    angles = np.random.default_rng(num_qubits).uniform(0, math.pi, size=(2, num_qubits))
    qc = QuantumCircuit(num_qubits)
    for q in range(num_qubits):
        qc.ry(angles[0, q] + theta, q)
        qc.rz(angles[1, q], q)
    for q in range(num_qubits - 1):
        qc.cx(q, q + 1)
    qargs = list(range(num_qubits - measured, num_qubits))
    probabilities = Statevector(qc).probabilities_dict(qargs=qargs)
    return {key: p for key, p in probabilities.items() if p > 1e-12}


@pytest.mark.parametrize("executor", ["mock", "qiskit_aer"])
@pytest.mark.parametrize("num_qubits", [6, 15])  # our kernel / Aer for the mock QPU
def test_rows_sample_the_exact_marginals(executor, num_qubits):
    text, _ = wide(num_qubits, 3)
    thetas = [0.0, 0.7, 2.1]
    got = run(executor, [{"circuit": text, "parameter_values": [[t] for t in thetas]}])
    for counts, theta in zip(got, thetas, strict=True):
        assert_close(counts, exact(num_qubits, 3, theta), SHOTS)


@pytest.mark.parametrize("executor", ["mock", "qiskit_aer"])
def test_circuits_of_a_job_keep_their_order_and_shots(executor):
    first, _ = wide(15, 2)
    second, _ = wide(5, 3)
    got = executors.run_job(
        {
            "circuits": [
                {"circuit": first, "parameter_values": [[0.3]]},
                {"circuit": second, "parameter_values": [[1.1], [0.0]], "shots": 3000},
            ],
            "shots": SHOTS,
        },
        executor_type=executor,
        backend_name=executor,
        seed=7,
        max_qubits=20,
        max_shots=10**6,
    )["circuit_results"]
    assert [entry["shots"] for entry in got] == [SHOTS, 3000, 3000]
    assert_close(got[0]["counts"], exact(15, 2, 0.3), SHOTS)
    assert_close(got[1]["counts"], exact(5, 3, 1.1), 3000)
    assert_close(got[2]["counts"], exact(5, 3, 0.0), 3000)


IF_ELSE = """OPENQASM 3.0;
include "stdgates.inc";
bit[2] c;
qubit[2] q;
h q[0];
c[0] = measure q[0];
if (c[0]) { x q[1]; } else { h q[1]; }
c[1] = measure q[1];
"""


@pytest.mark.parametrize("executor", ["mock", "qiskit_aer"])
def test_control_flow_runs_exactly(executor):
    # q0 reads 1 half the time, then q1 is flipped (11); else q1 is in |+> (00 or 10).
    (counts,) = run(executor, [{"circuit": IF_ELSE}])
    assert_close(counts, {"11": 0.5, "00": 0.25, "10": 0.25}, SHOTS)


def test_a_wide_circuit_with_a_mid_circuit_measurement_branches_exactly():
    # 15 qubits, so the mock QPU would pick Aer, but the measurement of q[0] is followed by
    # a gate on it: our kernel branches instead. q0 is |+>, measured, then flipped.
    lines = ["OPENQASM 3.0;", 'include "stdgates.inc";', "bit[2] c;", "qubit[15] q;"]
    lines += ["h q[0];", "c[0] = measure q[0];", "x q[0];", "cx q[0], q[14];"]
    lines += ["c[1] = measure q[14];"]
    (counts,) = run("mock", [{"circuit": "\n".join(lines) + "\n"}])
    # c0 = m, q14 = not m: "10" (m=0) and "01" (m=1), each half.
    assert_close(counts, {"10": 0.5, "01": 0.5}, SHOTS)
