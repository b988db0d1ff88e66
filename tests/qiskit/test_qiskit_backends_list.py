"""``client.backends()`` filters the QPUs as ``QiskitRuntimeService.backends`` does."""

from __future__ import annotations

import uuid

from qpi_qiskit import QPIBackend

from qpi import QPIClient


def test_backends_lists_the_online_qpus_as_qiskit_backends(client: QPIClient) -> None:
    backends = client.backends()
    assert backends and all(isinstance(b, QPIBackend) for b in backends)
    online = {q["name"] for q in client.list_qpus()}
    assert {b.name for b in backends} == online
    assert [b.name for b in client.backends(name="mock")] == ["mock"]
    assert client.backends(name="no-such-qpu") == []
    assert client.backends(min_num_qubits=10_000) == []


def test_operational_false_lists_the_offline_ones(client: QPIClient, admin: QPIClient) -> None:
    name = f"parked-{uuid.uuid4().hex[:6]}"
    admin.create_qpu(name, enabled=False)
    assert name in [b.name for b in client.backends(operational=False)]
    assert name not in [b.name for b in client.backends()]
    assert name in [b.name for b in client.backends(operational=None)]
