"""The exact statevector sampler behind the mock QPU (qpi.server.statevector)."""

from __future__ import annotations

import math

import numpy as np
import pytest

from qpi import qasm3
from qpi.circuit import Circuit, Param
from qpi.server.statevector import (
    IQ_CENTRES,
    IQ_NOISE,
    run_circuit,
    statevector,
    unitary,
)

SHOTS = 4000


def rng(seed: int = 1234) -> np.random.Generator:
    return np.random.default_rng(seed)


def counts(circuit: Circuit, rows=None, shots: int = SHOTS, seed: int = 1234) -> dict[str, int]:
    (entry,) = run_circuit(circuit, rows, shots, rng=rng(seed))
    assert entry["shots"] == shots
    return entry["counts"]


def assert_near(observed: int, shots: int, probability: float) -> None:
    """``observed`` successes out of ``shots`` are within 5 sigma of ``probability``."""
    sigma = math.sqrt(shots * probability * (1 - probability))
    assert abs(observed - shots * probability) <= 5 * sigma + 1e-9, (observed, probability)


def measure_all(circuit: Circuit) -> Circuit:
    for q in range(circuit.num_qubits):
        circuit.measure(q, q)
    return circuit


# -- terminal measurements ---------------------------------------------------------------------


def test_bell() -> None:
    bell = measure_all(Circuit(2, 2).append("h", [0]).append("cx", [0, 1]))
    result = counts(bell)
    assert set(result) == {"00", "11"} and sum(result.values()) == SHOTS
    assert_near(result["00"], SHOTS, 0.5)


def test_ghz() -> None:
    ghz = Circuit(4, 4).append("h", [0])
    for q in range(3):
        ghz.append("cx", [q, q + 1])
    result = counts(measure_all(ghz))
    assert set(result) == {"0000", "1111"}
    assert_near(result["1111"], SHOTS, 0.5)


@pytest.mark.parametrize(("qubit", "key"), [(0, "001"), (1, "010"), (2, "100")])
def test_x_on_one_qubit_sets_its_bit_clbit_0_rightmost(qubit: int, key: str) -> None:
    circuit = measure_all(Circuit(3, 3).append("x", [qubit]))
    assert counts(circuit, shots=10) == {key: 10}


def test_clbit_order_follows_the_measure_target_not_the_qubit() -> None:
    circuit = Circuit(3, 3).append("x", [0]).measure(0, 2).measure(1, 0).measure(2, 1)
    assert counts(circuit, shots=5) == {"100": 5}


def test_unmeasured_clbits_read_zero() -> None:
    circuit = Circuit(1, 3).append("x", [0]).measure(0, 1)
    assert counts(circuit, shots=5) == {"010": 5}


def test_circuit_without_measurements_reads_all_zeros() -> None:
    circuit = Circuit(2, 2).append("h", [0]).append("x", [1])
    assert counts(circuit, shots=7) == {"00": 7}


def test_rotation_probabilities() -> None:
    circuit = Circuit(1, 1).append("ry", [0], [2 * math.asin(math.sqrt(0.3))]).measure(0, 0)
    assert_near(counts(circuit)["1"], SHOTS, 0.3)


def test_later_measurement_overwrites_the_clbit() -> None:
    terminal = Circuit(2, 1).append("x", [0]).measure(0, 0).measure(1, 0)
    assert counts(terminal, shots=5) == {"0": 5}
    mid = Circuit(1, 1).measure(0, 0).append("x", [0]).measure(0, 0)
    assert counts(mid, shots=5) == {"1": 5}
    back = Circuit(1, 1).append("x", [0]).measure(0, 0).append("x", [0]).measure(0, 0)
    assert counts(back, shots=5) == {"0": 5}


def test_same_qubit_measured_twice_gives_equal_bits() -> None:
    circuit = Circuit(1, 2).append("h", [0]).measure(0, 0).measure(0, 1)
    result = counts(circuit)
    assert set(result) == {"00", "11"}


# -- mid-circuit measurements and resets -------------------------------------------------------


def test_mid_circuit_measurement_collapses_the_state() -> None:
    # h; measure; h again: both clbits independent and uniform.
    circuit = Circuit(1, 2).append("h", [0]).measure(0, 0).append("h", [0]).measure(0, 1)
    result = counts(circuit)
    assert set(result) == {"00", "01", "10", "11"}
    for key in result:
        assert_near(result[key], SHOTS, 0.25)


def test_mid_circuit_measurement_feeds_later_gates() -> None:
    circuit = Circuit(2, 2).append("h", [0]).measure(0, 0).append("cx", [0, 1]).measure(1, 1)
    result = counts(circuit)
    assert set(result) == {"00", "11"}
    assert_near(result["11"], SHOTS, 0.5)


def test_reset_returns_the_qubit_to_zero() -> None:
    circuit = Circuit(1, 2).append("x", [0]).measure(0, 0).append("reset", [0]).measure(0, 1)
    assert counts(circuit, shots=9) == {"01": 9}
    superposed = Circuit(2, 2).append("h", [0]).append("cx", [0, 1]).append("reset", [0])
    result = counts(measure_all(superposed))
    assert set(result) == {"00", "10"}  # q1 keeps its half of the Bell pair
    assert_near(result["10"], SHOTS, 0.5)


def test_many_branches_are_split_into_batches() -> None:
    # 6 qubits, three rounds of h-measure: up to 2**18 histories, far more than one batch.
    circuit = Circuit(6, 6)
    for _ in range(3):
        for q in range(6):
            circuit.append("h", [q])
        for q in range(6):
            circuit.measure(q, q)
        circuit.append("x", [0])  # keeps the measurements mid-circuit
    shots = 20000
    result = counts(circuit, shots=shots)
    assert sum(result.values()) == shots
    for clbit in range(6):
        ones = sum(n for key, n in result.items() if key[-1 - clbit] == "1")
        assert_near(ones, shots, 0.5)


# -- rows --------------------------------------------------------------------------------------


def parametric() -> Circuit:
    circuit = Circuit(2, 2, parameters=["b", "a"])
    circuit.append("ry", [0], [Param("a")]).append("crx", [0, 1], [2 * Param("b")])
    return measure_all(circuit)


def test_rows_bind_positionally_to_circuit_parameters() -> None:
    circuit = Circuit(1, 1, parameters=["b", "a"]).append("rx", [0], [Param("a")])
    circuit.measure(0, 0)
    entries = run_circuit(circuit, [[math.pi, 0.0], [0.0, math.pi]], 50, rng=rng())
    assert [e["counts"] for e in entries] == [{"0": 50}, {"1": 50}]


def test_parsed_circuit_binds_rows_in_sorted_name_order() -> None:
    text = qasm3.dumps(Circuit(1).append("x", [0]))  # any header
    text = text.replace("qubit[1] q;\nx q[0];\n", "")
    text += "input float zeta;\ninput float alpha;\nbit[1] c;\nqubit q;\nrx(zeta) q;\n"
    text += "c[0] = measure q;\n"
    circuit = qasm3.parse(text)
    (entry,) = run_circuit(circuit, [[0.0, math.pi]], 20, rng=rng())  # alpha, zeta
    assert entry["counts"] == {"1": 20}


def test_many_rows_match_one_row_at_a_time() -> None:
    values = np.random.default_rng(0).uniform(-math.pi, math.pi, size=(40, 2))
    together = run_circuit(parametric(), values, 500, rng=rng(9))
    generator = rng(9)
    alone = [run_circuit(parametric(), [row], 500, rng=generator)[0] for row in values]
    # Terminal measurements: one multinomial per row, drawn in row order either way.
    assert together == alone


def test_many_rows_chunked_with_mid_circuit_measurement_agree_statistically() -> None:
    circuit = Circuit(9, 2).append("rx", [0], [Param("t")]).measure(0, 0)
    circuit.append("h", [0]).measure(0, 1)  # 9 qubits: 128 rows per batch, so 3 batches
    angles = np.linspace(0, math.pi, 300)
    shots = 400
    entries = run_circuit(circuit, angles[:, None], shots, rng=rng(3))
    for angle, entry in zip(angles, entries):
        p1 = math.sin(angle / 2) ** 2
        assert_near(sum(n for k, n in entry["counts"].items() if k[-1] == "1"), shots, p1)
        assert_near(sum(n for k, n in entry["counts"].items() if k[0] == "1"), shots, 0.5)


def test_circuit_without_inputs_runs_once_per_row() -> None:
    bell = measure_all(Circuit(2, 2).append("x", [0]))
    entries = run_circuit(bell, [[], [], []], 5, rng=rng())
    assert entries == [{"counts": {"01": 5}, "shots": 5}] * 3


def test_circuit_without_clbits() -> None:
    circuit = Circuit(2).append("h", [0])
    assert run_circuit(circuit, None, 10, rng=rng()) == [{"counts": {}, "shots": 10}]
    entries = run_circuit(circuit, None, 10, meas_level=1, rng=rng())
    assert entries == [{"counts": {}, "shots": 10}]


def test_same_seed_same_results() -> None:
    circuit = Circuit(3, 3).append("h", [0]).append("h", [1]).measure(0, 0).append("h", [0])
    circuit = measure_all(circuit)
    assert counts(circuit, seed=5) == counts(circuit, seed=5)


# -- meas_level 1 ------------------------------------------------------------------------------


def test_meas_level_1_single_shape_and_values() -> None:
    circuit = Circuit(2, 3).append("x", [0]).measure(0, 0).measure(1, 1)
    shots = 200
    (entry,) = run_circuit(circuit, None, shots, meas_level=1, rng=rng())
    memory = np.array(entry["memory"])
    assert entry["shots"] == shots and memory.shape == (shots, 3, 2)
    for clbit, bit in ((0, 1), (1, 0), (2, 0)):
        assert np.all(np.abs(memory[:, clbit] - IQ_CENTRES[bit]) < 6 * IQ_NOISE)
        mean = memory[:, clbit].mean(axis=0)
        assert np.all(np.abs(mean - IQ_CENTRES[bit]) < 5 * IQ_NOISE / math.sqrt(shots))


def test_meas_level_1_avg_shape_and_mean() -> None:
    circuit = measure_all(Circuit(2, 2).append("h", [0]))
    shots = 2000
    entries = run_circuit(circuit, None, shots, meas_level=1, meas_return="avg", rng=rng())
    memory = np.array(entries[0]["memory"])
    assert memory.shape == (1, 2, 2)
    # clbit 0 is a fair coin: its mean sits half way between the centres.
    centre = np.mean(IQ_CENTRES, axis=0)
    spread = 0.5 * (np.array(IQ_CENTRES[1]) - IQ_CENTRES[0])
    tolerance = 5 * np.sqrt(spread**2 + IQ_NOISE**2) / math.sqrt(shots)
    assert np.all(np.abs(memory[0, 0] - centre) < tolerance)
    assert np.all(np.abs(memory[0, 1] - IQ_CENTRES[0]) < 5 * IQ_NOISE / math.sqrt(shots))


def test_meas_level_1_shots_follow_the_distribution() -> None:
    circuit = measure_all(Circuit(2, 2).append("h", [0]).append("cx", [0, 1]))
    (entry,) = run_circuit(circuit, None, 500, meas_level=1, rng=rng())
    bits = np.array(entry["memory"])[:, :, 0] > 0.5
    assert np.all(bits[:, 0] == bits[:, 1])  # Bell: the clbits agree shot by shot
    assert_near(int(bits[:, 0].sum()), 500, 0.5)


# -- errors ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"rows": None}, r"circuit has inputs \['b', 'a'\] but no parameter_values were given"),
        ({"rows": []}, "no parameter_values were given"),
        ({"rows": [[1.0]]}, r"parameter row 0 has 1 value\(s\) but the circuit has 2"),
        ({"rows": [[1.0, 2.0], [1.0]]}, "parameter row 1 has 1 value"),
        ({"rows": [[1.0, float("nan")]]}, "row 0 has a non-finite value"),
        ({"meas_level": 0}, r"meas_level 0 \(raw traces\) needs hardware; simulators support 1"),
        ({"meas_level": 3}, "meas_level must be 1 or 2"),
        ({"meas_return": "sum"}, "meas_return must be 'single' or 'avg'"),
        ({"shots": 0}, "shots must be a positive integer"),
    ],
)
def test_errors_say_what_to_fix(kwargs: dict, match: str) -> None:
    arguments = {"rows": [[0.1, 0.2]], "shots": 10, **kwargs}
    with pytest.raises(ValueError, match=match):
        run_circuit(
            parametric(),
            arguments.pop("rows"),
            arguments.pop("shots"),
            rng=rng(),
            **arguments,
        )


def test_too_many_qubits() -> None:
    circuit = Circuit(5, 1).measure(0, 0)
    with pytest.raises(ValueError, match="circuit uses 5 qubits; this simulator runs at most 4"):
        run_circuit(circuit, None, 10, rng=rng(), max_qubits=4)
    with pytest.raises(ValueError, match="circuit uses 60 qubits"):  # no machine holds 60
        run_circuit(Circuit(60, 1).measure(0, 0), None, 10, rng=rng())


def test_invalid_circuit_is_a_value_error() -> None:
    with pytest.raises(ValueError, match="not an OpenQASM 3"):
        run_circuit(Circuit(1, 1).append("foo", [0]), None, 10, rng=rng())


def test_non_finite_expression_is_reported() -> None:
    circuit = Circuit(1, 1).append("rx", [0], [1 / Param("a")]).measure(0, 0)
    with pytest.raises(ValueError, match="non-finite"):
        run_circuit(circuit, [[0.0]], 10, rng=rng())


# -- exact states ------------------------------------------------------------------------------


def test_statevector_and_unitary() -> None:
    state = statevector(Circuit(2).append("h", [0]).append("cx", [0, 1]))
    assert np.allclose(state, [1 / math.sqrt(2), 0, 0, 1 / math.sqrt(2)])
    cx = unitary(Circuit(2).append("cx", [0, 1]))  # control is qubit 0, the low bit
    assert np.allclose(cx, np.eye(4)[[0, 3, 2, 1]])
    rz = unitary(Circuit(1).append("rz", [0], [Param("t")]), [0.4])
    assert np.allclose(rz, np.diag([np.exp(-0.2j), np.exp(0.2j)]))


def test_controlled_gates_keep_relative_phases() -> None:
    theta, phi, lam, gamma = 0.3, 0.5, 0.7, 0.9
    cu = unitary(Circuit(2).append("cu", [0, 1], [theta, phi, lam, gamma]))
    block = np.exp(1j * gamma) * np.array(
        [
            [math.cos(theta / 2), -np.exp(1j * lam) * math.sin(theta / 2)],
            [
                np.exp(1j * phi) * math.sin(theta / 2),
                np.exp(1j * (phi + lam)) * math.cos(theta / 2),
            ],
        ]
    )
    assert np.allclose(cu[np.ix_([1, 3], [1, 3])], block)  # control (qubit 0) = 1
    assert np.allclose(cu[np.ix_([0, 2], [0, 2])], np.eye(2))
    crz = unitary(Circuit(2).append("crz", [1, 0], [0.6]))
    assert np.allclose(np.diag(crz), [1, 1, np.exp(-0.3j), np.exp(0.3j)])


def test_statevector_rejects_measurements() -> None:
    with pytest.raises(ValueError, match="measures or resets"):
        statevector(Circuit(1, 1).measure(0, 0))
