"""Hook implementations registered through the qpi entry point (``qiskit = "qpi_qiskit.plugin"``).

This module is imported whenever a [`QPIClient`][qpi.client.QPIClient] is created, so it imports
nothing
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
    from qpi.result import ExperimentResult, JobResult

#: The ``plugin`` name of the entries this plugin translates.
_PLUGIN_NAME = "qiskit"


def _qiskit_installed() -> bool:
    return "qiskit" in sys.modules or importlib.util.find_spec("qiskit") is not None


@hookimpl
def qpi_translate_circuit(
    obj: Any, parameter_values: Any, options: Mapping[str, Any]
) -> TranslatedCircuit | None:
    """Translate a Qiskit ``QuantumCircuit`` for [`QPIClient.run`][qpi.client.QPIClient.run].

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
    experiments: Sequence[ExperimentResult], translated: TranslatedCircuit, result: JobResult
) -> Any:
    """Turn one Qiskit circuit's experiments into a ``qiskit.result.Result``.

    The result holds one experiment per parameter row, with the circuit's header, and the
    job's id, measurement options and backend.
    """
    if translated.plugin != _PLUGIN_NAME:
        return None
    from qpi.result import JobResult
    from qpi_qiskit.result import build_result

    # The job's own result, narrowed to this circuit's experiments.
    shell = JobResult(result.job_id, result.payload, list(experiments), dict(result.metadata))
    layout = translated.context.get("layout")
    layouts = [layout] * len(result.payload.circuits)
    return build_result(shell, layouts, backend_name=str(result.metadata.get("backend", "qpi")))


@hookimpl
def qpi_get_backend(client: QPIClient, name: str, options: Mapping[str, Any]) -> Any:
    """A ``QPIBackend`` for the QPU ``name`` (a name or an id), when Qiskit is installed."""
    if not _qiskit_installed():
        return None
    from qpi_qiskit.backend import QPIBackend

    return QPIBackend(client, name=name, **dict(options))


@hookimpl
def qpi_get_job(client: QPIClient, job_id: str) -> Any:
    """A ``QPIJob`` for an existing job, with its result headers, when Qiskit is installed.

    A job a Qiskit primitive sent comes back as the primitive's job instead, whose
    ``result()`` is the ``PrimitiveResult``.
    """
    if not _qiskit_installed():
        return None
    from qpi_qiskit.job import QPIJob

    job = QPIJob.from_id(client, job_id)
    return job.primitive_job() or job
