"""Hook implementations registered through the qpi entry point (``cirq = "qpi_cirq.plugin"``).

This module is imported whenever a [`QPIClient`][qpi.client.QPIClient] is created, so it imports
nothing
of Cirq at module level: a hook looks for Cirq in ``sys.modules`` (an object cannot be a Cirq
circuit unless Cirq is already imported) and only then imports the converter.
"""

from __future__ import annotations

import sys
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

from qpi.hooks import TranslatedCircuit, hookimpl

if TYPE_CHECKING:
    from qpi.result import ExperimentResult

#: Must equal ``qpi_cirq.convert.PLUGIN_NAME`` (not imported here, to keep this module light).
_PLUGIN_NAME = "cirq"


@hookimpl
def qpi_translate_circuit(
    obj: Any, parameter_values: Any, options: Mapping[str, Any]
) -> TranslatedCircuit | None:
    """Translate a ``cirq.Circuit`` (or ``FrozenCircuit``) for `QPIClient.run`.

    ``parameter_values`` is a ``cirq.Sweepable`` (a resolver, a dict, a sweep, or a list of
    them) or rows of values in sorted-symbol-name order; each point is one row of the entry.
    """
    cirq = sys.modules.get("cirq")
    if cirq is None or not isinstance(obj, cirq.AbstractCircuit):
        return None
    from qpi_cirq.sweeps import translate

    return translate(obj, parameter_values)


@hookimpl
def qpi_native_result(
    experiments: Sequence[ExperimentResult], translated: TranslatedCircuit
) -> Any:
    """Turn a Cirq circuit's experiments into a list of ``cirq.ResultDict``, one per point."""
    if translated.plugin != _PLUGIN_NAME:
        return None
    from qpi_cirq.results import to_results

    context = translated.context
    return to_results(experiments, context["layout"], context["resolvers"], context.get("seed"))
