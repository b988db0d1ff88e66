"""The qpi.remote device against a real LocalServer: results, gradients, jobs, cache."""

from __future__ import annotations

import math

import numpy as np
import pennylane as qml
import pytest
import qpi_pennylane
from pennylane import numpy as pnp
from pennylane.exceptions import DeviceError, PennyLaneDeprecationWarning

from qpi.errors import ValidationError
from qpi.server import LocalServer
from tests.pennylane.circuits import HAMILTONIAN, WEIGHTS, ansatz, cost

SHOTS = 20_000
Z5 = 5.0  # a statistical assertion allows five standard deviations


def five_sigma(spread: float, shots: int = SHOTS) -> float:
    """Bound on |estimate - exact| for a mean of ``shots`` samples within a range ``spread``."""
    return Z5 * spread / math.sqrt(shots)


def exact(fn, *args, **kwargs):
    return qml.QNode(fn, qml.device("default.qubit"), **kwargs)


# -- loading and arguments -----------------------------------------------------------------


def test_the_device_loads_through_the_pennylane_entry_point(make_device):
    dev = make_device(3)
    assert isinstance(dev, qpi_pennylane.QPIDevice)
    assert dev.name == "qpi.remote"
    assert dev.wires == qml.wires.Wires([0, 1, 2])


def test_client_and_connection_settings_are_exclusive(pl_client):
    with pytest.raises(ValidationError, match="either client="):
        qml.device("qpi.remote", wires=1, client=pl_client, url="http://x")


def test_string_false_from_the_device_test_cli_turns_the_cache_off(pl_server):
    dev = qml.device(
        "qpi.remote", wires=1, url=pl_server.url, api_token=pl_server.api_token, cache="False"
    )
    assert dev.client.cache is None


def test_shots_on_the_device_still_work_while_pennylane_accepts_them(make_device):
    with pytest.warns(PennyLaneDeprecationWarning):
        dev = make_device(1, shots=300)

    @qml.qnode(dev)
    def circuit():
        qml.X(0)
        return qml.counts(wires=[0])

    assert circuit() == {"1": 300}


@pytest.mark.filterwarnings("ignore::pennylane.exceptions.PennyLaneDeprecationWarning")
def test_zero_shots_are_refused(make_device):
    with pytest.raises(ValueError, match="positive"):
        make_device(1, shots=0)


def test_an_analytic_execution_says_how_to_set_shots(make_device):
    @qml.qnode(make_device(1))
    def circuit():
        return qml.expval(qml.Z(0))

    with pytest.raises(DeviceError, match=r"qml\.set_shots\(qnode, shots=1000\)"):
        circuit()


def test_state_measurements_are_refused(make_device):
    @qml.set_shots(10)
    @qml.qnode(make_device(1))
    def circuit():
        return qml.state()

    with pytest.raises(DeviceError, match="not accepted with finite shots"):
        circuit()


@pytest.mark.parametrize("shots", [None, 10])
def test_state_snapshots_are_not_supported_with_or_without_shots(make_device, shots):
    # Regression: without shots this said "needs a finite number of shots", as if setting
    # shots would help.
    @qml.qnode(make_device(1), shots=shots)
    def circuit():
        qml.Snapshot("before")
        qml.X(0)
        return qml.expval(qml.Z(0))

    with (
        pytest.warns(UserWarning, match="Snapshots are not supported"),
        pytest.raises(DeviceError, match="is not supported on qpi.remote"),
    ):
        qml.snapshots(circuit)()


# -- results against default.qubit -----------------------------------------------------------


def test_expectation_values_agree_with_default_qubit(make_device):
    def circuit(weights):
        ansatz(weights)
        return qml.expval(qml.Z(0) @ qml.Z(1)), qml.expval(qml.X(2)), qml.expval(HAMILTONIAN)

    got = qml.set_shots(qml.QNode(circuit, make_device(3)), SHOTS)(WEIGHTS)
    want = exact(circuit)(WEIGHTS)
    for value, reference, spread in zip(got, want, (2, 2, 2 * 1.0), strict=True):
        assert abs(value - reference) < five_sigma(spread)


@pytest.mark.parametrize("interface", ["autograd", "torch"])
def test_gradients_agree_with_default_qubit(make_device, interface):
    qnode = qml.set_shots(qml.QNode(cost, make_device(3), interface=interface), SHOTS)
    if interface == "torch":
        torch = pytest.importorskip("torch")
        weights = torch.tensor(WEIGHTS, requires_grad=True)
        qnode(weights).backward()
        gradient = weights.grad.numpy()
    else:
        gradient = qml.grad(qnode)(pnp.array(WEIGHTS, requires_grad=True))
    want = qml.grad(exact(cost))(pnp.array(WEIGHTS, requires_grad=True))
    # Each entry is (f(x+pi/2) - f(x-pi/2)) / 2 of an observable within [-1, 1] (sum |c| = 1).
    bound = five_sigma(2.0) / math.sqrt(2)
    np.testing.assert_allclose(gradient, want, atol=bound, rtol=0)


def _state_prep():
    qml.RY(1.1, wires=0)
    qml.RX(-0.7, wires=1)
    qml.CNOT(wires=[0, 1])
    qml.RY(0.4, wires=1)


def test_every_measurement_type_agrees_with_default_qubit(make_device):
    obs_h = np.array([[1.0, 2.0 - 1j], [2.0 + 1j, -1.0]])

    def circuit():
        _state_prep()
        return (
            qml.expval(qml.X(0) @ qml.Y(1)),
            qml.var(qml.Z(0)),
            qml.probs(wires=[1, 0]),
            qml.expval(qml.Hamiltonian([0.4, 0.6], [qml.X(0), qml.Z(0) @ qml.Z(1)])),
            qml.expval(qml.sum(qml.Y(0), qml.Z(1))),
            qml.expval(qml.s_prod(-2.0, qml.X(1))),
            qml.var(qml.Hermitian(obs_h, wires=1)),
            qml.expval(qml.Projector([1, 0], wires=[0, 1])),
        )

    got = qml.set_shots(qml.QNode(circuit, make_device(2)), SHOTS)()
    want = exact(circuit)()
    eig = np.linalg.eigvalsh(obs_h)
    spreads = [2, 4, 1, 2, 4, 4, 4 * (eig[-1] - eig[0]) ** 2, 1]
    for value, reference, spread in zip(got, want, spreads, strict=True):
        np.testing.assert_allclose(value, reference, atol=five_sigma(spread), rtol=0)


def test_samples_and_counts_of_wires_and_observables(make_device):
    @qml.set_shots(500)
    @qml.qnode(make_device(2))
    def circuit():
        _state_prep()
        return (
            qml.sample(wires=[0, 1]),
            qml.sample(qml.Z(0) @ qml.Z(1)),
            qml.counts(wires=[1]),
            qml.counts(qml.X(0)),
            qml.counts(wires=[0, 1], all_outcomes=True),
        )

    bits, parity, counts1, counts_x, all_counts = circuit()
    assert bits.shape == (500, 2) and set(np.unique(bits)) <= {0, 1}
    assert parity.shape == (500,) and set(np.unique(parity)) <= {-1.0, 1.0}
    assert sum(counts1.values()) == 500 and set(counts1) <= {"0", "1"}
    assert sum(counts_x.values()) == 500 and set(counts_x) <= {-1.0, 1.0}
    assert list(all_counts) == ["00", "01", "10", "11"]


def test_commuting_samples_and_counts_describe_the_same_shots(make_device):
    @qml.set_shots(500)
    @qml.qnode(make_device(2))
    def circuit():
        _state_prep()
        return qml.sample(wires=[0, 1]), qml.counts(wires=[1]), qml.expval(qml.Z(1))

    bits, counts, value = circuit()
    assert int(bits[:, 1].sum()) == counts.get("1", 0)
    assert value == pytest.approx(1 - 2 * bits[:, 1].mean())


def test_mid_circuit_measurements_are_deferred(make_device):
    def circuit():
        qml.RY(0.9, wires=0)
        m = qml.measure(0)
        qml.cond(m, qml.RX)(1.2, wires=1)
        return qml.expval(qml.Z(1)), qml.probs(op=m)

    # Deferring a measurement whose value is returned needs a spare wire to hold it.
    got = qml.set_shots(qml.QNode(circuit, make_device(3)), SHOTS)()
    want = exact(circuit)()
    assert abs(got[0] - want[0]) < five_sigma(2)
    np.testing.assert_allclose(got[1], want[1], atol=five_sigma(1), rtol=0)


def test_only_deferred_mid_circuit_measurements_are_available(make_device):
    def circuit():
        qml.measure(0)
        return qml.expval(qml.Z(0))

    qnode = qml.set_shots(qml.QNode(circuit, make_device(1), mcm_method="one-shot"), 10)
    with pytest.raises(DeviceError, match="mcm_method='deferred'"):
        qnode()


def test_custom_wire_labels(make_device):
    @qml.set_shots(100)
    @qml.qnode(make_device(["anc", "q"]))
    def circuit():
        qml.X("q")
        return qml.counts(wires=["q", "anc"])

    assert circuit() == {"10": 100}


def test_without_device_wires_all_wire_measurements_cover_the_tapes_wires(make_device):
    # Regression: with wires=None, qml.counts() gave {'': 100} and qml.probs() raised.
    @qml.set_shots(100)
    @qml.qnode(make_device(None))
    def circuit():
        qml.X("a")
        qml.X(2)
        qml.CNOT(wires=[2, 7])
        return qml.counts(), qml.probs()

    counts, probs = circuit()
    assert counts == {"111": 100}
    np.testing.assert_array_equal(probs, np.eye(8)[7])


def test_without_device_wires_each_tape_of_a_batch_measures_its_own_wires(make_device):
    # Regression: the second tape inherited the first one's wires.
    dev = make_device(None)
    first = qml.tape.QuantumScript([qml.X(0)], [qml.counts()], shots=50)
    second = qml.tape.QuantumScript([qml.X(5), qml.I(6)], [qml.counts()], shots=50)
    assert qml.execute([first, second], dev) == ({"1": 50}, {"10": 50})


def test_counts_of_all_outcomes_are_sorted_as_on_default_qubit(make_device):
    def circuit():
        qml.X(0)
        return qml.counts(all_outcomes=True), qml.counts(qml.Z(0) @ qml.Z(1), all_outcomes=True)

    got = qml.set_shots(qml.QNode(circuit, make_device(2)), 100)()
    want = qml.set_shots(exact(circuit), 100)()
    for ours, theirs in zip(got, want, strict=True):
        assert list(ours) == list(theirs)
        assert ours == theirs


def test_a_differentiable_tape_and_a_hermitian_variance_run_in_one_batch(make_device):
    # Regression: the second tape raised a spurious DeviceError.
    matrix = np.array([[1.0, 2.0], [2.0, -1.0]])

    def tapes(x):
        ops = [qml.RY(x, wires=0), qml.CNOT(wires=[0, 1])]
        return [
            qml.tape.QuantumScript(ops, [qml.expval(qml.Z(1))], shots=SHOTS),
            qml.tape.QuantumScript(ops, [qml.var(qml.Hermitian(matrix, wires=1))], shots=SHOTS),
        ]

    def run(device):
        return lambda x: qml.math.stack(qml.execute(tapes(x), device, diff_method="best"))

    x = pnp.array(0.7, requires_grad=True)
    exact_dev = qml.device("default.qubit")
    got, want = run(make_device(2))(x), run(exact_dev)(x)
    # <Z> = cos x; Var A = 5 - <A>^2 with <A> = cos x + 2 sin x <= sqrt(5): within 5 sigma.
    np.testing.assert_allclose(got, want, atol=five_sigma(2.0 * 5.0), rtol=0)
    gradient = qml.jacobian(run(make_device(2)))(x)
    np.testing.assert_allclose(gradient, qml.jacobian(run(exact_dev))(x), atol=five_sigma(15.0))


# -- jobs: one per execution (the cost of each entry point: test_pennylane_cost.py) ---------


def test_a_broadcast_batch_is_one_job_with_one_circuit_and_many_rows(make_device, pl_client):
    dev = make_device(2)

    @qml.set_shots(2000)
    @qml.qnode(dev)
    def circuit(x):
        qml.RX(x, wires=0)
        qml.CNOT(wires=[0, 1])
        return qml.expval(qml.Z(1))

    xs = np.linspace(0, np.pi, 7)
    with qml.Tracker(dev) as tracker:
        values = circuit(xs)
    assert values.shape == (7,)
    np.testing.assert_allclose(values, np.cos(xs), atol=five_sigma(2, 2000), rtol=0)
    (job_id,) = tracker.history["job_ids"]
    payload = pl_client.get_job(job_id)["payload"]
    assert len(payload["circuits"]) == 1
    rows = payload["circuits"][0]["parameter_values"]
    np.testing.assert_allclose([row[0] for row in rows], xs)


def test_a_shot_vector_is_one_job_with_an_experiment_per_component(make_device, pl_client):
    dev = make_device(1)

    @qml.set_shots((100, 100, 300))
    @qml.qnode(dev)
    def circuit():
        qml.RX(np.pi / 2, wires=0)
        return qml.counts(wires=[0]), qml.expval(qml.Z(0))

    with qml.Tracker(dev) as tracker:
        result = circuit()
    assert [sum(counts.values()) for counts, _ in result] == [100, 100, 300]
    for counts, value in result:
        total = sum(counts.values())
        assert value == pytest.approx((counts.get("0", 0) - counts.get("1", 0)) / total)
    (job_id,) = tracker.history["job_ids"]
    circuits = pl_client.get_job(job_id)["payload"]["circuits"]
    assert sorted((len(c["parameter_values"]), c.get("shots")) for c in circuits) == [
        (1, 300),
        (2, None),  # the job's own shots: 100
    ]


def test_without_batching_every_tape_is_a_job(make_device, job_count):
    dev = make_device(3, batch_jobs=False)
    qnode = qml.set_shots(qml.QNode(cost, dev), 200)
    before = job_count()
    with qml.Tracker(dev) as tracker:
        qml.grad(qnode)(pnp.array(WEIGHTS, requires_grad=True))
    assert job_count() - before == tracker.totals["executions"] == tracker.totals["jobs"] > 1


# -- tracker, dumps, client.run ----------------------------------------------------------------


def test_the_tracker_records_executions_jobs_shots_and_job_ids(make_device, pl_client):
    dev = make_device(2)

    def circuit():
        _state_prep()
        return qml.expval(qml.X(0)), qml.expval(qml.Z(0))  # two tapes: X and Z do not commute

    qnode = qml.set_shots(qml.QNode(circuit, dev), 300)
    with qml.Tracker(dev) as tracker:
        qnode()
        qnode()
    assert tracker.totals["batches"] == 2
    assert tracker.totals["jobs"] == 2
    assert tracker.totals["executions"] == 4
    assert tracker.totals["shots"] == 4 * 300
    assert len(tracker.history["results"]) == 4
    for job_id in tracker.history["job_ids"]:
        assert pl_client.get_job(job_id)["status"] == "completed"


def test_dumps_is_the_program_the_device_sends(make_device, pl_client):
    dev = make_device(3)
    tape = qml.tape.QuantumScript(
        [qml.Rot(0.1, 0.2, 0.3, wires=2), qml.IsingXX(0.4, wires=[0, 2])],
        [qml.expval(qml.X(0) @ qml.Z(2))],
        shots=100,
    )
    with qml.Tracker(dev) as tracker:
        qml.execute([tape], dev)
    sent = pl_client.get_job(tracker.history["job_ids"][0])["payload"]["circuits"][0]["circuit"]
    text = qpi_pennylane.dumps(tape, dev)
    assert text == sent
    assert text.startswith("OPENQASM 3.0;") and "input float[64] p0;" in text


def test_dumps_refuses_a_tape_that_becomes_several_programs():
    tape = qml.tape.QuantumScript([qml.H(0)], [qml.expval(qml.X(0)), qml.expval(qml.Z(0))])
    with pytest.raises(ValidationError, match="to_payload"):
        qpi_pennylane.dumps(tape)
    assert len(qpi_pennylane.to_payload(tape.copy(shots=10)).circuits) == 2


def test_the_core_client_runs_a_tape(pl_client):
    tape = qml.tape.QuantumScript(
        [qml.RY(np.array([0.0, np.pi]), wires=0)], [qml.expval(qml.Z(0))], shots=200
    )
    job = pl_client.run(tape, shots=200, qpu="mock")
    (result,) = job.native_results()
    np.testing.assert_allclose(result, [1.0, -1.0])


# -- cache and replay ----------------------------------------------------------------------------


def test_cached_and_replayed_results_equal_fresh_ones(tmp_path):
    def circuit(x):
        qml.RX(x, wires=0)
        qml.CNOT(wires=[0, 1])
        return qml.expval(qml.Z(1)), qml.sample(wires=[0, 1]), qml.counts(wires=[0])

    xs = np.array([0.3, 1.2])
    with LocalServer(seed=3) as server:
        options = {
            "url": server.url,
            "api_token": server.api_token,
            "cache": str(tmp_path),
            "seed": 5,
        }
        dev = qml.device("qpi.remote", wires=2, **options)
        fresh = qml.set_shots(qml.QNode(circuit, dev), 64)(xs)
        # A new device is a rerun of the script: its first run gets the first stored result.
        rerun = qml.device("qpi.remote", wires=2, **options)
        with qml.Tracker(rerun) as tracker:
            reused = qml.set_shots(qml.QNode(circuit, rerun), 64)(xs)
        assert tracker.totals.get("cache_hits") == 1 and "jobs" not in tracker.totals
    # The server is gone: replay reads the cache only.
    replay_dev = qml.device("qpi.remote", wires=2, cache_mode="replay", **options)
    replayed = qml.set_shots(qml.QNode(circuit, replay_dev), 64)(xs)
    for other in (reused, replayed):
        np.testing.assert_array_equal(other[0], fresh[0])
        np.testing.assert_array_equal(other[1], fresh[1])  # the same synthesised shot order
        assert list(other[2]) == list(fresh[2])


def test_identical_tapes_are_independent_runs_of_one_circuit(make_device, pl_client):
    dev = make_device(1)
    tape = qml.tape.QuantumScript([qml.H(0)], [qml.counts(wires=[0])], shots=400)
    with qml.Tracker(dev) as tracker:
        first, second = qml.execute([tape, tape], dev)
    assert sum(first.values()) == sum(second.values()) == 400
    (job_id,) = tracker.history["job_ids"]
    (circuit,) = pl_client.get_job(job_id)["payload"]["circuits"]
    assert circuit["parameter_values"] == [[], []]  # no inputs: one empty row per run


def test_a_shot_vector_gradient_is_the_forward_job_and_one_gradient_job(make_device, job_count):
    qnode = qml.set_shots(qml.QNode(cost, make_device(3)), (500, 500, 1000))
    before = job_count()
    jacobian = qml.jacobian(lambda w: qml.math.stack(qnode(w)))(pnp.array(WEIGHTS))
    assert job_count() - before == 2
    assert jacobian.shape == (3, 6)


def test_the_qnode_shots_argument(make_device):
    def circuit():
        qml.X(0)
        return qml.counts(wires=[0])

    assert qml.QNode(circuit, make_device(1), shots=123)() == {"1": 123}


def test_variances_of_non_pauli_observables_are_differentiated_by_pennylane(make_device):
    matrix = np.array([[1.0, 2.0], [2.0, -1.0]])

    def circuit(x):
        qml.RY(x, wires=0)
        qml.CNOT(wires=[0, 1])
        return qml.var(qml.Hermitian(matrix, wires=1)), qml.var(qml.X(0))

    x = pnp.array(0.7, requires_grad=True)
    qnode = qml.set_shots(qml.QNode(circuit, make_device(2)), SHOTS)
    got = qml.jacobian(lambda v: qml.math.stack(qnode(v)))(x)
    want = qml.jacobian(lambda v: qml.math.stack(exact(circuit)(v)))(x)
    # d var/dx = -2 <A> d<A>/dx (A^2 = 5 I), with <A> and d<A>/dx both estimated: their
    # errors (sqrt(5)/sqrt(N) and sqrt(5/2N)) times factors up to 2 sqrt(5) stay under 15/sqrt(N).
    np.testing.assert_allclose(got, want, atol=five_sigma(15.0), rtol=0)


def test_variances_samples_and_counts_of_sums(make_device):
    ham = qml.Hamiltonian([0.5, -1.0, 0.3], [qml.Z(0) @ qml.Z(1), qml.Z(1), qml.I(0)])

    def circuit():
        _state_prep()
        return qml.var(ham), qml.expval(qml.X(0)), qml.var(qml.X(0) + 0.5 * qml.X(1))

    got = qml.set_shots(qml.QNode(circuit, make_device(2)), SHOTS)()
    want = exact(circuit)()
    # Variances of observables within [-1.8, 1.8] and [-1.5, 1.5]: errors below 4 * range.
    for value, reference, spread in zip(got, want, (4 * 3.6, 2, 4 * 3.0), strict=True):
        assert abs(value - reference) < five_sigma(spread)

    @qml.set_shots(300)
    @qml.qnode(make_device(2))
    def sampled():
        _state_prep()
        return qml.sample(ham), qml.counts(ham)

    samples, counts = sampled()
    allowed = {-1.2, 0.8, -0.2, 1.8}  # 0.5 z0 z1 - z1 + 0.3 on |00>, |01>, |10>, |11>
    assert {round(float(v), 6) for v in samples} <= allowed
    assert {round(float(k), 6) for k in counts} <= allowed and sum(counts.values()) == 300


def test_a_sum_of_non_commuting_terms_needs_an_expval(make_device):
    @qml.set_shots(10)
    @qml.qnode(make_device(1))
    def circuit():
        return qml.var(qml.X(0) + qml.Z(0)), qml.expval(qml.Y(0))

    with pytest.raises(DeviceError, match="do not\\s+commute qubit-wise"):
        circuit()


def test_a_tape_wider_than_the_qpu_is_refused_before_sending(make_device, pl_client, job_count):
    width = pl_client.get_qpu(pl_client.resolve_qpu("mock"))["num_qubits"]

    @qml.set_shots(10)
    @qml.qnode(make_device(width + 1))
    def circuit():
        qml.X(width)
        return qml.counts(wires=[width])

    before = job_count()
    with pytest.raises(ValidationError, match=rf"tape 0 uses {width + 1} qubits .* {width}"):
        circuit()
    assert job_count() == before
