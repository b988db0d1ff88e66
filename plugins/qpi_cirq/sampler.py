"""``QPISampler``: a ``cirq.Sampler`` that runs a whole sweep, or a whole batch, as ONE job.

Each circuit is serialised once, with its symbols as OpenQASM 3 ``input``s; every sweep point
is one row of ``parameter_values`` and the server binds the rows. ``run_batch`` puts every
circuit of the batch in the same job. The async methods run the blocking submit-and-wait in a
worker thread, so they never block an ``asyncio`` event loop (or a ``duet`` scheduler, which
is what Cirq's own ``run_batch`` drives).
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextlib
import numbers
import threading
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any, TypeVar

import cirq
import duet

from qpi.client import QPIClient
from qpi.errors import QPIError, ValidationError
from qpi.hooks import TranslatedCircuit
from qpi.job import Job
from qpi.payload import assemble
from qpi.qpu_limits import check_fits
from qpi_cirq.convert import to_circuit
from qpi_cirq.results import empty_results, results_from_job, to_results
from qpi_cirq.sweeps import to_resolvers, wire_entry

if TYPE_CHECKING:
    import pandas as pd

    from qpi.result import JobResult

__all__ = ["QPISampler"]

T = TypeVar("T")


class QPISampler(cirq.Sampler):
    """A ``cirq.Sampler`` running circuits on a QPI QPU, one job per sweep or batch.

    Args:
        client: The client to submit through. When ``None``, one is created from ``url``,
            ``api_token``, ``cache`` and ``cache_mode`` (each defaulting as in
            [`QPIClient`][qpi.client.QPIClient]: ``$QPI_URL``, ``$QPI_API_TOKEN``, ...) and closed
            by
            [`close`][qpi_cirq.sampler.QPISampler.close].
        backend: The QPU's name or record id (``"mock"`` and ``"qiskit_aer"`` on the local
            orchestrator); ``None`` takes the default QPU (``$QPI_QPU`` or the profile, else
            the one the server marks, else the only online one; see
            [`resolve_qpu`][qpi.client.QPIClient.resolve_qpu]).
        url: The orchestrator's URL, when ``client`` is not given.
        api_token: The API token, when ``client`` is not given.
        cache: The cache directory, a ``qpi.cache.Cache``, or ``False`` for none, when
            ``client`` is not given.
        cache_mode: ``"reuse"``, ``"memo"``, ``"record"``, ``"replay"`` or ``"off"``, when
            ``client`` is not given.
        timeout: Seconds to wait for a job's result; ``None`` waits for ever. A job that
            times out keeps running; with the cache on, the same call made again re-attaches
            to it instead of submitting it twice.
        seed: Mixed into the seed that orders the per-shot records synthesised from counts
            (the order is deterministic either way; see [`qpi_cirq.results`][qpi_cirq.results]).

    Raises:
        ValidationError: If both ``client`` and connection settings are given.

    Example:
        ```python
        import cirq, sympy
        from qpi_cirq import QPISampler

        q = cirq.LineQubit(0)
        theta = sympy.Symbol("theta")
        circuit = cirq.Circuit(cirq.rx(theta)(q), cirq.measure(q, key="m"))
        sampler = QPISampler(backend="mock")
        results = sampler.run_sweep(circuit, cirq.Linspace(theta, 0, 3.14, 101), repetitions=500)
        ```
    """

    def __init__(
        self,
        client: QPIClient | None = None,
        backend: str | None = None,
        *,
        url: str | None = None,
        api_token: str | None = None,
        cache: Any = None,
        cache_mode: str | None = None,
        timeout: float | None = None,
        seed: int | None = None,
    ) -> None:
        settings = {"url": url, "api_token": api_token, "cache": cache, "cache_mode": cache_mode}
        given = [name for name, value in settings.items() if value is not None]
        if client is not None and given:
            raise ValidationError(
                f"QPISampler got a client and {', '.join(given)}; configure the client "
                "instead, or pass the settings without a client"
            )
        self._owns_client = client is None
        self._client = (
            client
            if client is not None
            else QPIClient(url, api_token, cache=cache, cache_mode=cache_mode)
        )
        self.backend = backend
        self.timeout = timeout
        self.seed = seed

    @property
    def client(self) -> QPIClient:
        """The client jobs are submitted through."""
        return self._client

    def __repr__(self) -> str:
        return f"QPISampler(backend={self.backend!r}, client={self._client!r})"

    # -- sampling ------------------------------------------------------------------------------

    def run_sweep(
        self, program: cirq.AbstractCircuit, params: cirq.Sweepable, repetitions: int = 1
    ) -> Sequence[cirq.Result]:
        """Sample ``program`` at every point of ``params``, as ONE job.

        The circuit is sent once; each resolver of ``cirq.to_resolvers(params)`` is one row
        of input values. Rows of values in sorted-symbol-name order are accepted too.

        Args:
            program: The circuit to sample.
            params: The sweep (``None`` or ``{}`` for a circuit without symbols).
            repetitions: Shots per sweep point; 0 gives results with no records and sends
                nothing.

        Returns:
            One [`QPIResult`][qpi_cirq.results.QPIResult] (a ``cirq.ResultDict`` with the
            ``job_id``) per sweep point, in sweep order, with ``params`` set.

        Raises:
            ValidationError: If the circuit cannot be carried, a symbol has no value, or the
                circuit is wider (or asks for more shots) than the QPU offers.
            JobFailedError: If the job failed on the server.
            JobTimeoutError: If the job did not finish within ``timeout``.
        """
        return self.run_batch([program], [params], repetitions)[0]

    async def run_sweep_async(
        self, program: cirq.AbstractCircuit, params: cirq.Sweepable, repetitions: int = 1
    ) -> Sequence[cirq.Result]:
        """[`run_sweep`][qpi_cirq.sampler.QPISampler.run_sweep] without blocking the event loop.

        Works under ``asyncio`` and ``duet``. Cancelling the task while it waits cancels the
        job on the server.
        """
        return (await self.run_batch_async([program], [params], repetitions))[0]

    def run_batch(
        self,
        programs: Sequence[cirq.AbstractCircuit],
        params_list: Sequence[cirq.Sweepable] | None = None,
        repetitions: int | Sequence[int] = 1,
    ) -> Sequence[Sequence[cirq.Result]]:
        """Sample several circuits, each over its own sweep, as ONE job.

        Args:
            programs: The circuits.
            params_list: One sweep per circuit (``None``: no symbols anywhere).
            repetitions: Shots for every circuit, or one number per circuit (sent as each
                circuit's own ``shots`` when they differ; a circuit with 0 is not sent).

        Returns:
            Per circuit, one ``cirq.ResultDict`` per sweep point.

        Raises:
            ValidationError: If the lists' lengths differ, a circuit cannot be carried, or a
                circuit is wider (or asks for more shots) than the QPU offers.
            JobFailedError: If the job failed on the server.
            JobTimeoutError: If the job did not finish within ``timeout``.
        """
        planned = self._plan(programs, params_list, repetitions)
        return self._collect(self._submit(planned), planned)

    def sample(
        self, program: cirq.AbstractCircuit, *, repetitions: int = 1, params: cirq.Sweepable = None
    ) -> pd.DataFrame:
        """Sample ``program`` into a ``pandas.DataFrame``, every point of every sweep in ONE job.

        The frame is the one ``cirq.Sampler.sample`` builds: a column per symbol and per
        measurement key, ``repetitions`` rows per sweep point, in sweep order. Cirq's own
        version makes one [`run_sweep`][qpi_cirq.sampler.QPISampler.run_sweep] call (so one job) per
        sweep of a list of sweeps;
        here the points of all the sweeps become the rows of a single job.

        Args:
            program: The circuit to sample.
            repetitions: Shots per sweep point.
            params: A resolver, a sweep, or a list of either (``None`` for no symbols).

        Returns:
            A row per shot, indexed by the shot's number within its sweep point.

        Raises:
            ValueError: If the sweeps do not all have the same symbols (nothing is sent).
            ValidationError: If the circuit cannot be carried or a symbol has no value.
            JobFailedError: If the job failed on the server.
        """
        sweeps = cirq.to_sweeps(params)
        keys = set(sweeps[0].keys) if sweeps else set()
        if len(sweeps) > 1 and not any(sweep and set(sweep.keys) != keys for sweep in sweeps):
            # One sweep holding every point: Cirq's sample then calls run_sweep once.
            params = cirq.ListSweep([resolver for sweep in sweeps for resolver in sweep])
        # Inconsistent sweeps are left to Cirq, which raises its own ValueError first.
        return super().sample(program, repetitions=repetitions, params=params)

    async def run_batch_async(
        self,
        programs: Sequence[cirq.AbstractCircuit],
        params_list: Sequence[cirq.Sweepable] | None = None,
        repetitions: int | Sequence[int] = 1,
    ) -> Sequence[Sequence[cirq.Result]]:
        """[`run_batch`][qpi_cirq.sampler.QPISampler.run_batch] without blocking the event loop.

        Works under ``asyncio`` and ``duet``. Cancelling the task while it waits cancels the
        job on the server.
        """
        planned = await _in_worker_thread(self._plan, programs, params_list, repetitions)
        # Interrupted while submitting: the job may still be created; cancel it when it is.
        job = await _in_worker_thread(self._submit, planned, on_interrupt=_cancel_when_submitted)
        if job is None:
            return self._collect(None, planned)

        def cancel_unless_finished(waiting: concurrent.futures.Future[Any]) -> None:
            if not waiting.done():  # the wait was interrupted, not the job: cancel it
                _cancel_quietly(job)

        result = await _in_worker_thread(
            job.result, self.timeout, on_interrupt=cancel_unless_finished
        )
        return self._collect_result(result, planned)

    def job_results(self, job_id: str) -> list[list[cirq.ResultDict]]:
        """The Cirq results of a job this sampler (or ``QPIClient.run``) submitted, by id.

        The layout is read back from the job's own program text, so this works in a new
        process, and offline in ``replay`` mode when the cache holds the job.

        Returns:
            Per circuit of the job, one ``cirq.ResultDict`` per sweep point.

        Raises:
            NotFoundError: If the job does not exist or is not yours.
            ValidationError: If a circuit of the job was not written by this plugin.
        """
        result = Job.from_id(self._client.runner, job_id).result(self.timeout)
        return results_from_job(result, self.seed)

    # -- lifecycle -----------------------------------------------------------------------------

    def close(self) -> None:
        """Close the client, if this sampler created it."""
        if self._owns_client:
            self._client.close()

    def __enter__(self) -> QPISampler:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- internals -----------------------------------------------------------------------------

    def _plan(
        self,
        programs: Sequence[cirq.AbstractCircuit],
        params_list: Sequence[cirq.Sweepable] | None,
        repetitions: int | Sequence[int],
    ) -> _Planned:
        """Convert every program and sweep; nothing is sent yet."""
        params_list, counts = _batch_arguments(programs, params_list, repetitions)
        # Circuits share the job's shots unless the repetitions of those sent differ.
        own_shots = len({reps for reps in counts if reps}) > 1
        entries: list[TranslatedCircuit | None] = []
        for program, params, reps in zip(programs, params_list, counts, strict=True):
            circuit = to_circuit(program)
            resolvers = to_resolvers(params, circuit.parameters or ())
            # An empty sweep gives no results, as with any cirq.Sampler, and costs nothing.
            if not resolvers:
                entries.append(None)
                continue
            entry = wire_entry(circuit, resolvers, reps if own_shots else None)
            entry.context["num_qubits"] = circuit.num_qubits
            entries.append(entry)
        return _Planned(entries, counts)

    def _submit(self, planned: _Planned) -> Job | None:
        """Check the circuits against the QPU, then submit them as one job (``None``: none)."""
        sent = planned.sent()
        if not sent:
            return None
        shots = planned.job_shots()
        target = self._client.resolve_qpu(self.backend)
        check_fits(
            self._client.get_qpu(target),
            (
                (f"circuit {index}", entry.context["num_qubits"], entry.payload.shots or shots)
                for index, entry in planned.indexed_sent()
            ),
        )
        payload = assemble(sent, shots=shots, qpu_target=target)
        return self._client.submit(payload, sent)

    def _collect(self, job: Job | None, planned: _Planned) -> list[list[cirq.ResultDict]]:
        result = None if job is None else job.result(self.timeout)
        return self._collect_result(result, planned)

    def _collect_result(
        self, result: JobResult | None, planned: _Planned
    ) -> list[list[cirq.ResultDict]]:
        grouped = iter(result.by_circuit() if result is not None else ())
        out: list[list[cirq.ResultDict]] = []
        for entry, reps in zip(planned.entries, planned.repetitions, strict=True):
            if entry is None:
                out.append([])
            elif not reps:
                out.append(empty_results(entry.context["layout"], entry.context["resolvers"]))
            else:
                layout, resolvers = entry.context["layout"], entry.context["resolvers"]
                job_id = None if result is None else result.job_id
                out.append(to_results(next(grouped), layout, resolvers, self.seed, job_id))
        return out


class _Planned:
    """The converted entries of a batch (``None`` for an empty sweep) and their repetitions."""

    def __init__(self, entries: list[TranslatedCircuit | None], repetitions: list[int]) -> None:
        self.entries = entries
        self.repetitions = repetitions

    def indexed_sent(self) -> list[tuple[int, TranslatedCircuit]]:
        """``(program index, entry)`` of the entries that run (a sweep point and repetitions)."""
        return [
            (index, entry)
            for index, (entry, reps) in enumerate(zip(self.entries, self.repetitions, strict=True))
            if entry is not None and reps
        ]

    def sent(self) -> list[TranslatedCircuit]:
        """The entries that go into the job."""
        return [entry for _, entry in self.indexed_sent()]

    def job_shots(self) -> int:
        """The job's shots: the repetitions of the first circuit sent."""
        return next(reps for entry, reps in zip(self.entries, self.repetitions) if entry and reps)


def _cancel_when_submitted(submitting: concurrent.futures.Future[Job | None]) -> None:
    def cancel(done: concurrent.futures.Future[Job | None]) -> None:
        if not done.cancelled() and done.exception() is None and done.result() is not None:
            _cancel_quietly(done.result())

    submitting.add_done_callback(cancel)


def _cancel_quietly(job: Job) -> None:
    """Cancel a job whose waiter went away; a job that just finished is left as it is."""
    with contextlib.suppress(QPIError):
        job.cancel()


def _batch_arguments(
    programs: Sequence[cirq.AbstractCircuit],
    params_list: Sequence[cirq.Sweepable] | None,
    repetitions: int | Sequence[int],
) -> tuple[list[cirq.Sweepable], list[int]]:
    """Check and expand ``run_batch``'s arguments to one sweep and one count per program."""
    programs = list(programs)
    sweeps = [None] * len(programs) if params_list is None else list(params_list)
    if len(sweeps) != len(programs):
        raise ValidationError(
            f"run_batch got {len(programs)} program(s) but {len(sweeps)} sweep(s); give one "
            "sweep per program (None for a program without symbols)"
        )
    if isinstance(repetitions, numbers.Integral):
        counts = [int(repetitions)] * len(programs)
    else:
        counts = list(repetitions)
        if len(counts) != len(programs):
            raise ValidationError(
                f"run_batch got {len(programs)} program(s) but {len(counts)} repetition "
                "counts; give one count, or one per program"
            )
    for count in counts:
        if isinstance(count, bool) or not isinstance(count, numbers.Integral) or count < 0:
            raise ValidationError(
                f"repetitions must be non-negative integers, got {count!r} (0 gives empty "
                "results and sends nothing)"
            )
    return sweeps, [int(count) for count in counts]


# -- running blocking work from async code ------------------------------------------------------


async def _in_worker_thread(
    function: Callable[..., T],
    *args: Any,
    on_interrupt: Callable[[concurrent.futures.Future[T]], None] | None = None,
) -> T:
    """Run ``function(*args)`` in a thread and await it under duet or asyncio.

    Cirq drives its async sampler methods with ``duet`` (its ``run_batch`` is
    ``duet.sync(run_batch_async)``), users with ``asyncio``: each needs its own kind of future.
    Duet is checked first because ``duet.run`` may be running inside an asyncio loop (a
    notebook), where only the duet scheduler can resume this coroutine.

    Args:
        function: The blocking call.
        *args: Its arguments.
        on_interrupt: Called with the thread's future when the awaiting coroutine is
            interrupted (a cancelled task) before it receives the outcome; the thread itself
            cannot be stopped, so this is where its work is undone.
    """
    try:
        asyncio.get_running_loop()
        in_asyncio = True
    except RuntimeError:
        in_asyncio = False
    duet_task = _in_duet_task()
    if not duet_task and not in_asyncio:  # a bare coroutine.send(): just run it
        return function(*args)
    future: concurrent.futures.Future[T] = concurrent.futures.Future()
    worker = threading.Thread(
        target=_fill, args=(future, function, args), name="qpi-cirq-sampler", daemon=True
    )
    worker.start()
    try:
        if duet_task:
            return await duet.AwaitableFuture.wrap(future)
        return await asyncio.wrap_future(future)
    except BaseException:
        if on_interrupt is not None and not (future.done() and future.exception() is not None):
            on_interrupt(future)
        raise


def _in_duet_task() -> bool:
    try:
        from duet.impl import current_task

        current_task()
    except (ImportError, RuntimeError):
        return False
    return True


def _fill(future: concurrent.futures.Future[T], function: Callable[..., T], args: tuple) -> None:
    if not future.set_running_or_notify_cancel():
        return
    try:
        future.set_result(function(*args))
    except BaseException as exc:  # noqa: BLE001 - handed to the awaiting coroutine
        future.set_exception(exc)
