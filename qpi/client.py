"""The QPI client: one method per REST endpoint, job polling, and batched submission.

[`QPIClient`][qpi.client.QPIClient] keeps every name, parameter, default and return type of the
original
``qpi_client.QPIClient``, fixes its bugs (timeouts, retries, pagination, lost server messages,
thread safety, leaked tokens) and adds [`wait_for_job`][qpi.client.QPIClient.wait_for_job],
[`run`][qpi.client.QPIClient.run] and a disk cache with offline replay.

This module holds the client's construction, settings, cache and plugin wiring, lifecycle, and
the framework-facing entry points (``run``, ``translate``, ``submit``, ``job``,
``get_backend``). The REST endpoints are inherited from one mixin per endpoint group in the
private `qpi._api` package; HTTP itself is [`qpi.transport`][qpi.transport].
"""

from __future__ import annotations

import dataclasses
import threading
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

from qpi import display, errors
from qpi._api.bookings import BookingEndpoints
from qpi._api.jobs import FINAL_STATUSES, JobEndpoints
from qpi._api.jobs import raise_for_status as raise_for_status
from qpi._api.notifications import NotificationEndpoints
from qpi._api.qpus import QPUEndpoints
from qpi._api.submission import JobSubmission
from qpi._api.tokens import TokenEndpoints
from qpi._api.users import UserEndpoints
from qpi._http.bodies import MAX_RESPONSE_BYTES
from qpi._http.redact import redact_url
from qpi.config import resolve
from qpi.hooks import TranslatedCircuit, make_plugin_manager
from qpi.job import Job
from qpi.payload import CircuitPayload, JobPayload
from qpi.transport import Credentials, RetryPolicy, Timeouts, Transport

if TYPE_CHECKING:
    import pluggy

__all__ = ["FINAL_STATUSES", "QPIClient"]


class QPIClient(
    JobEndpoints,
    QPUEndpoints,
    TokenEndpoints,
    NotificationEndpoints,
    BookingEndpoints,
    UserEndpoints,
    JobSubmission,
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
        cache: Where results are cached: a directory, a [`qpi.cache.Cache`][qpi.cache.Cache] (or any
            object implementing the submission hooks of [`qpi.hooks`][qpi.hooks]), or ``False`` for
            none. ``None`` uses ``$QPI_CACHE_DIR`` or the user cache directory.
        cache_mode: ``"reuse"`` (identical payloads are answered from the cache),
            ``"record"`` (always submit, always store), ``"replay"`` (never touch the network)
            or ``"off"``. Defaults to ``$QPI_CACHE_MODE``, else ``"reuse"``.
        profile: A profile of the user config file to take defaults from (else
            ``$QPI_PROFILE``, else the file's default); ``False`` reads no profile.
        retry: The retry policy for transient failures.
        max_response_bytes: Largest answer accepted, decompressed (default 256 MiB); a
            larger one raises [`ServerError`][qpi.errors.ServerError] without being held in
            memory.

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
    ) -> None:
        cache_dir = cache if _is_path(cache) else None
        settings = resolve(
            base_url, api_token, cache_dir=cache_dir, cache_mode=cache_mode, profile=profile
        )
        self.base_url: str = settings.url
        self.cache_mode: str = settings.cache_mode
        self._credentials = Credentials(settings.api_token)
        self._transport = Transport(
            self.base_url,
            self._credentials,
            timeouts=Timeouts.coerce(timeout),
            retry=retry,
            user_agent=_user_agent(),
            guard=self._replay_guard,
            max_response_bytes=max_response_bytes,
        )
        self.plugins: pluggy.PluginManager = make_plugin_manager()
        self.cache = self._open_cache(cache, settings.cache_dir)
        # A store the caller passed in may serve other clients: only close one we opened.
        self._owns_cache = self.cache is not None and self.cache is not cache
        if self.cache is not None:
            self.plugins.register(self.cache, name="qpi-cache")
        self._lock = threading.Lock()
        self._qpus = {}
        self._user = None

    def _open_cache(self, cache: Any, cache_dir: str | None) -> Any:
        if cache is False or self.cache_mode == "off":
            return None
        if cache is not None and not _is_path(cache):
            return cache
        from qpi.cache import Cache

        return Cache(cache_dir)

    def _replay_guard(self, method: str, url: str) -> None:
        if self.cache_mode == "replay":
            raise errors.CacheMissError(
                f"replay mode makes no network requests, and {method} {url} is not answered "
                "by the cache; switch to cache_mode='reuse' to reach the server"
            )

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
        """Submit a validated `JobPayload` and return its `Job`.

        This is the one path every submission takes: the cache may answer it (``reuse``,
        ``replay``) or re-attach to a job already running for the same payload; otherwise it
        is sent once, and its id is recorded before anyone waits on it.

        Args:
            payload: The job to submit.
            translated: Per circuit, what a plugin translated it from (for native results).

        Raises:
            ValidationError: If the payload is malformed.
            CacheMissError: In replay mode, when the cache holds nothing for the payload.
        """
        payload.validate()
        fingerprint = payload.fingerprint()
        translated = (
            tuple(translated) if translated is not None else (None,) * len(payload.circuits)
        )
        answer = self.plugins.hook.qpi_before_submit(
            client=self, payload=payload, fingerprint=fingerprint
        )
        if answer is None and self.cache_mode == "replay":
            raise errors.CacheMissError(
                f"replay mode: no cached result for payload {fingerprint[:16]}… "
                f"({len(payload.circuits)} circuit(s), {payload.shots} shots) on {self.base_url}",
                fingerprint=fingerprint,
            )
        if answer is not None and not isinstance(answer, str):
            return Job(self, answer.job_id, payload, fingerprint, translated, result=answer)
        job_id = answer if isinstance(answer, str) else self._post_job(payload)
        if not isinstance(answer, str):
            self.plugins.hook.qpi_after_submit(
                client=self, payload=payload, fingerprint=fingerprint, job_id=job_id
            )
        return Job(self, job_id, payload, fingerprint, translated)

    def job(self, job_id: str) -> Any:
        """Retrieve an existing job by ID.

        Returns:
            The Qiskit ``QPIJob`` when the Qiskit plugin is installed (like the original
            client), else a framework-neutral [`qpi.job.Job`][qpi.job.Job].
        """
        handle = self.plugins.hook.qpi_get_job(client=self, job_id=job_id)
        return handle if handle is not None else Job.from_id(self, job_id)

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
            qpu: QPU name or id; ``None`` takes the first online QPU.
            meas_level: ``2`` for counts, ``1`` for IQ memory.
            meas_return: ``"single"`` or ``"avg"``.
            **options: Passed to the plugins' translation hook.

        Returns:
            A [`qpi.job.Job`][qpi.job.Job]; ``job.result()`` gives counts per circuit and row.

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
        payload = JobPayload(
            circuits=tuple(t.payload for t in translated),
            shots=shots,
            meas_level=meas_level,
            meas_return=meas_return,
        )
        payload.validate()  # bad input is refused before the QPU lookup, the first request
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
            return TranslatedCircuit(CircuitPayload(obj, parameter_values), plugin="qpi")
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


def _is_path(cache: Any) -> bool:
    """Whether the ``cache`` argument names a directory (rather than a store or a switch)."""
    return isinstance(cache, str) or hasattr(cache, "__fspath__")


def _user_agent() -> str:
    from qpi import __version__

    return f"qpi-sdk/{__version__}"
