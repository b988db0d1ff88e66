"""Whether circuits fit a QPU, checked before anything is sent.

A circuit wider than the QPU, or asking for more shots than it runs, would only come back as a
failed job (after a queue wait, and on a real installation after paying for the submission).
The QPU record says how many qubits it has (``num_qubits``) and may say how many shots one
circuit may run (``max_shots``); the plugins check every circuit of a job against both with
[`check_fits`][qpi.qpu_limits.check_fits] and raise a
[`ValidationError`][qpi.errors.ValidationError] instead.
"""

from __future__ import annotations

import numbers
from collections.abc import Iterable, Mapping
from typing import Any

from qpi.errors import ValidationError

__all__ = ["check_fits", "qpu_limit"]


def qpu_limit(record: Mapping[str, Any], field: str) -> int | None:
    """A positive integer limit of a QPU record (``num_qubits``, ``max_shots``), if it has one."""
    value = record.get(field)
    if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value < 1:
        return None
    return int(value)


def check_fits(record: Mapping[str, Any], circuits: Iterable[tuple[str, int, int]]) -> None:
    """Raise if a circuit needs more qubits or shots than the QPU offers.

    Args:
        record: The QPU record (``client.get_qpu(...)``); limits it does not state are not
            checked.
        circuits: ``(label, qubits, shots)`` per circuit; the label names the circuit in the
            message (``"circuit 2"``, ``"tape 0"``).

    Raises:
        ValidationError: For the first circuit that does not fit, with both numbers.
    """
    name = record.get("name") or record.get("id") or "the QPU"
    max_qubits = qpu_limit(record, "num_qubits")
    max_shots = qpu_limit(record, "max_shots")
    for label, qubits, shots in circuits:
        if max_qubits is not None and qubits > max_qubits:
            raise ValidationError(
                f"{label} uses {qubits} qubits but QPU {name!r} has {max_qubits}; use fewer "
                "qubits or a larger QPU"
            )
        if max_shots is not None and shots > max_shots:
            raise ValidationError(
                f"{label} asks for {shots} shots but QPU {name!r} runs at most {max_shots} "
                "per circuit; lower the shots or split the work"
            )
