"""The QPI client: one method per REST endpoint, job polling, and batched submission.

[`QPIClient`][qpi.client.QPIClient] keeps every name, parameter, default and return type of the
original ``qpi_client.QPIClient``, fixes its bugs (timeouts, retries, pagination, lost server
messages, thread safety, leaked tokens) and adds ``wait_for_job``, ``run`` and a disk cache
with offline replay.

This module is the facade: construction, settings, the wiring of cache, plugins and the job
runner, and the entry points (``run``, ``translate``, ``submit``, ``job``, ``get_backend``,
and the job and QPU methods that go through the runner). Everything a job goes through lives
in [`qpi.jobs`][qpi.jobs]; the thin REST endpoint groups are inherited from the private
``qpi._api`` package; HTTP itself is [`qpi.transport`][qpi.transport].
"""

from __future__ import annotations

import dataclasses
import threading
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

from qpi import display, errors
from qpi._api.bookings import BookingEndpoints
from qpi._api.notifications import NotificationEndpoints
from qpi._api.qpus import QPUEndpoints
from qpi._api.realserver import RealServerRoutes
from qpi._api.tokens import TokenEndpoints
from qpi._api.users import UserEndpoints
from qpi._http.bodies import MAX_RESPONSE_BYTES
from qpi._http.redact import redact_url
from qpi.config import resolve
from qpi.hooks import TranslatedCircuit, make_plugin_manager
from qpi.jobs.job import Job
from qpi.jobs.mode import CacheMode
from qpi.jobs.runner import Runner
from qpi.jobs.status import FINAL_STATUSES
from qpi.jobs.status import raise_for_status as raise_for_status
from qpi.jobs.wait import Progress
from qpi.payload import CircuitPayload, JobPayload, assemble
from qpi.transport import (
    BaseTransport,
    Credentials,
    ReplayTransport,
    RetryPolicy,
    Timeouts,
    Transport,
)

if TYPE_CHECKING:
    import pluggy

    from qpi.cache.protocol import Scope

__all__ = ["FINAL_STATUSES", "QPIClient"]


class QPIClient(
    QPUEndpoints,
    TokenEndpoints,
    NotificationEndpoints,
    BookingEndpoints,
    UserEndpoints,
):
    """Client for a QPI orchestrator's REST API.

    Args:
        base_url: Root URL of the orchestrator (e.g. ``http://localhost:8090``). Defaults to
            ``$QPI_URL``, then the active profile, then ``http://localhost:8090``.
        api_token: API token sent as ``X-API-Token``. Defaults to ``$QPI_API_TOKEN``, then the
            active profile.
        timeout: Timeouts in seconds: a number, a ``(connect, read)`` pair, or a
            [`Timeouts`][qpi.transport.Timeouts]. Defaults to 5 s to connect and 30 s to read;
            every call (retries and the whole body included) ends within ``connect + read``
            unless ``Timeouts.total`` says otherwise.
        cache: Where results are cached: a directory, a [`Cache`][qpi.cache.Cache] (or any
            [`Store`][qpi.cache.Store]), or ``False`` for none. ``None`` uses
            ``$QPI_CACHE_DIR`` or the user cache directory.
        cache_mode: A [`CacheMode`][qpi.jobs.CacheMode] or its name: ``"reuse"`` (the k-th
            identical submission gets the k-th stored result, fresh jobs past those),
            ``"memo"`` (same payload, same answer), ``"record"`` (always submit, always
            store), ``"replay"`` (never touch the network) or ``"off"``. Defaults to
            ``$QPI_CACHE_MODE``, else ``"reuse"``.
        profile: A profile of the user config file to take defaults from (else
            ``$QPI_PROFILE``, else the file's default); ``False`` reads no profile.
        retry: The retry policy for transient failures.
        max_response_bytes: Largest answer accepted, decompressed (default 256 MiB); a
            larger one raises [`ServerError`][qpi.errors.ServerError] without being held in
            memory.
        transport: What moves the bytes: any [`BaseTransport`][qpi.transport.BaseTransport]
            (default: an [`HTTPTransport`][qpi.transport.HTTPTransport]). Replay mode always
            uses a [`ReplayTransport`][qpi.transport.ReplayTransport], which refuses the network.

    Attributes:
        runner: The [`Runner`][qpi.jobs.Runner] every submission goes through (cache
            decision, split, submit, wait, store).
        cache: The [`Store`][qpi.cache.Store] in use, or ``None``.
        cache_mode: The [`CacheMode`][qpi.jobs.CacheMode].
        plugins: The plugin manager (installed plugins, called through hooks).

    Example:
        ```python
        client = QPIClient("http://localhost:8090", api_token="qpi_...")
        job = client.run(BELL_QASM, shots=1000, qpu="mock")
        print(job.result().get_counts())
        ```
    """

    def __init__(
        self,
        base_url: str | None = None,
        api_token: str | None = None,
        *,
        timeout: Timeouts | float | tuple[float, float] | None = None,
        cache: Any = None,
        cache_mode: str | None = None,
        profile: str | bool | None = None,
        retry: RetryPolicy | None = None,
        max_response_bytes: int = MAX_RESPONSE_BYTES,
        transport: BaseTransport | None = None,
    ) -> None:
        cache_dir = cache if _is_path(cache) else None
        settings = resolve(
            base_url, api_token, cache_dir=cache_dir, cache_mode=cache_mode, profile=profile
        )
        self.base_url: str = settings.url
        self.cache_mode: CacheMode = CacheMode.coerce(settings.cache_mode)
        replay = self.cache_mode is CacheMode.REPLAY
        self._credentials = Credentials(settings.api_token)
        self._credentials.set_session_token(settings.session_token)
        #: The QPU used when none is named (``$QPI_QPU`` or the profile's ``qpu``).
        self.default_qpu: str | None = settings.qpu
        self._transport = Transport(
            self.base_url,
            self._credentials,
            timeouts=Timeouts.coerce(timeout),
            retry=retry,
            user_agent=_user_agent(),
            max_response_bytes=max_response_bytes,
            transport=ReplayTransport() if replay else transport,
        )
        self.plugins: pluggy.PluginManager = make_plugin_manager()
        self.cache = self._open_cache(cache, settings.cache_dir)
        # A store the caller passed in may serve other clients: only close one we opened.
        self._owns_cache = self.cache is not None and self.cache is not cache
        self._lock = threading.Lock()
        self._qpus = {}
        self._user = None
        renewed = _profile_saver(settings) if settings.session_token else None
        self.runner: Runner = Runner(
            RealServerRoutes(self._transport, self.base_url, on_session_renewed=renewed),
            mode=self.cache_mode,
            store=self.cache,
            scope=self._scope,
            plugins=self.plugins,
        )

    def _open_cache(self, cache: Any, cache_dir: str | None) -> Any:
        if cache is False or self.cache_mode is CacheMode.OFF:
            return None
        if cache is not None and not _is_path(cache):
            return cache
        from qpi.cache import Cache

        return Cache(cache_dir)

    def _scope(self) -> Scope:
        """Who is asking, for the cache: this server, and this token or logged-in user."""
        from qpi.cache.entries import normalise_server
        from qpi.cache.protocol import Scope

        own_id = self._own_id()
        identity = f"user:{own_id}" if own_id else self._credentials.identity()
        return Scope(normalise_server(self.base_url), identity)

    def __repr__(self) -> str:
        token = "<set>" if self._credentials.has_api_token else None
        return (
            f"QPIClient(base_url={redact_url(self.base_url)!r}, api_token={token}, "
            f"cache_mode={self.cache_mode!r})"
        )

    def _repr_html_(self) -> str:
        return display.client_html(self, self._credentials.has_api_token)

    # -- entry points ---------------------------------------------------------------------------

    def submit(
        self, payload: JobPayload, translated: Sequence[TranslatedCircuit | None] | None = None
    ) -> Job:
        """Submit a [`JobPayload`][qpi.payload.JobPayload] and return its [`Job`][qpi.jobs.Job].

        This is the one path every submission takes (the [`Runner`][qpi.jobs.Runner]): the
        cache may answer it, a job submitted earlier for it may be re-attached to, and a
        payload larger than one request runs as several jobs behind one handle.

        Args:
            payload: The job to submit.
            translated: Per circuit, what a plugin translated it from (for native results).

        Raises:
            ValidationError: If the payload is malformed.
            CacheMissError: In replay mode, when the cache holds nothing for the payload.
        """
        tickets = self.runner.start(payload)
        return Job(self.runner, payload, tickets, translated)

    def job(self, job_id: str) -> Any:
        """Retrieve an existing job by ID.

        Returns:
            The Qiskit ``QPIJob`` when the Qiskit plugin is installed (like the original
            client), else a framework-neutral [`Job`][qpi.jobs.Job].
        """
        handle = self.plugins.hook.qpi_get_job(client=self, job_id=job_id)
        return handle if handle is not None else Job.from_id(self.runner, job_id)

    # -- jobs (through the runner) --------------------------------------------------------------

    def submit_job(
        self,
        circuits: list[dict[str, Any]],
        shots: int = 1024,
        meas_level: int = 2,
        meas_return: str = "single",
        qpu_target: str = "",
    ) -> str:
        """Submit a quantum job to the orchestrator.

        The payload is validated before anything is sent, and goes through the cache like
        every submission (see [`submit`][qpi.client.QPIClient.submit]).

        Args:
            circuits: Circuit entries, each a dict with a ``circuit`` key holding OpenQASM text
                and optionally ``parameter_values`` (rows of floats) and ``shots``.
            shots: Default number of shots for every circuit.
            meas_level: Measurement level (``2`` counts, ``1`` IQ memory).
            meas_return: ``"single"`` or ``"avg"`` (for meas_level 1).
            qpu_target: The QPU's record id (see [`get_qpu`][qpi.client.QPIClient.get_qpu]);
                empty lets the server choose.

        Returns:
            The server-assigned job ID (the first one, if the payload had to be split).

        Raises:
            ValidationError: If the payload is malformed (nothing is sent).
            AuthenticationError: On a bad token, or with 403 when the QPU-seconds balance is
                exhausted.
        """
        if not isinstance(circuits, list | tuple | str | Mapping):
            raise errors.ValidationError(
                f"circuits must be a list of {{'circuit': qasm}} dicts, got "
                f"{type(circuits).__name__}"
            )
        payload = assemble(
            circuits,
            shots=shots,
            meas_level=meas_level,
            meas_return=meas_return,
            qpu_target=qpu_target,
        )
        return self.submit(payload).id

    def get_job(self, job_id: str) -> dict[str, Any]:
        """Retrieve full details for ``job_id``.

        A final record (completed, failed or cancelled) that the cache holds is returned
        without a request in ``reuse``, ``memo`` and ``replay`` modes, so finished jobs read
        offline.

        Returns:
            A dict with at least ``id``, ``status`` and ``payload``; ``results`` once the job
            has finished.

        Raises:
            NotFoundError: If the job does not exist or is not yours.
            CacheMissError: In replay mode, if the cache does not hold the job.
        """
        return self.runner.record(job_id)

    def list_jobs(
        self, *, limit: int | None = None, sort: str = "-created"
    ) -> list[dict[str, Any]]:
        """List the jobs of the authenticated user, newest first.

        Every page is followed, and bare lists, ``{"jobs": [...]}`` and ``{"items": [...]}``
        answers are all understood.

        Args:
            limit: Return at most this many jobs (all when ``None``).
            sort: A sort expression such as ``"-created"`` or ``"+created"``.

        Returns:
            A list of job-record dicts.
        """
        return self.runner.routes.list(limit=limit, sort=sort)

    def cancel_job(self, job_id: str) -> dict[str, Any]:
        """Request cancellation of ``job_id``.

        Returns:
            The updated job-record dict (fetched after the cancel), whose ``status`` is
            ``"cancelled"`` unless the job finished first.

        Raises:
            NotFoundError: If the job does not exist, is not yours, or already finished.
        """
        return self.runner.cancel(job_id)

    def wait_for_job(
        self,
        job_id: str,
        timeout: float | None = None,
        *,
        max_interval: float = 3.0,
        raise_on_failure: bool = True,
        callback: Progress | None = None,
    ) -> dict[str, Any]:
        """Wait until a job finishes and return its final record.

        Polls ask only for the status (``fields=``), starting after 20 ms and backing off by
        1.5x (with jitter) to ``max_interval``, so a job that takes 50 ms returns in well
        under 200 ms and a long job costs few requests; the full record, with the results,
        is read once. Connection failures and server errors while waiting are retried until
        the deadline: the wait resumes when the server comes back.

        Args:
            job_id: The job to wait for.
            timeout: Seconds to wait at most; ``None`` waits for ever.
            max_interval: The cap of the polling interval, in seconds.
            raise_on_failure: Raise for failed and cancelled jobs (else return their record).
            callback: Called as ``callback(record, elapsed_seconds)`` after every poll
                (progress display).

        Returns:
            The final job record.

        Raises:
            JobTimeoutError: If the job is not finished within ``timeout``.
            JobFailedError: If the job failed; carries the driver's message.
            JobCancelledError: If the job was cancelled.
        """
        return self.runner.wait(
            job_id,
            timeout,
            callback=callback,
            max_interval=max_interval,
            raise_on_failure=raise_on_failure,
        )

    # -- QPUs (through the runner, which keeps their records for replay) ------------------------

    def get_qpu(self, name: str) -> dict[str, Any]:
        """Retrieve a single QPU by name or record id.

        The real server looks QPUs up by record id only; a name is resolved through the list
        of online QPUs, then through the public ``qpus`` collection (offline ones too).
        Records are remembered for a minute, and kept in the cache for replay mode.

        Args:
            name: The QPU's name or record id.

        Returns:
            A QPU record dict.

        Raises:
            NotFoundError: If no QPU has that name or id.
        """
        return self.runner.qpu(name, lambda: self._lookup_qpu(name))

    def resolve_qpu(self, qpu: str | None) -> str:
        """The record id to send as ``qpu_target`` for a QPU name or id.

        A real server never dispatches a job without a target, so ``None`` is resolved, in
        this order: the client's configured QPU (``$QPI_QPU`` or the profile's ``qpu``), the
        QPU the server marks as its default (``qpi serve``: ``mock``), the only online QPU.

        Raises:
            ValidationError: If no QPU is named and several are online with none marked
                default (the message names them); a real device is never picked silently.
            NotFoundError: If the QPU does not exist, or none is online.
        """
        name = qpu or self.default_qpu or ""
        return str(self.runner.qpu(name, lambda: self._lookup_qpu(name))["id"])

    def run(
        self,
        circuits: Any,
        shots: int = 1024,
        parameter_values: Any = None,
        qpu: str | None = None,
        *,
        meas_level: int = 2,
        meas_return: str = "single",
        **options: Any,
    ) -> Job:
        """Submit circuits of any installed framework (or OpenQASM text) as ONE job.

        Args:
            circuits: One circuit or a list of them: OpenQASM 3 text, a
                [`qpi.circuit.Circuit`][qpi.circuit.Circuit], a
                [`CircuitPayload`][qpi.payload.CircuitPayload], or a
                native circuit a plugin translates (Qiskit, Cirq, ...).
            shots: Shots per circuit.
            parameter_values: Bindings. For one circuit: its rows (a list of rows, or
                whatever its plugin accepts). For a list of circuits: a list with one entry
                per circuit (``None`` for circuits without inputs).
            qpu: QPU name or id; ``None`` takes the default QPU (see
                [`resolve_qpu`][qpi.client.QPIClient.resolve_qpu]).
            meas_level: ``2`` for counts, ``1`` for IQ memory.
            meas_return: ``"single"`` or ``"avg"``.
            **options: Passed to the plugins' translation hook.

        Returns:
            A [`Job`][qpi.jobs.Job]; ``job.result()`` gives counts per circuit and row (a
            payload larger than one request runs as several jobs, merged in order).

        Raises:
            ValidationError: For input no plugin can translate, or a malformed payload.
        """
        items, values = _paired(circuits, parameter_values)
        run_options = {"shots": shots, "meas_level": meas_level, "meas_return": meas_return}
        run_options.update(options)
        translated = [
            self.translate(item, rows, run_options)
            for item, rows in zip(items, values, strict=True)
        ]
        # Assembled (and so validated) before the QPU lookup, the first request.
        payload = assemble(translated, shots=shots, meas_level=meas_level, meas_return=meas_return)
        payload = dataclasses.replace(payload, qpu_target=self.resolve_qpu(qpu))
        return self.submit(payload, translated)

    def translate(
        self, obj: Any, parameter_values: Any = None, options: Mapping[str, Any] | None = None
    ) -> TranslatedCircuit:
        """Turn one circuit (QASM text, neutral form, or a plugin's native type) into a wire entry.

        Raises:
            ValidationError: If no installed plugin recognises ``obj``.
        """
        options = dict(options or {})
        if isinstance(obj, CircuitPayload):
            if parameter_values is not None:
                obj = CircuitPayload(obj.circuit, parameter_values, obj.shots)
            return TranslatedCircuit(obj, plugin="qpi")
        if isinstance(obj, str):
            from qpi.rawqasm import prepare_raw

            # What a real driver cannot run is rewritten (registers merged) or refused here.
            return TranslatedCircuit(
                CircuitPayload(prepare_raw(obj), parameter_values), plugin="qpi"
            )
        from qpi.circuit import Circuit

        if isinstance(obj, Circuit):
            from qpi import qasm3

            return TranslatedCircuit(qasm3.to_payload(obj, parameter_values), plugin="qpi")
        answer = self.plugins.hook.qpi_translate_circuit(
            obj=obj, parameter_values=parameter_values, options=options
        )
        if answer is None:
            raise errors.ValidationError(
                f"no installed qpi plugin can translate a {type(obj).__module__}."
                f"{type(obj).__qualname__}; pass OpenQASM 3 text, a qpi.circuit.Circuit, or "
                "install the plugin for its framework (pip install 'qpi-sdk[qiskit]', "
                "'[pennylane]' or '[cirq]')"
            )
        return answer

    def get_backend(self, name: str = "qpi", **options: Any) -> Any:
        """Return a backend handle for the named QPU (a name or a record id).

        Returns:
            A Qiskit ``QPIBackend`` when the Qiskit plugin is installed.

        Raises:
            PluginError: If no plugin provides backends (install ``qpi-sdk[qiskit]``).
        """
        backend = self.plugins.hook.qpi_get_backend(client=self, name=name, options=options)
        if backend is None:
            raise errors.PluginError(
                "get_backend needs the Qiskit plugin: pip install 'qpi-sdk[qiskit]'"
            )
        return backend

    def backends(
        self,
        name: str | None = None,
        *,
        min_num_qubits: int | None = None,
        operational: bool | None = True,
        **options: Any,
    ) -> list[Any]:
        """The backends of the server's QPUs, filtered as ``QiskitRuntimeService.backends``.

        Args:
            name: Only the QPU of this name.
            min_num_qubits: Only QPUs with at least this many qubits.
            operational: ``True`` (the default): online QPUs only; ``False``: offline ones
                only; ``None``: all (offline ones as the server's public ``qpus`` collection
                lists them).
            **options: Passed to [`get_backend`][qpi.client.QPIClient.get_backend].

        Returns:
            One backend per matching QPU (Qiskit ``QPIBackend`` objects), in the server's order.

        Raises:
            PluginError: If no plugin provides backends (install ``qpi-sdk[qiskit]``).
        """
        # /api/qpus lists the online QPUs; the public qpus collection has the offline ones too.
        qpus = self.list_qpus() if operational else self._records("qpus")
        chosen = []
        for qpu in qpus:
            online = qpu.get("status") == "online"
            if name is not None and qpu.get("name") != name:
                continue
            if min_num_qubits is not None and int(qpu.get("num_qubits") or 0) < min_num_qubits:
                continue
            if operational is not None and online != operational:
                continue
            chosen.append(qpu)
        return [self.get_backend(str(qpu["id"]), **options) for qpu in chosen]

    # -- lifecycle ------------------------------------------------------------------------------

    def close(self) -> None:
        """Close the underlying HTTP sessions (and the cache, if the client opened it)."""
        self._transport.close()
        close = getattr(self.cache, "close", None) if self._owns_cache else None
        if callable(close):
            close()

    def __enter__(self) -> QPIClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def _paired(circuits: Any, parameter_values: Any) -> tuple[list[Any], list[Any]]:
    """The circuits of `QPIClient.run` as a list, and one bindings entry per circuit."""
    if not isinstance(circuits, list | tuple):
        return [circuits], [parameter_values]
    items = list(circuits)
    values = [None] * len(items) if parameter_values is None else list(parameter_values)
    if len(values) != len(items):
        raise errors.ValidationError(
            f"parameter_values has {len(values)} entries for {len(items)} circuits; "
            "give one entry (rows, or None) per circuit"
        )
    return items, values


def _profile_saver(settings: Any) -> Any:
    """Keeps a renewed session in the profile it came from (``qpi login --email``)."""
    if settings.profile is None:
        return None

    def save(token: str) -> None:
        from qpi.config import save_profile

        save_profile(settings.profile, {"session_token": token})

    return save


def _is_path(cache: Any) -> bool:
    """Whether the ``cache`` argument names a directory (rather than a store or a switch)."""
    return isinstance(cache, str) or hasattr(cache, "__fspath__")


def _user_agent() -> str:
    from qpi import __version__

    return f"qpi-sdk/{__version__}"
