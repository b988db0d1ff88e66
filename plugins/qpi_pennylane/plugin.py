"""Hook implementations registered through the ``qpi`` entry point.

They let the core client run a PennyLane tape directly::

    job = client.run(tape, shots=1000, qpu="mock")
    job.native_results()[0]  # the tape's result, in PennyLane's shape

This module is imported on every [`QPIClient`][qpi.client.QPIClient] creation, so it imports
PennyLane
only once an object proves to be a PennyLane tape.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

from qpi.hooks import TranslatedCircuit, hookimpl

if TYPE_CHECKING:
    from qpi.result import ExperimentResult

__all__ = ["qpi_native_result", "qpi_translate_circuit"]

#: The ``plugin`` name carried by this plugin's translations.
PLUGIN_NAME = "pennylane"


def _is_tape(obj: Any) -> bool:
    # Checked by class name and module, so no PennyLane import is needed to say "not mine".
    return any(
        cls.__name__ == "QuantumScript" and cls.__module__.startswith("pennylane")
        for cls in type(obj).__mro__
    )


@hookimpl
def qpi_translate_circuit(
    obj: Any, parameter_values: Any, options: Mapping[str, Any]
) -> TranslatedCircuit | None:
    """Translate a PennyLane tape (``QuantumScript``) into one parametric circuit entry.

    The tape goes through the ``qpi.remote`` device's preprocessing first. The tape carries
    its own values, so ``parameter_values`` must be ``None``; a broadcast tape becomes one
    row per value.

    Raises:
        ValidationError: If values are passed beside the tape, or preprocessing splits the
            tape into several different programs (use the device for those).
    """
    if not _is_tape(obj):
        return None
    from qpi.errors import ValidationError
    from qpi_pennylane import _offline_device, preprocess
    from qpi_pennylane.batch import JobPlan

    if parameter_values is not None:
        raise ValidationError(
            "a PennyLane tape carries its own parameter values; bind them into the tape "
            "(tape.bind_new_parameters) or broadcast them, instead of passing parameter_values"
        )
    job_shots = int(options.get("shots") or 1024)
    tape = obj if obj.shots else obj.copy(shots=job_shots)
    device = _offline_device(tape)
    tapes, postprocess = preprocess(tape, device)
    plan = JobPlan(tapes, device.wires)
    if len(plan.entries) != 1:
        raise ValidationError(
            f"this tape runs as {len(plan.entries)} circuits (non-commuting observables or a "
            "shot vector of mixed sizes); run it with qml.device('qpi.remote', ...), which "
            "sends them all in one job"
        )
    payload = plan.entries[0].to_payload(job_shots)
    context = {"plan": plan, "postprocess": postprocess}
    return TranslatedCircuit(payload, plugin=PLUGIN_NAME, context=context)


@hookimpl
def qpi_native_result(
    experiments: Sequence[ExperimentResult], translated: TranslatedCircuit
) -> Any:
    """The tape's result, in PennyLane's shape, from its circuit's experiments."""
    if translated.plugin != PLUGIN_NAME:
        return None
    plan = translated.context["plan"]
    digest = hashlib.sha256(translated.payload.circuit.encode()).hexdigest()
    results = plan.assemble([(0, exp) for exp in experiments], (int(digest[:16], 16),))
    return translated.context["postprocess"](results)[0]
