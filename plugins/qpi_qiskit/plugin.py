"""Hook implementations registered through the qpi entry point (``qiskit = "qpi_qiskit.plugin"``).

This module is imported whenever a :class:`~qpi.QPIClient` is created, so it imports nothing
of Qiskit at module level (``qpi_qiskit/__init__.py`` is lazy for the same reason):

* translating a circuit needs Qiskit only when the object in hand is a Qiskit circuit, and
  an object cannot be one unless Qiskit is already in ``sys.modules``;
* ``client.get_backend`` and ``client.job`` ask for Qiskit handles, so they import Qiskit
  when it is installed, and leave the answer to the core otherwise.
"""

from __future__ import annotations

import importlib.util
import sys
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

from qpi.hooks import TranslatedCircuit, hookimpl

if TYPE_CHECKING:
    from qpi.client import QPIClient
    from qpi.result import ExperimentResult

#: The ``plugin`` name of the entries this plugin translates.
_PLUGIN_NAME = "qiskit"


def _qiskit_installed() -> bool:
    return "qiskit" in sys.modules or importlib.util.find_spec("qiskit") is not None


@hookimpl
def qpi_translate_circuit(
    obj: Any, parameter_values: Any, options: Mapping[str, Any]
) -> TranslatedCircuit | None:
    """Translate a Qiskit ``QuantumCircuit`` for :meth:`QPIClient.run`.

    ``parameter_values`` are the circuit's bindings: rows in ``circuit.parameters`` order,
    mappings keyed by ``Parameter`` or name, or one of those for a single binding.
    """
    qiskit = sys.modules.get("qiskit")
    if qiskit is None or not isinstance(obj, qiskit.QuantumCircuit):
        return None
    from qpi_qiskit.convert import translate

    return translate(obj, parameter_values)


@hookimpl
def qpi_native_result(
    experiments: Sequence[ExperimentResult], translated: TranslatedCircuit
) -> Any:
    """Turn one Qiskit circuit's experiments into a ``qiskit.result.Result``.

    The result holds one experiment per parameter row, with the circuit's header.
    """
    if translated.plugin != _PLUGIN_NAME:
        return None
    from qpi.payload import JobPayload
    from qpi.result import JobResult
    from qpi_qiskit.result import build_result

    # Only the experiments are at hand here, not the job: read the measurement level off them.
    level = 2 if any(exp.counts is not None for exp in experiments) else 1
    averaged = level == 1 and any(_averaged(exp) for exp in experiments)
    payload = JobPayload(
        (translated.payload,), meas_level=level, meas_return="avg" if averaged else "single"
    )
    shell = JobResult("", payload, list(experiments))
    layout = translated.context.get("layout")
    layouts = [layout] * (max((exp.circuit for exp in experiments), default=0) + 1)
    return build_result(shell, layouts, backend_name="qpi")


def _averaged(exp: ExperimentResult) -> bool:
    """Whether IQ memory is one averaged shot (the driver's ``(1, clbits, 2)``) of many."""
    memory = exp.memory
    return (
        exp.shots > 1
        and isinstance(memory, list)
        and len(memory) == 1
        and isinstance(memory[0], list)
        and bool(memory[0])
        and isinstance(memory[0][0], list)
    )


@hookimpl
def qpi_get_backend(client: QPIClient, name: str, options: Mapping[str, Any]) -> Any:
    """A ``QPIBackend`` for the QPU ``name`` (a name or an id), when Qiskit is installed."""
    if not _qiskit_installed():
        return None
    from qpi_qiskit.backend import QPIBackend

    return QPIBackend(client, name=name, **dict(options))


@hookimpl
def qpi_get_job(client: QPIClient, job_id: str) -> Any:
    """A ``QPIJob`` for an existing job, with its result headers, when Qiskit is installed."""
    if not _qiskit_installed():
        return None
    from qpi_qiskit.job import QPIJob

    return QPIJob.from_id(client, job_id)
