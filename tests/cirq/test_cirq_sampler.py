"""QPISampler against a real LocalServer: distributions, one job per sweep/batch, keys, async."""

from __future__ import annotations

import asyncio
import time

import cirq
import duet
import numpy as np
import pytest
import sympy
from qpi_cirq import QPISampler

from qpi import QPIClient
from qpi.errors import ValidationError
from tests.cirq.stats import assert_matches, exact_distribution

q0, q1, q2, q3, q4, q5 = cirq.LineQubit.range(6)
theta, phi = sympy.symbols("theta phi")


def job_count(client: QPIClient) -> int:
    return len(client.list_jobs())


def newest_payload(client: QPIClient) -> dict:
    return client.list_jobs(limit=1)[0]["payload"]


# -- distributions --------------------------------------------------------------------------------

HAND_WRITTEN = {
    "bell": cirq.Circuit(cirq.H(q0), cirq.CNOT(q0, q1), cirq.measure(q0, q1, key="m")),
    "ghz-two-keys": cirq.Circuit(
        cirq.H(q0), cirq.CNOT(q0, q1), cirq.CNOT(q1, q2), cirq.measure(q2, key="a"),
        cirq.measure(q0, q1, key="b", invert_mask=(False, True)),
    ),
    "rotations": cirq.Circuit(
        cirq.rx(0.7).on(q0), cirq.ry(1.9).on(q1), cirq.CZ(q0, q1) ** 0.5, cirq.H(q1),
        cirq.PhasedXPowGate(phase_exponent=0.25, exponent=0.4).on(q2), cirq.ISWAP(q1, q2) ** 0.3,
        cirq.measure(q0, q1, q2, key="m"),
    ),
    "controlled": cirq.Circuit(
        cirq.H(q0), cirq.H(q1), cirq.ry(0.6).on(q2).controlled_by(q0),
        cirq.H(q2).controlled_by(q1), cirq.FSimGate(0.5, 0.3).on(q0, q2), cirq.CCZ(q0, q1, q2),
        cirq.H(q0), cirq.measure(q2, q0, q1, key="m"),
    ),
    "mid-circuit-and-reset": cirq.Circuit(
        cirq.H(q0), cirq.CNOT(q0, q1), cirq.measure(q0, key="early"), cirq.ResetChannel().on(q0),
        cirq.ry(1.2).on(q0), cirq.CNOT(q1, q2), cirq.measure(q0, q1, q2, key="late"),
    ),
}  # fmt: skip


def test_hand_written_circuits_match_cirq_in_one_job(sampler, client):
    before = job_count(client)
    names = list(HAND_WRITTEN)
    batches = sampler.run_batch([HAND_WRITTEN[n] for n in names], repetitions=2000)
    assert job_count(client) == before + 1
    for name, results in zip(names, batches):
        (result,) = results
        assert result.repetitions == 2000
        assert_matches(result, exact_distribution(HAND_WRITTEN[name]), name)


RANDOM_DOMAIN = {
    cirq.X: 1, cirq.Y: 1, cirq.H: 1, cirq.S: 1, cirq.T: 1, cirq.X**0.5: 1, cirq.rx(0.9): 1,
    cirq.ry(-0.4): 1, cirq.Z**0.3: 1, cirq.CNOT: 2, cirq.CZ: 2, cirq.SWAP: 2, cirq.ISWAP: 2,
    cirq.CZ**0.4: 2, cirq.FSimGate(0.3, 0.9): 2, cirq.CCX: 3, cirq.CSWAP: 3,
}  # fmt: skip


def random_measured_circuit(seed: int) -> cirq.Circuit:
    qubits = cirq.LineQubit.range(5)
    body = cirq.testing.random_circuit(
        qubits=qubits, n_moments=8, op_density=0.9, gate_domain=RANDOM_DOMAIN, random_state=seed
    )
    return body + cirq.Circuit(
        cirq.measure(qubits[3], qubits[0], key="x", invert_mask=(True,)),
        cirq.measure(*qubits[1:3], qubits[4], key="y"),
    )


def test_random_circuits_match_cirq(sampler):
    circuits = [random_measured_circuit(seed) for seed in range(6)]
    batches = sampler.run_batch(circuits, repetitions=3000)
    for seed, (circuit, (result,)) in enumerate(zip(circuits, batches)):
        assert_matches(result, exact_distribution(circuit), f"random circuit {seed}")


# -- sweeps ---------------------------------------------------------------------------------------


def test_a_sweep_of_101_points_is_one_job_and_every_point_is_right(sampler, client):
    circuit = cirq.Circuit(cirq.rx(theta).on(q0), cirq.measure(q0, key="m"))
    sweep = cirq.Linspace(theta, 0, 2 * np.pi, 101)
    before = job_count(client)
    results = sampler.run_sweep(circuit, sweep, repetitions=400)
    assert job_count(client) == before + 1
    payload = newest_payload(client)
    assert len(payload["circuits"]) == 1
    assert len(payload["circuits"][0]["parameter_values"]) == 101
    assert len(results) == 101
    for resolver, result in zip(sweep, results):
        assert result.params == resolver
        assert result.records["m"].shape == (400, 1, 1)
        assert_matches(result, exact_distribution(circuit, resolver), str(resolver))


def test_symbolic_exponents_and_expressions(sampler, client):
    circuit = cirq.Circuit(
        cirq.X(q0) ** theta,
        cirq.H(q1),
        cirq.CZ(q0, q1) ** (theta / 2 + phi),
        cirq.Y(q2) ** (2 * theta - phi),
        cirq.PhasedXPowGate(phase_exponent=phi, exponent=0.5).on(q1),
        cirq.XPowGate(exponent=phi, global_shift=0.3).on(q2).controlled_by(q0),
        cirq.measure(q0, q1, q2, key="m"),
    )
    sweep = cirq.Zip(cirq.Linspace(theta, -1, 1.5, 7), cirq.Linspace(phi, 0.2, 1.7, 7))
    before = job_count(client)
    results = sampler.run_sweep(circuit, sweep, repetitions=2000)
    assert job_count(client) == before + 1
    assert len(newest_payload(client)["circuits"][0]["parameter_values"][0]) == 2
    for resolver, result in zip(sweep, results):
        assert_matches(result, exact_distribution(circuit, resolver), str(resolver))


def test_a_sweep_without_symbols_gives_independent_points(sampler):
    circuit = cirq.Circuit(cirq.H(q0), cirq.measure(q0, key="m"))
    results = sampler.run_sweep(circuit, [{}, {}, {}], repetitions=200)
    assert len(results) == 3
    records = [r.records["m"][:, 0, 0] for r in results]
    assert not np.array_equal(records[0], records[1])


def test_an_empty_sweep_submits_nothing(sampler, client):
    circuit = cirq.Circuit(cirq.rx(theta).on(q0), cirq.measure(q0, key="m"))
    before = job_count(client)
    assert sampler.run_sweep(circuit, cirq.Points(theta, []), repetitions=10) == []
    assert job_count(client) == before


def test_run_batch_is_one_job_with_per_circuit_repetitions(sampler, client):
    bell = HAND_WRITTEN["bell"]
    rotation = cirq.Circuit(cirq.ry(theta).on(q0), cirq.measure(q0, key="r"))
    before = job_count(client)
    batches = sampler.run_batch(
        [bell, rotation, bell],
        [None, cirq.Points(theta, [0.0, np.pi]), {}],
        repetitions=[50, 120, 70],
    )
    assert job_count(client) == before + 1
    payload = newest_payload(client)
    assert [entry.get("shots") for entry in payload["circuits"]] == [50, 120, 70]
    assert [len(results) for results in batches] == [1, 2, 1]
    assert batches[0][0].repetitions == 50 and batches[2][0].repetitions == 70
    assert batches[1][0].records["r"].sum() == 0
    assert batches[1][1].records["r"].sum() == 120
    assert [r.params for r in batches[1]] == list(cirq.Points(theta, [0.0, np.pi]))


def test_sample_with_a_list_of_sweeps_is_one_job_and_the_frame_cirq_builds(sampler, client):
    circuit = cirq.Circuit(cirq.X(q0) ** theta, cirq.X(q1), cirq.measure(q0, q1, key="m"))
    sweeps = [cirq.Points(theta, [0.0, 1.0]), {"theta": 1.0}, cirq.Points(theta, [0.0])]
    before = job_count(client)
    frame = sampler.sample(circuit, repetitions=3, params=sweeps)
    assert job_count(client) == before + 1
    assert len(newest_payload(client)["circuits"][0]["parameter_values"]) == 4
    # Deterministic circuit: the frame equals the simulator's, row for row.
    expected = cirq.Simulator().sample(circuit, repetitions=3, params=sweeps)
    assert list(frame.columns) == list(expected.columns) == ["theta", "m"]
    assert frame.to_dict("list") == expected.to_dict("list")
    assert list(frame.index) == list(expected.index) == [0, 1, 2] * 4


def test_sample_with_inconsistent_sweeps_raises_before_sending(sampler, client):
    circuit = cirq.Circuit(cirq.rx(theta).on(q0), cirq.ry(phi).on(q0), cirq.measure(q0, key="m"))
    before = job_count(client)
    with pytest.raises(ValueError, match="Inconsistent sweep parameters"):
        sampler.sample(circuit, params=[{"theta": 0.1, "phi": 0.2}, {"theta": 0.3}])
    assert job_count(client) == before


def test_run_batch_checks_its_arguments(sampler):
    with pytest.raises(ValidationError, match="2 program"):
        sampler.run_batch([HAND_WRITTEN["bell"]] * 2, [None])
    with pytest.raises(ValidationError, match="repetitions"):
        sampler.run_batch([HAND_WRITTEN["bell"]], repetitions=-1)


# -- keys and bit order ---------------------------------------------------------------------------


def test_x_on_one_qubit_of_several_keys(sampler):
    circuit = cirq.Circuit(
        cirq.X(q1),
        cirq.X(q4),
        cirq.measure(q0, q1, key="a"),
        cirq.measure(q2, key="b"),
        cirq.measure(q5, q4, q3, key="c"),
    )
    result = sampler.run(circuit, repetitions=20)
    assert (result.measurements["a"] == [0, 1]).all()
    assert (result.measurements["b"] == [0]).all()
    assert (result.measurements["c"] == [0, 1, 0]).all()
    assert result.histogram(key="c") == {2: 20}


def test_grid_qubits_and_unsorted_keys(sampler):
    g = cirq.GridQubit
    circuit = cirq.Circuit(
        cirq.X(g(1, 0)), cirq.measure(g(1, 0), g(0, 1), g(0, 0), key="k"), cirq.measure(g(0, 0))
    )
    result = sampler.run(circuit, repetitions=10)
    assert (result.measurements["k"] == [1, 0, 0]).all()
    assert (result.measurements["q(0, 0)"] == [0]).all()


def test_invert_mask_and_a_key_measured_twice(sampler):
    circuit = cirq.Circuit(
        cirq.X(q0),
        cirq.measure(q0, q1, key="m", invert_mask=(True, False)),
        cirq.X(q1),
        cirq.measure(q0, q1, key="m"),
        cirq.measure(q2, key="z", invert_mask=(True,)),
    )
    result = sampler.run(circuit, repetitions=15)
    assert result.records["m"].shape == (15, 2, 2)
    assert (result.records["m"][:, 0] == [0, 0]).all()
    assert (result.records["m"][:, 1] == [1, 1]).all()
    assert (result.records["z"] == 1).all()
    reference = cirq.Simulator().run(circuit, repetitions=15)
    assert result == reference  # deterministic circuit: identical records


def test_a_subcircuit_repeating_a_key_gives_instances(sampler):
    bell = cirq.FrozenCircuit(cirq.H(q0), cirq.CNOT(q0, q1), cirq.measure(q0, q1, key="m"))
    circuit = cirq.Circuit(
        cirq.CircuitOperation(bell, repetitions=2, use_repetition_ids=False),
        cirq.H(q2),
        cirq.PauliMeasurementGate([cirq.X], key="x").on(q2),
    )
    shots = 2000
    result = sampler.run(circuit, repetitions=shots)
    m = result.records["m"]
    assert m.shape == (shots, 2, 2)
    assert (m[:, 0, 0] == m[:, 0, 1]).all()  # the first Bell pair always agrees
    # The second run starts from |00> or |11>, each half the time; from |11> it ends
    # anti-correlated, so it agrees half the time.
    agree = (m[:, 1, 0] == m[:, 1, 1]).mean()
    assert abs(agree - 0.5) <= 5 * np.sqrt(0.25 / shots)
    assert (result.records["x"] == 0).all()  # |+> measured in the X basis


# -- errors ---------------------------------------------------------------------------------------


def test_what_cannot_be_carried_fails_before_any_job(sampler, client):
    noisy = cirq.Circuit(cirq.H(q0), cirq.depolarize(0.1).on(q0), cirq.measure(q0, key="m"))
    before = job_count(client)
    with pytest.raises(ValidationError, match=r"depolarize\(p=0.1\)\(q\(0\)\)"):
        sampler.run(noisy)
    with pytest.raises(ValidationError, match="symbol 'theta'"):
        sampler.run(cirq.Circuit(cirq.rx(theta).on(q0), cirq.measure(q0)))
    with pytest.raises(ValidationError, match="no measurements"):
        sampler.run(cirq.Circuit(cirq.H(q0)))
    assert job_count(client) == before


# -- async ----------------------------------------------------------------------------------------


def test_async_methods_do_not_block_the_asyncio_loop(sampler, client):
    circuit = cirq.Circuit(cirq.rx(theta).on(q0), cirq.measure(q0, key="m"))
    sweep = cirq.Points(theta, [0.0, np.pi])
    long_sweep = cirq.Linspace(theta, 0, np.pi, 101)

    async def main():
        ticks = []

        async def ticker():
            while True:
                ticks.append(time.monotonic())
                await asyncio.sleep(0.002)

        task = asyncio.create_task(ticker())
        await asyncio.sleep(0)
        started = time.monotonic()
        results = await asyncio.gather(
            sampler.run_sweep_async(circuit, sweep, repetitions=30),
            sampler.run_batch_async([circuit, HAND_WRITTEN["bell"]], [sweep, None], 30),
            sampler.run_async(HAND_WRITTEN["bell"], repetitions=30),
            sampler.run_sweep_async(circuit, long_sweep, repetitions=1000),
        )
        finished = time.monotonic()
        task.cancel()
        during = [tick for tick in ticks if started < tick < finished]
        return results, during, finished - started

    before = job_count(client)
    (sweeps, batch, single, long), during, elapsed = asyncio.run(main())
    assert job_count(client) == before + 4
    assert [r.records["m"].sum() for r in sweeps] == [0, 30]
    assert [len(results) for results in batch] == [2, 1]
    assert single.repetitions == 30 and len(long) == 101
    # The loop kept running while the jobs ran in worker threads: it ticked all along.
    assert len(during) >= 10, f"{len(during)} ticks in {elapsed:.3f} s"


def test_async_methods_run_under_duet(sampler):
    circuit = cirq.Circuit(cirq.rx(theta).on(q0), cirq.measure(q0, key="m"))
    sweep = cirq.Points(theta, [0.0, np.pi])

    async def both():
        return await duet.pstarmap_async(
            sampler.run_sweep_async, [(circuit, sweep, 20), (HAND_WRITTEN["bell"], None, 20)]
        )

    first, second = duet.run(both)
    assert [r.records["m"].sum() for r in first] == [0, 20]
    assert second[0].repetitions == 20


# -- the core client, job ids and the cache -------------------------------------------------------


def test_client_run_takes_cirq_circuits_with_resolvers_or_rows(client):
    circuit = cirq.Circuit(cirq.rx(theta).on(q0), cirq.ry(phi).on(q1), cirq.measure(q0, q1))
    job = client.run(
        [circuit, circuit],
        shots=40,
        parameter_values=[[{"theta": np.pi, "phi": 0.0}], [[0.0, np.pi], [np.pi, np.pi]]],
        qpu="mock",
    )
    first, second = job.native_results()
    assert all(isinstance(r, cirq.ResultDict) for r in first + second)
    assert first[0].histogram(key="q(0),q(1)") == {0b10: 40}
    # Rows follow the sorted symbol names: (phi, theta).
    assert second[0].histogram(key="q(0),q(1)") == {0b10: 40}
    assert second[0].params.param_dict == {"phi": 0.0, "theta": np.pi}
    assert second[1].histogram(key="q(0),q(1)") == {0b11: 40}


def test_job_results_rebuild_a_job_from_its_id(sampler, client):
    circuit = cirq.Circuit(
        cirq.rx(theta).on(q0), cirq.X(q2), cirq.measure(q2, q0, key="m", invert_mask=(True,))
    )
    sweep = cirq.Points(theta, [0.0, np.pi])
    results = sampler.run_sweep(circuit, sweep, repetitions=25)
    job_id = client.list_jobs(limit=1)[0]["id"]
    (again,) = QPISampler(client, seed=5).job_results(job_id)
    assert again == results
    assert [r.params for r in again] == list(sweep)


def test_a_cached_result_replays_identically_offline(server, tmp_path):
    circuit = cirq.Circuit(cirq.rx(theta).on(q0), cirq.H(q1), cirq.measure(q0, q1, key="m"))
    sweep = cirq.Linspace(theta, 0, np.pi, 5)
    cache = str(tmp_path / "cache")
    with QPISampler(url=server.url, api_token=server.api_token, cache=cache) as recorder:
        first = recorder.run_sweep(circuit, sweep, repetitions=100)
        jobs = len(recorder.client.list_jobs())
    replay = {"api_token": server.api_token, "cache": cache, "cache_mode": "replay"}
    with QPISampler(url=server.url, **replay) as replayer:
        again = replayer.run_sweep(circuit, sweep, repetitions=100)
    assert again == first  # same counts, same synthesised per-shot order
    with server.client(cache=False) as check:
        assert len(check.list_jobs()) == jobs


def test_a_sampler_takes_a_client_or_settings_not_both(client):
    with pytest.raises(ValidationError, match="api_token"):
        QPISampler(client, api_token="x")


def test_the_aer_qpu_agrees_too(server):
    with server.client(cache=False) as client:
        sampler = QPISampler(client, backend="qiskit_aer")
        circuit = HAND_WRITTEN["controlled"]
        (result,) = sampler.run_sweep(circuit, None, repetitions=2000)
        assert_matches(result, exact_distribution(circuit), "aer")
