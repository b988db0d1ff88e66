"""What each entry point of qpi.remote costs: jobs and experiments, against default.qubit.

A forward pass runs the circuit only (never its parameter-shifted copies); a gradient is
PennyLane's ``param_shift`` applied where each gate's own shift rule applies, all shifted tapes
in one job. ``default.qubit`` with ``diff_method="parameter-shift"`` and the same shots is the
reference: the device must never run more circuits than it does.
"""

from __future__ import annotations

import numpy as np
import pennylane as qml
import pytest
from pennylane import numpy as pnp

from tests.pennylane.circuits import WEIGHTS, cost

SHOTS = 500


def _h2_hamiltonian() -> qml.Hamiltonian:
    """The 4-qubit H2 Hamiltonian's Pauli words (coefficients rounded; only counts matter)."""
    coeffs = [-0.24, 0.17, 0.17, -0.22, -0.22, 0.12, 0.17, 0.045, 0.045, 0.045, 0.045]
    coeffs += [0.12, 0.17, 0.17, 0.12]
    ops = [qml.I(0), qml.Z(0), qml.Z(1), qml.Z(2), qml.Z(3), qml.Z(0) @ qml.Z(1)]
    ops += [qml.Z(0) @ qml.Z(2), qml.Y(0) @ qml.X(1) @ qml.X(2) @ qml.Y(3)]
    ops += [qml.Y(0) @ qml.Y(1) @ qml.X(2) @ qml.X(3), qml.X(0) @ qml.X(1) @ qml.Y(2) @ qml.Y(3)]
    ops += [qml.X(0) @ qml.Y(1) @ qml.Y(2) @ qml.X(3), qml.Z(0) @ qml.Z(3), qml.Z(1) @ qml.Z(2)]
    ops += [qml.Z(1) @ qml.Z(3), qml.Z(2) @ qml.Z(3)]
    return qml.Hamiltonian(coeffs, ops)


H2 = _h2_hamiltonian()


def vqe(theta):
    qml.BasisState(np.array([1, 1, 0, 0]), wires=range(4))
    qml.DoubleExcitation(theta, wires=[0, 1, 2, 3])
    return qml.expval(H2)


def _experiments(dev, run) -> tuple[int, int]:
    """(jobs, experiments) a call makes on qpi.remote."""
    with qml.Tracker(dev) as tracker:
        run()
    return tracker.totals.get("jobs", 0), tracker.totals.get("experiments", 0)


def _reference_executions(fn, run_with) -> int:
    """Circuits default.qubit runs for the same call with parameter-shift and finite shots."""
    dev = qml.device("default.qubit")
    qnode = qml.set_shots(qml.QNode(fn, dev, diff_method="parameter-shift"), SHOTS)
    with qml.Tracker(dev) as tracker:
        run_with(qnode)
    return tracker.totals["executions"]


def test_a_forward_pass_with_trainable_inputs_runs_only_the_circuit(make_device):
    # Regression: with grad_on_execution=True every evaluation ran the shifted copies too.
    dev = make_device(3)
    qnode = qml.set_shots(qml.QNode(cost, dev), SHOTS)
    weights = pnp.array(WEIGHTS, requires_grad=True)
    jobs, experiments = _experiments(dev, lambda: qnode(weights))
    # Two groups of qubit-wise commuting terms ({ZZ, X} and {Y}): two circuits, one row each.
    assert (jobs, experiments) == (1, 2)


def test_a_gradient_is_the_forward_job_and_one_job_of_every_shifted_tape(make_device, job_count):
    dev = make_device(3)
    qnode = qml.set_shots(qml.QNode(cost, dev), SHOTS)
    before = job_count()
    jobs, experiments = _experiments(dev, lambda: qml.grad(qnode)(pnp.array(WEIGHTS)))
    assert jobs == job_count() - before == 2
    # 6 parameters x 2 shifts x 2 groups, plus the forward pass's 2.
    assert experiments == 2 + 6 * 2 * 2


def test_a_double_excitation_gradient_costs_no_more_than_default_qubit(make_device):
    # Regression: shifting the decomposed gate cost 85 experiments against default.qubit's 40.
    dev = make_device(4)
    qnode = qml.set_shots(qml.QNode(vqe, dev, diff_method="parameter-shift"), SHOTS)
    theta = pnp.array(0.2, requires_grad=True)
    jobs, experiments = _experiments(dev, lambda: qml.grad(qnode)(theta))
    reference = _reference_executions(vqe, lambda q: qml.grad(q)(theta))
    assert jobs == 2
    assert experiments <= reference
    # DoubleExcitation's own four-term rule: the forward pass plus four shifted tapes, each
    # measured in the Hamiltonian's five qubit-wise commuting bases.
    assert experiments == 5 * 5


def test_spsa_steps_run_only_the_two_perturbed_evaluations(make_device):
    # Regression: 5 SPSA steps cost 240 experiments instead of 20.
    dev = make_device(3)
    qnode = qml.set_shots(qml.QNode(cost, dev), SHOTS)
    opt = qml.SPSAOptimizer(maxiter=5)

    def steps(q):
        weights = pnp.array(WEIGHTS, requires_grad=True)
        for _ in range(5):
            weights = opt.step(q, weights)

    jobs, experiments = _experiments(dev, lambda: steps(qnode))
    assert experiments == 5 * 2 * 2  # two evaluations of two groups per step
    assert experiments <= _reference_executions(cost, steps)
    assert jobs == 5 * 2  # SPSA calls the cost function once per evaluation


def test_a_torch_forward_pass_under_no_grad_runs_only_the_circuit(make_device):
    torch = pytest.importorskip("torch")
    dev = make_device(3)
    qnode = qml.set_shots(qml.QNode(cost, dev, interface="torch"), SHOTS)
    weights = torch.tensor(WEIGHTS, requires_grad=True)
    with torch.no_grad():
        assert _experiments(dev, lambda: qnode(weights)) == (1, 2)
    # ... and backward() is one more job for all the shifted tapes.
    jobs, experiments = _experiments(dev, lambda: qnode(weights).backward())
    assert (jobs, experiments) == (2, 2 + 6 * 2 * 2)
    assert weights.grad.shape == (6,)


def test_an_optimizer_step_is_the_forward_job_and_one_gradient_job(make_device, job_count):
    qnode = qml.set_shots(qml.QNode(cost, make_device(3)), SHOTS)
    opt = qml.GradientDescentOptimizer(0.1)
    before = job_count()
    opt.step_and_cost(qnode, pnp.array(WEIGHTS, requires_grad=True))
    assert job_count() - before == 2


def test_best_resolves_to_pennylanes_parameter_shift(make_device):
    qnode = qml.set_shots(qml.QNode(cost, make_device(3)), 10)
    assert qml.workflow.get_best_diff_method(qnode)(WEIGHTS) == "parameter-shift"


def test_a_torch_layer_evaluation_runs_each_input_once(make_device):
    # Regression: a validation pass of a TorchLayer ran every shifted copy (800 instead of 32).
    torch = pytest.importorskip("torch")
    dev = make_device(2)

    def circuit(inputs, weights):
        qml.AngleEmbedding(inputs, wires=[0, 1])
        qml.BasicEntanglerLayers(weights, wires=[0, 1])
        return qml.expval(qml.Z(0)), qml.expval(qml.X(1))  # one basis: Z on 0, X on 1

    qnode = qml.set_shots(qml.QNode(circuit, dev, interface="torch"), SHOTS)
    layer = qml.qnn.TorchLayer(qnode, {"weights": (3, 2)})
    inputs = torch.rand(16, 2)
    layer.eval()
    with torch.no_grad():
        assert _experiments(dev, lambda: layer(inputs)) == (1, 16)
    # Without no_grad too: the weights are trainable, but a forward pass is still a forward pass.
    assert _experiments(dev, lambda: layer(inputs)) == (1, 16)
