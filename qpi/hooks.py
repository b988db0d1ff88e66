"""Plugin hooks: how framework adapters plug into the core.

The core knows no quantum framework. Plugins implement these pluggy hooks and register through
the ``qpi`` entry-point group (see ``pyproject.toml``); each [`QPIClient`][qpi.client.QPIClient]
has its own plugin manager holding the installed plugins. (The cache is not a plugin: it is a
[`Store`][qpi.cache.Store] the job runner asks; ``qpi_job_started`` lets a plugin observe
which jobs ran and which the cache answered.)

Plugin modules are imported when a client is created, so they must not import their framework
at module level: import it inside the hook, once the object in hand proves it is needed.

Example:
    A plugin for a toy circuit type::

        from qpi.hooks import hookimpl, TranslatedCircuit

        @hookimpl
        def qpi_translate_circuit(obj, parameter_values, options):
            if not isinstance(obj, ToyCircuit):
                return None
            return TranslatedCircuit(CircuitPayload(obj.to_qasm()), plugin="toy")
"""

from __future__ import annotations

import warnings
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import pluggy

from qpi.payload import CircuitPayload

if TYPE_CHECKING:
    from qpi.client import QPIClient
    from qpi.result import ExperimentResult, JobResult

__all__ = [
    "ENTRY_POINT_GROUP",
    "PROJECT",
    "QPIHookSpec",
    "QPIPluginWarning",
    "TranslatedCircuit",
    "hookimpl",
    "hookspec",
    "make_plugin_manager",
]

#: The pluggy project name; hook implementations use ``pluggy.HookimplMarker(PROJECT)``.
PROJECT = "qpi"
#: The entry-point group plugins register under.
ENTRY_POINT_GROUP = "qpi"

hookspec = pluggy.HookspecMarker(PROJECT)
hookimpl = pluggy.HookimplMarker(PROJECT)


class QPIPluginWarning(UserWarning):
    """An installed plugin failed to load and was skipped."""


@dataclass(frozen=True)
class TranslatedCircuit:
    """A native circuit turned into one wire entry.

    Attributes:
        payload: The circuit entry to send (QASM text, parameter rows, shots).
        plugin: Name of the plugin that translated it (e.g. ``"qiskit"``).
        context: Whatever the plugin needs later to rebuild a native result (register
            layout, measurement keys, parameter bindings). Never sent.
    """

    payload: CircuitPayload
    plugin: str
    context: Mapping[str, Any] = field(default_factory=dict)


class QPIHookSpec:
    """The hook specifications. Implement any subset; unimplemented hooks are skipped."""

    # -- framework adapters --------------------------------------------------------------------

    @hookspec(firstresult=True)
    def qpi_translate_circuit(
        self, obj: Any, parameter_values: Any, options: Mapping[str, Any]
    ) -> TranslatedCircuit | None:
        """Translate a native circuit and its parameter bindings into a wire entry.

        The first plugin that recognises ``obj`` answers; the others return ``None``.

        Args:
            obj: The object passed to [`QPIClient.run`][qpi.client.QPIClient.run] (a Qiskit
                ``QuantumCircuit``,
                a Cirq ``Circuit``, ...).
            parameter_values: The bindings given for this circuit: ``None``, a list of rows,
                or a list of mappings, in whatever form the framework uses.
            options: Run options (``shots``, ``meas_level``, ...) as given to ``run``.

        Returns:
            The translation, or ``None`` if this plugin does not handle ``obj``.
        """

    @hookspec(firstresult=True)
    def qpi_native_result(
        self,
        experiments: Sequence[ExperimentResult],
        translated: TranslatedCircuit,
        result: JobResult,
    ) -> Any:
        """Turn one circuit's experiments back into the framework's result type.

        Args:
            experiments: The circuit's experiments, one per parameter row.
            translated: What [`qpi_translate_circuit`][qpi.hooks.QPIHookSpec.qpi_translate_circuit]
                returned for the circuit.
            result: The whole job's result (job id, payload with the measurement options,
                metadata); implementations that need none of it may leave it out.

        Returns:
            The native result, or ``None`` if ``translated`` is not this plugin's.
        """

    @hookspec(firstresult=True)
    def qpi_get_backend(self, client: QPIClient, name: str, options: Mapping[str, Any]) -> Any:
        """Return a backend object for the QPU ``name`` (a name or a record id).

        Backs [`QPIClient.get_backend`][qpi.client.QPIClient.get_backend]; the Qiskit plugin returns
        a ``QPIBackend``.
        """

    @hookspec(firstresult=True)
    def qpi_get_job(self, client: QPIClient, job_id: str) -> Any:
        """Return a framework job handle for an existing job id.

        Backs [`QPIClient.job`][qpi.client.QPIClient.job]; the Qiskit plugin returns a ``QPIJob``.
        """

    # -- observing the lifecycle ----------------------------------------------------------------

    @hookspec
    def qpi_job_started(self, job_id: str, fingerprint: str, from_cache: bool) -> None:
        """Called once per job a submission runs as, when it starts.

        Args:
            job_id: The job's id (for a cache answer, the job that produced the result).
            fingerprint: The fingerprint of the job's payload.
            from_cache: Whether the cache answered (no job was submitted).
        """


def make_plugin_manager(load_entry_points: bool = True) -> pluggy.PluginManager:
    """Create a plugin manager with the hook specs and the installed plugins.

    A plugin whose module fails to import is reported with a
    [`QPIPluginWarning`][qpi.hooks.QPIPluginWarning]
    (naming the plugin and the error) and skipped; it never breaks the core.

    Args:
        load_entry_points: Load plugins from the ``qpi`` entry-point group.
    """
    pm = pluggy.PluginManager(PROJECT)
    pm.add_hookspecs(QPIHookSpec)
    if load_entry_points:
        _load_entry_points(pm)
    return pm


def _load_entry_points(pm: pluggy.PluginManager) -> None:
    from importlib.metadata import entry_points

    for ep in entry_points(group=ENTRY_POINT_GROUP):
        if pm.get_plugin(ep.name) is not None or pm.is_blocked(ep.name):
            continue
        try:
            plugin = ep.load()
            pm.register(plugin, name=ep.name)
        except Exception as exc:  # noqa: BLE001 - a broken plugin must not break the core
            # Attributed to this line (stacklevel 1), so the default warning filter shows it
            # once per message, i.e. once per broken plugin, however many clients are made.
            warnings.warn(
                f"qpi plugin {ep.name!r} ({ep.value}) failed to load and was skipped: "
                f"{type(exc).__name__}: {exc}",
                QPIPluginWarning,
                stacklevel=1,
            )
