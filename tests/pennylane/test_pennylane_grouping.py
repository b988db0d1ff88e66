"""Which measurements share one run, and the basis-order eigenvalues of sums."""

from __future__ import annotations

import numpy as np
import pennylane as qml
import pytest
from qpi_pennylane.grouping import measurable_together
from qpi_pennylane.transforms import diagonalize_remaining


@pytest.mark.parametrize(
    ("measurements", "together"),
    [
        ([qml.expval(qml.X(0) @ qml.Z(1)), qml.expval(qml.X(0)), qml.probs(wires=[1])], True),
        ([qml.expval(qml.X(0)), qml.probs(wires=[0])], False),
        ([qml.var(qml.Z(0) + qml.Z(1)), qml.sample(wires=[0, 1])], True),
        ([qml.expval(qml.X(0) + qml.Z(0))], False),
        ([qml.expval(qml.Hermitian(np.eye(2), 0)), qml.expval(qml.X(1))], True),
        ([qml.expval(qml.Hermitian(np.eye(2), 0)), qml.expval(qml.Z(0))], False),
        ([qml.sample()], False),
    ],
)
def test_measurable_together(measurements, together):
    assert measurable_together(measurements) is together


def test_sums_get_their_eigenvalues_in_basis_order():
    obs = 0.5 * qml.Z(0) @ qml.Z(2) - qml.Z(2) + 0.25 * qml.I(1)
    tape = qml.tape.QuantumScript([], [qml.var(obs), qml.counts(obs)], shots=10)
    (new,), _ = diagonalize_remaining(tape)
    want = np.real(np.diag(qml.matrix(obs, wire_order=obs.wires)))
    for mp in new.measurements:
        assert mp.obs is None
        np.testing.assert_allclose(mp.eigvals(), want)


def test_a_hermitian_observable_is_rotated_and_keeps_its_eigenvalues():
    matrix = np.array([[1.0, 2.0], [2.0, -1.0]])
    tape = qml.tape.QuantumScript([], [qml.expval(qml.Hermitian(matrix, 1))], shots=10)
    (new,), _ = diagonalize_remaining(tape)
    assert new.operations  # the diagonalizing gates
    np.testing.assert_allclose(sorted(new.measurements[0].eigvals()), [-np.sqrt(5), np.sqrt(5)])
