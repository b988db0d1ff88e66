"""``QPIBackend``: a Qiskit ``BackendV2`` for one QPU behind a QPI orchestrator."""

from __future__ import annotations

import numbers
import warnings
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

from qiskit import QuantumCircuit
from qiskit.providers import BackendV2, Options
from qiskit.transpiler import Target

import qpi
from qpi import errors
from qpi.hooks import TranslatedCircuit
from qpi.payload import MEAS_LEVELS, MEAS_RETURNS, CircuitPayload, assemble
from qpi_qiskit.convert import translate
from qpi_qiskit.job import QPIJob
from qpi_qiskit.layout import Layout
from qpi_qiskit.target import CONTROL_FLOW_QPUS, build_target, flow_ops

if TYPE_CHECKING:
    from qpi.client import QPIClient
    from qpi_qiskit.primitive_job import QPIPrimitiveJob

__all__ = ["DEFAULT_NAME", "QPIBackend"]

#: The original client's default backend name; it names no QPU, so it means "any online QPU".
DEFAULT_NAME = "qpi"
#: Options a run takes besides these: ``params`` (an alias of ``parameter_values``).
_OPTIONS = ("shots", "meas_level", "meas_return", "memory", "parameter_values")
#: Simulator options other backends take; accepted and ignored (with a warning when set).
_SIMULATOR_ONLY = frozenset(
    {"seed_simulator", "noise_model", "method", "max_parallel_threads",
     "max_parallel_experiments", "max_parallel_shots"}
)  # fmt: skip


class QPIBackend(BackendV2):
    """A Qiskit backend for a QPU of a QPI orchestrator.

    The QPU is looked up once, by name or by record id, and every job is sent with the QPU's
    record id as its target. The [`target`][qpi_qiskit.target] lists the OpenQASM 3 standard gates,
    ``measure``, ``reset`` and ``barrier`` on all-to-all qubits, so ``transpile(qc, backend)``
    and ``generate_preset_pass_manager(backend=backend)`` work.

    With the default name ``"qpi"`` (which names no QPU) the backend falls back to the
    default QPU (see [`resolve_qpu`][qpi.client.QPIClient.resolve_qpu]); any other name that
    matches no QPU raises ``NotFoundError``. A QPU record with 0 qubits gives a Target of
    unknown width (each circuit keeps its own), with a warning.

    Args:
        client: An authenticated [`qpi.QPIClient`][qpi.client.QPIClient].
        name: A QPU name (e.g. ``"mock"``) or record id.
        **kwargs: Option defaults (``shots``, ``meas_level``, ``meas_return``, ``memory``,
            ``parameter_values``); ``num_qubits`` for a QPU whose record does not say how
            many qubits it has; ``control_flow`` (``True``/``False``) to say whether the QPU
            runs feed-forward (default: QPUs named ``qiskit_aer`` do, see ``qpi_qiskit.target``).

    Raises:
        NotFoundError: If no QPU has that name or id.
        ValidationError: For unknown options, or when the qubit count is unknown.

    Example:
        ```python
        backend = client.get_backend("mock")
        job = backend.run(transpile(circuit, backend), shots=2000)
        print(job.result().get_counts())
        ```
    """

    def __init__(self, client: QPIClient, name: str = DEFAULT_NAME, **kwargs: Any) -> None:
        num_qubits = kwargs.pop("num_qubits", None)
        control_flow = kwargs.pop("control_flow", None)
        record = _find_qpu(client, name)
        qpu_name = str(record.get("name") or name)
        super().__init__(
            provider=None,
            name=qpu_name,
            description=f"QPU {qpu_name!r} ({record.get('id')}) at {client.base_url}",
            backend_version=qpi.__version__,
        )
        self._client = client
        self._qpu = dict(record)
        if control_flow is None:
            control_flow = qpu_name in CONTROL_FLOW_QPUS
        self._target = build_target(
            _qubit_count(record, num_qubits), description=qpu_name, control_flow=bool(control_flow)
        )
        if kwargs:
            self.set_options(**kwargs)

    # -- BackendV2 ------------------------------------------------------------------------------

    @classmethod
    def _default_options(cls) -> Options:
        return Options(
            shots=1024, meas_level=2, meas_return="single", memory=False, parameter_values=None
        )

    @property
    def target(self) -> Target:
        """The transpiler Target: standard gates, measure, reset, barrier; all-to-all."""
        return self._target

    @property
    def max_circuits(self) -> None:
        """No limit: every circuit of a ``run`` goes into one job."""
        return None

    def set_options(self, **fields: Any) -> None:
        """Set option defaults for later runs.

        Args:
            **fields: ``shots``, ``meas_level``, ``meas_return``, ``memory`` or
                ``parameter_values``.

        Raises:
            ValidationError: For an unknown option or an invalid value.
        """
        unknown = sorted(set(fields) - set(_OPTIONS))
        if unknown:
            raise errors.ValidationError(
                f"unknown option(s) {unknown}; QPIBackend options are {list(_OPTIONS)}"
            )
        self._options.update_options(**_checked(fields))

    # -- QPI ------------------------------------------------------------------------------------

    @property
    def client(self) -> QPIClient:
        """The client jobs are submitted through."""
        return self._client

    @property
    def qpu(self) -> dict[str, Any]:
        """The QPU record (``id``, ``name``, ``status``, ``num_qubits``, ...) as looked up."""
        return dict(self._qpu)

    @property
    def qpu_id(self) -> str:
        """The QPU's record id, sent as every job's ``qpu_target``."""
        return str(self._qpu["id"])

    def run(
        self,
        circuit: QuantumCircuit | Sequence[QuantumCircuit] | None = None,
        qasm: str | Sequence[str] | None = None,
        shots: int | None = None,
        meas_level: int | None = None,
        meas_return: str | None = None,
        parameter_values: Any = None,
        **kwargs: Any,
    ) -> QPIJob:
        """Submit circuits (or OpenQASM 3 text) as ONE job.

        Exactly one of ``circuit`` and ``qasm`` is given; ``backend.run(circuits, **options)``
        (Qiskit's positional form) passes circuits. Options left ``None`` take the backend's
        (see [`set_options`][qpi_qiskit.backend.QPIBackend.set_options]; the defaults are 1024
        shots, ``meas_level=2``,
        ``meas_return="single"``, ``memory=False``).

        Parameters stay symbolic on the wire: a parametric circuit is sent once with its rows
        and bound on the server, one experiment per row.

        Args:
            circuit: A ``QuantumCircuit`` or a list of them. Several classical registers are
                fine. Gates outside OpenQASM 3's ``stdgates.inc`` are decomposed.
            qasm: OpenQASM 3 program text (or a list of programs), sent as it is.
            shots: Shots per experiment.
            meas_level: ``2`` for counts, ``1`` for IQ memory.
            meas_return: ``"single"`` (per shot) or ``"avg"``, for ``meas_level=1``.
            parameter_values: Bindings. For one circuit: a row of values in
                ``circuit.parameters`` order, a mapping keyed by ``Parameter``, name or
                ``ParameterVector``, or a list (or 2-d array) of either for several rows.
                For a list of circuits: one such entry per circuit (``None`` for circuits
                without parameters). For ``qasm``: rows in the sorted order of the
                program's ``input`` names.
            **kwargs: ``memory`` (per-shot memory at ``meas_level=2``, synthesised from the
                counts), ``params`` (an alias of ``parameter_values``), ``run_input`` (an
                alias of ``circuit``). Simulator options such as ``seed_simulator`` are
                ignored with a warning.

        Returns:
            The job; ``job.result()`` gives one experiment per circuit and row.

        Raises:
            ValidationError: Before anything is sent: for neither or both of ``circuit`` and
                ``qasm``, unknown options, circuits without measurements or with control
                flow, too many qubits, or bindings that do not fit.
        """
        circuit = _alias(kwargs, "run_input", "circuit", circuit)
        parameter_values = _alias(kwargs, "params", "parameter_values", parameter_values)
        options = self._run_options(
            kwargs,
            shots=shots,
            meas_level=meas_level,
            meas_return=meas_return,
            parameter_values=parameter_values,
        )
        if (circuit is None) == (qasm is None):
            raise errors.ValidationError(
                "give exactly one of circuit= (a QuantumCircuit or a list of them) and qasm= "
                "(OpenQASM 3 text)"
            )
        if circuit is not None:
            entries = self._circuit_entries(circuit, options["parameter_values"])
        else:
            entries = _qasm_entries(qasm, options["parameter_values"])  # type: ignore[arg-type]
            for index, entry in enumerate(entries):
                layout = entry.context["layout"]
                if (
                    layout is not None
                    and self.num_qubits is not None
                    and layout.num_qubits > self.num_qubits
                ):
                    raise errors.ValidationError(
                        f"qasm program {index} declares {layout.num_qubits} qubits but QPU "
                        f"{self.name!r} has {self.num_qubits}; use fewer qubits or a larger QPU"
                    )
        return self.submit(
            entries,
            shots=options["shots"],
            meas_level=options["meas_level"],
            meas_return=options["meas_return"],
            memory=options["memory"],
        )

    def submit(
        self,
        entries: Sequence[TranslatedCircuit],
        *,
        shots: int,
        meas_level: int = 2,
        meas_return: str = "single",
        memory: bool = False,
    ) -> QPIJob:
        """Submit translated circuits to this backend's QPU as one job.

        `run` and [`QPISampler`][qpi_qiskit.sampler.QPISampler] build the entries; each entry's
        ``context["layout"]`` describes its registers.

        Raises:
            ValidationError: If the payload is malformed (nothing is sent).
        """
        payload = assemble(
            entries,
            shots=shots,
            meas_level=meas_level,
            meas_return=meas_return,
            qpu_target=self.qpu_id,
        )
        job = self._client.submit(payload, list(entries))
        layouts = [entry.context.get("layout") for entry in entries]
        return QPIJob(self, job, layouts, memory=memory)

    def job(self, job_id: str) -> QPIJob | QPIPrimitiveJob:
        """Retrieve a past job by id, with its result headers, from the server or the cache.

        Args:
            job_id: The server-assigned job ID.

        Returns:
            For a job of [`QPISampler`][qpi_qiskit.QPISampler] or
            [`QPIEstimator`][qpi_qiskit.QPIEstimator], the primitive's job, whose ``result()``
            is the ``PrimitiveResult``; otherwise a [`QPIJob`][qpi_qiskit.QPIJob], which
            includes per-shot memory if this backend's ``memory`` option is set.
        """
        job = QPIJob.from_id(self._client, job_id, backend=self, memory=self.options.memory)
        return job.primitive_job() or job

    def check_circuit(self, circuit: QuantumCircuit, where: str = "circuit") -> None:
        """Check that this backend's QPU can run ``circuit``, before anything is sent.

        Args:
            circuit: The circuit.
            where: How the message names the circuit (e.g. ``"PUB 2"``).

        Raises:
            ValidationError: If the circuit has more qubits than the QPU, or uses classical
                control flow the QPU's ``target`` lacks.
        """
        if not isinstance(circuit, QuantumCircuit):
            raise errors.ValidationError(
                f"{where}: expected a qiskit QuantumCircuit, got {type(circuit).__name__}"
            )
        width = self.num_qubits  # None: the QPU record does not say (its circuits decide)
        if width is not None and circuit.num_qubits > width:
            raise errors.ValidationError(
                f"{where}: circuit {circuit.name!r} uses {circuit.num_qubits} qubits but QPU "
                f"{self.name!r} has {self.num_qubits}; use fewer qubits or a larger QPU"
            )
        missing = sorted(flow_ops(circuit) - set(self._target.operation_names))
        if missing:
            raise errors.ValidationError(
                f"{where}: circuit {circuit.name!r} uses {', '.join(missing)}, but QPU "
                f"{self.name!r} cannot run classical control flow (its executor simulates "
                "without mid-circuit feed-forward); send it to a QPU whose target lists them, "
                f"such as {', '.join(CONTROL_FLOW_QPUS)}"
            )

    def __repr__(self) -> str:
        return (
            f"<QPIBackend {self.name!r} ({self.num_qubits} qubits, QPU {self.qpu_id}) "
            f"at {self._client.base_url}>"
        )

    # -- helpers --------------------------------------------------------------------------------

    def _run_options(self, extra: dict[str, Any], **given: Any) -> dict[str, Any]:
        """The backend's options overridden by the run's (validated)."""
        for name in sorted(_SIMULATOR_ONLY.intersection(extra)):
            if extra.pop(name) is not None:
                warnings.warn(
                    f"QPIBackend ignores the simulator option {name!r}: QPI QPUs take no "
                    "client-side simulator settings",
                    UserWarning,
                    stacklevel=3,
                )
        if "memory" in extra:
            given["memory"] = extra.pop("memory")
        if extra:
            raise errors.ValidationError(
                f"unknown run option(s) {sorted(extra)}; QPIBackend.run accepts circuit, qasm, "
                f"{', '.join(_OPTIONS)}, params (alias of parameter_values) and run_input "
                "(alias of circuit)"
            )
        options = {name: self.options.get(name) for name in _OPTIONS}
        options.update(_checked({k: v for k, v in given.items() if v is not None}))
        return options

    def _circuit_entries(self, circuits: Any, bindings: Any) -> list[TranslatedCircuit]:
        single = isinstance(circuits, QuantumCircuit)
        items = [circuits] if single else list(circuits)
        if not items:
            raise errors.ValidationError("run() got an empty list of circuits")
        per_circuit = [bindings] if single else _split(bindings, len(items))
        for index, item in enumerate(items):
            self.check_circuit(item, where="circuit" if single else f"circuit {index}")
        return [translate(item, b) for item, b in zip(items, per_circuit, strict=True)]


def _find_qpu(client: QPIClient, name: str | None) -> dict[str, Any]:
    if name and name != DEFAULT_NAME:
        return client.get_qpu(name)
    try:
        return client.get_qpu(DEFAULT_NAME)
    except (errors.NotFoundError, errors.CacheMissError):  # no QPU is called "qpi"
        return client.get_qpu(client.resolve_qpu(None))


def _qubit_count(record: Mapping[str, Any], given: Any) -> int | None:
    known = record.get("num_qubits")
    known = int(known) if isinstance(known, numbers.Integral) and known > 0 else None
    if given is not None and (not isinstance(given, numbers.Integral) or given < 1):
        raise errors.ValidationError(f"num_qubits must be a positive integer, got {given!r}")
    if known is not None and given is not None and int(given) != known:
        raise errors.ValidationError(
            f"QPU {record.get('name')!r} has {known} qubits; num_qubits={given} disagrees"
        )
    if known is None and given is None:
        # A real server records 0 qubits when the QPU was created without num_qubits.
        warnings.warn(
            f"QPU {record.get('name')!r} does not say how many qubits it has (its record says "
            f"{record.get('num_qubits')!r}); each circuit's own width is used. Pass "
            "num_qubits=... to client.get_backend for a Target of fixed width.",
            UserWarning,
            stacklevel=4,
        )
        return None
    return known if known is not None else int(given)


def _alias(kwargs: dict[str, Any], alias: str, name: str, value: Any) -> Any:
    if alias not in kwargs:
        return value
    other = kwargs.pop(alias)
    if value is not None:
        raise errors.ValidationError(f"give {name}= or its alias {alias}=, not both")
    return other


def _checked(options: Mapping[str, Any]) -> dict[str, Any]:
    """Validate option values; raise ValidationError naming the bad one."""
    out = dict(options)
    if "shots" in out:
        shots = out["shots"]
        if isinstance(shots, bool) or not isinstance(shots, numbers.Integral) or shots < 1:
            raise errors.ValidationError(f"shots must be a positive integer, got {shots!r}")
        out["shots"] = int(shots)
    if "meas_level" in out:
        level = out["meas_level"]
        if isinstance(level, bool) or level not in MEAS_LEVELS:
            raise errors.ValidationError(f"meas_level must be one of {MEAS_LEVELS}, got {level!r}")
        out["meas_level"] = int(level)
    if "meas_return" in out:
        value = getattr(out["meas_return"], "value", out["meas_return"])  # MeasReturnType
        if value not in MEAS_RETURNS:
            raise errors.ValidationError(
                f"meas_return must be one of {MEAS_RETURNS}, got {out['meas_return']!r}"
            )
        out["meas_return"] = value
    if "memory" in out:
        out["memory"] = bool(out["memory"])
    return out


def _split(bindings: Any, count: int) -> list[Any]:
    """Per-circuit bindings for a list of ``count`` circuits (or programs)."""
    if bindings is None:
        return [None] * count
    if isinstance(bindings, Mapping):
        raise errors.ValidationError(
            f"parameter_values for {count} circuits must be a list with one entry per circuit"
        )
    entries = list(bindings)
    if len(entries) == count:
        return entries
    if count == 1:
        return [bindings]  # the rows of the only circuit
    raise errors.ValidationError(
        f"parameter_values has {len(entries)} entries for {count} circuits; give one entry "
        "(its rows, a mapping, or None) per circuit"
    )


def _qasm_entries(qasm: str | Sequence[str], bindings: Any) -> list[TranslatedCircuit]:
    single = isinstance(qasm, str)
    programs = [qasm] if single else list(qasm)
    if not programs:
        raise errors.ValidationError("run() got an empty list of OpenQASM programs")
    per_program = [bindings] if single else _split(bindings, len(programs))
    entries = []
    for index, (text, rows) in enumerate(zip(programs, per_program, strict=True)):
        if not isinstance(text, str):
            raise errors.ValidationError(
                f"qasm must be OpenQASM 3 text (or a list of it), got {type(text).__name__}"
            )
        layout = Layout.from_text(text, default_name=f"circuit-{index}")
        inputs = layout.parameters if layout is not None else None
        payload = CircuitPayload(text, _qasm_rows(rows, inputs), inputs=inputs)
        entries.append(TranslatedCircuit(payload, plugin="qiskit", context={"layout": layout}))
    return entries


def _qasm_rows(rows: Any, inputs: Sequence[str] | None) -> Any:
    """Rows for raw QASM: passed through, a flat row wrapped, a mapping ordered by name."""
    if rows is None:
        return None
    if isinstance(rows, Mapping):
        rows = [rows]
    rows = list(rows)
    if rows and (isinstance(rows[0], numbers.Real) and not isinstance(rows[0], bool)):
        return [rows]  # one flat row, as the original client accepted
    if any(isinstance(row, Mapping) for row in rows):
        if inputs is None:
            raise errors.ValidationError(
                "mappings as parameter_values need a program qpi can parse; give rows in the "
                "sorted order of the program's input names instead"
            )
        return [_ordered(row, sorted(inputs)) for row in rows]
    return rows


def _ordered(row: Any, names: list[str]) -> list[Any]:
    if not isinstance(row, Mapping):
        return list(row)
    keys = {getattr(k, "name", k): v for k, v in row.items()}
    if set(keys) != set(names):
        raise errors.ValidationError(
            f"a parameter mapping names {sorted(keys)} but the program's inputs are {names}"
        )
    return [keys[n] for n in names]
