"""Circuits shared by the PennyLane tests: a 3-qubit ansatz and a Hamiltonian of two bases."""

from __future__ import annotations

import numpy as np
import pennylane as qml


def ansatz(weights):
    for i in range(3):
        qml.RY(weights[i], wires=i)
    qml.CNOT(wires=[0, 1])
    qml.CNOT(wires=[1, 2])
    for i in range(3):
        qml.RX(weights[3 + i], wires=i)
    qml.CNOT(wires=[2, 0])


HAMILTONIAN = qml.Hamiltonian([0.5, -0.3, 0.2], [qml.Z(0) @ qml.Z(1), qml.X(2), qml.Y(0)])
WEIGHTS = np.array([0.3, -0.8, 1.1, 0.5, -0.2, 0.9])


def cost(weights):
    ansatz(weights)
    return qml.expval(HAMILTONIAN)
