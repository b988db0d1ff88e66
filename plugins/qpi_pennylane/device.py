"""The ``qpi.remote`` PennyLane device: every execution is ONE job on a QPI QPU.

Example:
    ```python
    import pennylane as qml

    dev = qml.device("qpi.remote", wires=2, url="http://localhost:8090", api_token="qpi_...")

    @qml.set_shots(1000)
    @qml.qnode(dev)
    def circuit(x):
        qml.RX(x, wires=0)
        qml.CNOT(wires=[0, 1])
        return qml.expval(qml.Z(0) @ qml.Z(1))

    circuit(qml.numpy.array(0.3))  # one job: the circuit alone
    qml.grad(circuit)(qml.numpy.array(0.3))  # two: the circuit, then all its shifts
    ```
"""

from __future__ import annotations

import threading
from collections.abc import Sequence
from dataclasses import replace
from typing import TYPE_CHECKING, Any

from pennylane.devices import Device, ExecutionConfig
from pennylane.exceptions import DeviceError
from pennylane.tape import QuantumScript

from qpi.errors import ValidationError
from qpi.qpu_limits import check_fits
from qpi_pennylane.batch import JobPlan, plan_jobs
from qpi_pennylane.transforms import compile_pipeline

if TYPE_CHECKING:
    from pennylane.transforms.core import CompilePipeline

    from qpi.client import QPIClient
    from qpi.result import JobResult

__all__ = ["QPIDevice"]

_FALSE_WORDS = frozenset({"false", "no", "off", "0"})


class QPIDevice(Device):
    """A PennyLane device that runs circuits on a QPU behind a QPI orchestrator.

    All tapes of one execution (a QNode call, a gradient, a broadcast batch) are sent as ONE
    job. Tapes that differ only in parameter values share one parametric OpenQASM 3 circuit
    with one row of values each, bound on the server. A gradient is PennyLane's ``param_shift``
    applied before the device decomposes the tape; all its shifted tapes are one job.

    Args:
        wires: The device's wires: a number, or an iterable of labels. Wire ``wires[i]`` is
            qubit ``q[i]`` of the QASM sent. ``None`` takes each circuit's own wires.
        shots: Default shots (deprecated by PennyLane in favour of ``qml.set_shots`` and
            the QNode's ``shots=``, but still accepted). A QPU samples: executions need shots.
        url: The orchestrator's URL (default: ``$QPI_URL``, the profile, then localhost).
        api_token: The API token (default: ``$QPI_API_TOKEN`` or the profile).
        backend: The QPU to run on, by name or record id; ``None`` takes the default QPU
            (``$QPI_QPU`` or the profile, else the one the server marks, else the only
            online one; see [`resolve_qpu`][qpi.client.QPIClient.resolve_qpu]).
        client: An existing [`QPIClient`][qpi.client.QPIClient] to use instead of building one (then
            ``url``, ``api_token``, ``cache`` and ``cache_mode`` must not be given).
        cache: A cache directory, a [`qpi.cache.Cache`][qpi.cache.Cache], or ``False`` for none.
        cache_mode: ``"reuse"``, ``"memo"``, ``"record"``, ``"replay"`` or ``"off"``.
        seed: Seeds the order of synthesised samples (``qml.sample``); the same result always
            gives the same samples for the same seed.
        timeout: Seconds to wait for a job's result (``None``: wait as long as it takes).
        batch_jobs: ``True`` (default) sends each execution as one job. ``False`` sends one
            job per tape, the way peer plugins do; it exists for comparisons (see
            ``benchmarks/bench_gradient.py``).

    Raises:
        ValidationError: If ``client`` is combined with connection or cache settings.
    """

    def __init__(
        self,
        wires: Any = None,
        shots: Any = None,
        url: str | None = None,
        api_token: str | None = None,
        backend: str | None = None,
        client: QPIClient | None = None,
        cache: Any = None,
        cache_mode: str | None = None,
        seed: int | None = None,
        timeout: float | None = None,
        batch_jobs: bool | str = True,
    ) -> None:
        super().__init__(wires=wires, shots=shots)
        if client is not None and (url or api_token or cache is not None or cache_mode):
            raise ValidationError(
                "qpi.remote takes either client= or url/api_token/cache/cache_mode, not both; "
                "configure the QPIClient you pass instead"
            )
        self._client = client
        # pl-device-test turns --device-kwargs values that look numeric into numbers.
        self._client_options = {
            "base_url": None if url is None else str(url),
            "api_token": None if api_token is None else str(api_token),
            "cache": _coerce_cache(cache),
            "cache_mode": cache_mode,
        }
        self._backend = None if backend is None else str(backend)
        self._qpu_target: str | None = None
        self._seed = None if seed is None else int(seed)
        self._timeout = None if timeout is None else float(timeout)
        self._batch_jobs = _coerce_bool(batch_jobs)
        self._lock = threading.Lock()

    @property
    def name(self) -> str:
        """The name the device is loaded by: ``"qpi.remote"``."""
        return "qpi.remote"

    @property
    def client(self) -> QPIClient:
        """The [`QPIClient`][qpi.client.QPIClient] jobs go through, built on first use."""
        with self._lock:
            if self._client is None:
                from qpi.client import QPIClient

                options = {k: v for k, v in self._client_options.items() if v is not None}
                self._client = QPIClient(**options)
            return self._client

    @property
    def backend(self) -> str | None:
        """The QPU name or id given at construction."""
        return self._backend

    @property
    def qpu_target(self) -> str:
        """The record id of the QPU jobs are sent to, resolved on first use."""
        client = self.client
        with self._lock:
            if self._qpu_target is None:
                self._qpu_target = client.resolve_qpu(self._backend)
            return self._qpu_target

    @property
    def batch_jobs(self) -> bool:
        """Whether an execution is one job (``True``) or one job per tape (``False``)."""
        return self._batch_jobs

    # -- configuration ------------------------------------------------------------------------

    def supports_derivatives(
        self, execution_config: ExecutionConfig | None = None, circuit: QuantumScript | None = None
    ) -> bool:
        """Always ``False``: gradients are PennyLane's transforms, each batch ONE job.

        With ``diff_method="best"`` or ``"parameter-shift"`` PennyLane applies
        ``qml.gradients.param_shift`` to the QNode's tape before the device decomposes it, so
        every gate is shifted by its own rule (``DoubleExcitation``: 4 shifted tapes, not the
        16 of its decomposition), exactly as on ``default.qubit``. A forward pass runs only
        the circuit; the shifted tapes of a gradient arrive in one ``execute`` call, which
        is one job.
        """
        return False

    def setup_execution_config(
        self, config: ExecutionConfig | None = None, circuit: QuantumScript | None = None
    ) -> ExecutionConfig:
        """Resolve the mid-circuit measurement method (only ``"deferred"`` runs on a QPU).

        Raises:
            DeviceError: For a mid-circuit measurement method other than ``"deferred"``.
        """
        config = config or ExecutionConfig()
        return replace(config, mcm_config=_deferred(config.mcm_config, self.name))

    def preprocess_transforms(
        self, execution_config: ExecutionConfig | None = None
    ) -> CompilePipeline:
        """PennyLane transforms that make a tape runnable (see `qpi_pennylane.transforms`)."""
        config = execution_config or ExecutionConfig()
        method = config.mcm_config.mcm_method or "deferred"
        return compile_pipeline(self.wires, mcm_method=method, name=self.name)

    # -- execution ----------------------------------------------------------------------------

    def execute(
        self,
        circuits: QuantumScript | Sequence[QuantumScript],
        execution_config: ExecutionConfig | None = None,
    ) -> Any:
        """Run the tapes as ONE job and return their results in PennyLane's shapes.

        Raises:
            ValidationError: If a tape uses more qubits, or more shots, than the QPU offers
                (checked before anything is sent).
        """
        single = isinstance(circuits, QuantumScript)
        tapes = (circuits,) if single else tuple(circuits)
        self._track_batch()
        results = self._run(tapes, with_results=len(tapes))
        return results[0] if single else tuple(results)

    def _run(self, tapes: Sequence[QuantumScript], *, with_results: int) -> list[Any]:
        """Execute tapes (one job, or one per tape without batching) and track them."""
        runnable = [tape for tape in tapes if tape.measurements]
        if not runnable:  # nothing to measure, nothing to send
            return [() for _ in tapes]
        if len(runnable) != len(tapes):
            results = iter(self._run(runnable, with_results=0))
            return [next(results) if tape.measurements else () for tape in tapes]
        target = self.qpu_target
        if self._batch_jobs:
            planned = plan_jobs(tapes, self.wires, target)
        else:
            planned = [plan_jobs((tape,), self.wires, target)[0] for tape in tapes]
        client = self.client
        _check_fits(client.get_qpu(target), planned)
        # Submit every job before waiting on any, so they queue together.
        jobs = [client.submit(payload) for _, payload in planned]
        results: list[Any] = []
        for (plan, _), job in zip(planned, jobs, strict=True):
            outcome = job.result(timeout=self._timeout)
            results.extend(plan.results(outcome, self._seed))
            self._track_job(plan, outcome)
        self._track_tapes(tapes, results, with_results)
        return results

    # -- tracker --------------------------------------------------------------------------------

    def _track_batch(self, **extra: int) -> None:
        if self.tracker.active:
            self.tracker.update(batches=1, **extra)
            self.tracker.record()

    def _track_job(self, plan: JobPlan, outcome: JobResult) -> None:
        if not self.tracker.active:
            return
        # "jobs" counts jobs actually submitted; a cache answer is a "cache_hits" instead.
        info: dict[str, Any] = {
            "job_ids": outcome.job_id,
            "circuits": len(plan.entries),
            "experiments": plan.num_experiments,
        }
        if outcome.from_cache:
            info["cache_hits"] = 1
        else:
            info["jobs"] = len(outcome.metadata.get("job_ids") or [outcome.job_id])
        self.tracker.update(**info)
        self.tracker.record()

    def _track_tapes(
        self, tapes: Sequence[QuantumScript], results: Sequence[Any], with_results: int
    ) -> None:
        # Every tape run counts as an execution; only the first with_results are the
        # caller's own tapes (the rest are parameter-shifted copies), so only theirs are kept.
        if not self.tracker.active:
            return
        for index, tape in enumerate(tapes):
            info: dict[str, Any] = {"executions": 1, "shots": tape.shots.total_shots}
            if index < with_results:
                info["results"] = results[index]
            self.tracker.update(**info)
            self.tracker.record()


def _check_fits(record: dict[str, Any], planned: Sequence[tuple[JobPlan, Any]]) -> None:
    """Refuse, before sending, a batch whose circuits are too wide or long for the QPU."""
    check_fits(
        record,
        (
            (f"tape {entry.slots[0][0]}", entry.template.num_qubits, entry.shots)
            for plan, _ in planned
            for entry in plan.entries
        ),
    )


def _deferred(mcm_config: Any, name: str) -> Any:
    method = mcm_config.mcm_method
    if method not in (None, "deferred"):
        raise DeviceError(
            f"mcm_method={method!r} is not supported on {name}: a QPU returns counts of the "
            "final measurements, so mid-circuit measurements are deferred; use "
            "mcm_method='deferred' (the default)"
        )
    return replace(mcm_config, mcm_method="deferred")


def _coerce_cache(cache: Any) -> Any:
    # pl-device-test passes --device-kwargs as strings: cache=False arrives as "False".
    if isinstance(cache, str) and cache.strip().lower() in _FALSE_WORDS:
        return False
    return cache


def _coerce_bool(value: Any) -> bool:
    if isinstance(value, str):
        return value.strip().lower() not in _FALSE_WORDS
    return bool(value)
