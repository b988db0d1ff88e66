"""PennyLane on QPI QPUs: the ``qpi.remote`` device and the OpenQASM 3 it sends.

```python
import pennylane as qml
import qpi_pennylane

dev = qml.device("qpi.remote", wires=2, backend="mock")
tape = qml.tape.QuantumScript([qml.RX(0.3, 0), qml.CNOT([0, 1])], [qml.expval(qml.Z(1))])
print(qpi_pennylane.dumps(tape, dev))  # the parametric program the device sends
```

This package is imported whenever a [`QPIClient`][qpi.client.QPIClient] loads its plugins, so it
imports
PennyLane only when one of its names is used.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from qpi.lazy import lazy_exports

if TYPE_CHECKING:
    from pennylane.tape import QuantumScript

    from qpi.payload import JobPayload
    from qpi_pennylane.device import QPIDevice

__all__ = ["QPIDevice", "dumps", "preprocess", "to_payload"]


# Lazy, so that `import qpi_pennylane.plugin` (on every client creation) stays cheap.
__getattr__, __dir__ = lazy_exports(
    __name__, {"QPIDevice": "qpi_pennylane.device"}, extra="pennylane"
)


def preprocess(tape: QuantumScript, device: QPIDevice | None = None) -> tuple[list, Any]:
    """Apply the device's preprocessing to one tape.

    Args:
        tape: The tape, as a QNode would build it.
        device: The device whose preprocessing to apply; by default an offline ``qpi.remote``
            device on the tape's wires (integer labels sorted). No connection is made.

    Returns:
        The tapes the device would run, and the function that turns their results into the
        tape's result.
    """
    from pennylane.devices import ExecutionConfig

    device = device if device is not None else _offline_device(tape)
    if not tape.shots and device.shots:
        tape = tape.copy(shots=device.shots)
    config = device.setup_execution_config(ExecutionConfig(), tape)
    tapes, postprocess = device.preprocess_transforms(config)((tape,))
    return list(tapes), postprocess


def dumps(tape: QuantumScript, device: QPIDevice | None = None) -> str:
    """The OpenQASM 3 program the device sends for ``tape``, after its own preprocessing.

    The program is parametric: every gate parameter is an ``input float[64]``, and the tape's
    values travel beside it as a row of ``parameter_values``.

    Args:
        tape: The tape (shots do not change the program; a tape without shots is allowed).
        device: The device whose preprocessing and wire order to use (default: an offline
            device on the tape's wires).

    Returns:
        The exact program text.

    Raises:
        ValidationError: If preprocessing turns the tape into several different programs
            (non-commuting observables); [`to_payload`][qpi_pennylane.to_payload] gives all of them.
    """
    from qpi.errors import ValidationError
    from qpi_pennylane.batch import JobPlan

    device = device if device is not None else _offline_device(tape)
    if not tape.shots and not device.shots:
        tape = tape.copy(shots=1)
    tapes, _ = preprocess(tape, device)
    texts = list(dict.fromkeys(c.circuit for c in JobPlan(tapes, device.wires).payload().circuits))
    if len(texts) != 1:
        raise ValidationError(
            f"the tape becomes {len(texts)} different programs (its observables do not all "
            "commute); use qpi_pennylane.to_payload(tape).circuits to see each of them"
        )
    return texts[0]


def to_payload(
    tapes: QuantumScript | list[QuantumScript],
    device: QPIDevice | None = None,
    qpu_target: str = "",
) -> JobPayload:
    """The job the device submits to execute ``tapes`` (one job for all of them).

    Args:
        tapes: One tape or a list of tapes, with shots (or a device with default shots).
        device: The device whose preprocessing and wire order to use (default: an offline
            device on the first tape's wires).
        qpu_target: The QPU record id to put in the payload.

    Returns:
        The [`JobPayload`][qpi.payload.JobPayload].
    """
    from qpi_pennylane.batch import JobPlan

    batch = [tapes] if not isinstance(tapes, list | tuple) else list(tapes)
    device = device if device is not None else _offline_device(batch[0])
    expanded = [t for tape in batch for t in preprocess(tape, device)[0]]
    return JobPlan(expanded, device.wires).payload(qpu_target)


def _offline_device(tape: QuantumScript) -> QPIDevice:
    from qpi_pennylane.device import QPIDevice

    labels = list(tape.wires)
    if all(isinstance(w, int) for w in labels):
        labels.sort()
    return QPIDevice(wires=labels or None)
