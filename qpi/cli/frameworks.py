"""The demo's circuit, written natively in each framework and run through its qpi plugin.

Each runner builds a GHZ state on ``qubits`` qubits (a Bell state for two) the way a user of
that framework would, runs it with ``shots`` shots on the QPU named ``"mock"`` through the
given client, and returns the counts as ``{bitstring: count}``. Frameworks are imported only
inside the runners, so importing this module costs nothing.
"""

from __future__ import annotations

import importlib
import importlib.util
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from qpi.client import QPIClient

__all__ = ["FRAMEWORKS", "Framework", "run_cirq", "run_pennylane", "run_qiskit"]

QPU = "mock"
"""The QPU the demo runs on (a built-in QPU of the local orchestrator)."""


def run_qiskit(client: QPIClient, qubits: int, shots: int) -> dict[str, int]:
    """Run the GHZ circuit as a Qiskit ``QuantumCircuit`` on ``client.get_backend("mock")``.

    Args:
        client: The client to run through.
        qubits: Number of qubits (2 for a Bell state).
        shots: Number of shots.
    """
    from qiskit import QuantumCircuit

    circuit = QuantumCircuit(qubits, qubits)
    circuit.h(0)
    for qubit in range(qubits - 1):
        circuit.cx(qubit, qubit + 1)
    circuit.measure(range(qubits), range(qubits))
    backend = client.get_backend(QPU)
    counts = backend.run(circuit, shots=shots).result().get_counts()
    return {str(key): int(value) for key, value in counts.items()}


def run_pennylane(client: QPIClient, qubits: int, shots: int) -> dict[str, int]:
    """Run the GHZ circuit as a PennyLane QNode returning ``qml.counts()`` on ``qpi.remote``.

    Args:
        client: The client to run through.
        qubits: Number of qubits (2 for a Bell state).
        shots: Number of shots.
    """
    import pennylane as qml

    device = qml.device("qpi.remote", wires=qubits, backend=QPU, client=client)

    @qml.set_shots(shots)
    @qml.qnode(device)
    def ghz() -> object:
        qml.Hadamard(0)
        for wire in range(qubits - 1):
            qml.CNOT([wire, wire + 1])
        return qml.counts()

    counts = ghz()
    return {str(key): int(value) for key, value in counts.items() if int(value)}


def run_cirq(client: QPIClient, qubits: int, shots: int) -> dict[str, int]:
    """Run the GHZ circuit as a ``cirq.Circuit`` with ``QPISampler.run``.

    Args:
        client: The client to run through.
        qubits: Number of qubits (2 for a Bell state).
        shots: Number of shots (Cirq's repetitions).
    """
    import cirq
    from qpi_cirq import QPISampler

    line = cirq.LineQubit.range(qubits)
    circuit = cirq.Circuit(
        cirq.H(line[0]),
        *(cirq.CNOT(line[i], line[i + 1]) for i in range(qubits - 1)),
        cirq.measure(*line, key="m"),
    )
    result = QPISampler(client=client, backend=QPU).run(circuit, repetitions=shots)
    histogram = result.histogram(key="m")  # first qubit is the most significant bit
    return {format(int(key), f"0{qubits}b"): int(value) for key, value in histogram.items()}


@dataclass(frozen=True)
class Framework:
    """A framework the demo runs on.

    Attributes:
        name: Its display name (``"Qiskit"``).
        module: The framework's package (``"qiskit"``).
        plugin: The qpi plugin package (``"qpi_qiskit"``).
        extra: The ``qpi-sdk`` extra that installs both (``"qiskit"``).
        distribution: The distribution whose version is shown (``"qiskit"``).
        run: The runner: ``run(client, qubits, shots) -> counts``.
    """

    name: str
    module: str
    plugin: str
    extra: str
    distribution: str
    run: Callable[[QPIClient, int, int], dict[str, int]]

    def missing(self) -> str | None:
        """Why the framework cannot run here (``None`` if it can)."""
        for package in (self.module, self.plugin):
            try:
                found = importlib.util.find_spec(package) is not None
            except (ImportError, ValueError):
                found = False
            if not found:
                return f"{package} is not installed (pip install 'qpi-sdk[{self.extra}]')"
        return None

    def load(self) -> str:
        """Import the framework and its plugin; returns the framework's version."""
        importlib.import_module(self.module)
        importlib.import_module(self.plugin)
        from importlib.metadata import PackageNotFoundError, version

        try:
            return version(self.distribution)
        except PackageNotFoundError:
            return "?"


FRAMEWORKS: tuple[Framework, ...] = (
    Framework("Qiskit", "qiskit", "qpi_qiskit", "qiskit", "qiskit", run_qiskit),
    Framework("PennyLane", "pennylane", "qpi_pennylane", "pennylane", "pennylane", run_pennylane),
    Framework("Cirq", "cirq", "qpi_cirq", "cirq", "cirq-core", run_cirq),
)
"""The frameworks, in the order the demo shows them."""
