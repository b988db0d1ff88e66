"""The QPI client: one method per REST endpoint, job polling, and batched submission.

:class:`QPIClient` keeps every name, parameter, default and return type of the original
``qpi_client.QPIClient``, fixes its bugs (timeouts, retries, pagination, lost server messages,
thread safety, leaked tokens) and adds :meth:`~QPIClient.wait_for_job`,
:meth:`~QPIClient.run` and a disk cache with offline replay.
"""

from __future__ import annotations

import dataclasses
import random
import threading
import time
import uuid
from collections.abc import Callable, Mapping, Sequence
from typing import TYPE_CHECKING, Any

from qpi import errors
from qpi.config import resolve
from qpi.hooks import TranslatedCircuit, make_plugin_manager
from qpi.job import Job
from qpi.payload import (
    SUBMISSION_MARK,
    CircuitPayload,
    JobPayload,
    strip_submission_mark,
)
from qpi.transport import (
    AmbiguousRequestError,
    Credentials,
    RetryPolicy,
    Timeouts,
    Transport,
    quote_segment,
)

if TYPE_CHECKING:
    import pluggy

__all__ = ["FINAL_STATUSES", "QPIClient"]

#: Job statuses after which nothing changes.
FINAL_STATUSES: frozenset[str] = frozenset({"completed", "failed", "cancelled"})
#: Page size used when following paginated lists.
PAGE_SIZE = 500


class QPIClient:
    """Client for a QPI orchestrator's REST API.

    Args:
        base_url: Root URL of the orchestrator (e.g. ``http://localhost:8090``). Defaults to
            ``$QPI_URL``, then the active profile, then ``http://localhost:8090``.
        api_token: API token sent as ``X-API-Token``. Defaults to ``$QPI_API_TOKEN``, then the
            active profile.
        timeout: Per-request timeout in seconds: a number, a ``(connect, read)`` pair, or a
            :class:`~qpi.transport.Timeouts`. Defaults to 5 s to connect and 30 s to read.
        cache: Where results are cached: a directory, a :class:`qpi.cache.Cache` (or any
            object implementing the submission hooks of :mod:`qpi.hooks`), or ``False`` for
            none. ``None`` uses ``$QPI_CACHE_DIR`` or the user cache directory.
        cache_mode: ``"reuse"`` (identical payloads are answered from the cache),
            ``"record"`` (always submit, always store), ``"replay"`` (never touch the network)
            or ``"off"``. Defaults to ``$QPI_CACHE_MODE``, else ``"reuse"``.
        profile: A profile of the user config file to take defaults from (else
            ``$QPI_PROFILE``, else the file's default); ``False`` reads no profile.
        retry: The retry policy for transient failures.

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
    ) -> None:
        cache_dir = cache if isinstance(cache, str) or hasattr(cache, "__fspath__") else None
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
        )
        self.plugins: pluggy.PluginManager = make_plugin_manager()
        self.cache = self._open_cache(cache, settings.cache_dir)
        # A store the caller passed in may serve other clients: only close one we opened.
        self._owns_cache = self.cache is not None and self.cache is not cache
        if self.cache is not None:
            self.plugins.register(self.cache, name="qpi-cache")
        self._lock = threading.Lock()
        self._qpus: dict[str, tuple[float, dict[str, Any]]] = {}
        self._user: dict[str, Any] | None = None

    def _open_cache(self, cache: Any, cache_dir: str | None) -> Any:
        if cache is False or self.cache_mode == "off":
            return None
        if cache is not None and not (isinstance(cache, str) or hasattr(cache, "__fspath__")):
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
            f"QPIClient(base_url={self.base_url!r}, api_token={token}, "
            f"cache_mode={self.cache_mode!r})"
        )

    # -- plumbing -------------------------------------------------------------------------------

    def _request(self, method: str, path: str, **kwargs: Any) -> Any:
        return self._transport.request(method, path, **kwargs)

    def _paged(self, path: str, key: str | None = None) -> list[dict[str, Any]]:
        """Every item of a list route, following ``skip``/``limit`` pages."""
        items: list[dict[str, Any]] = []
        while True:
            body = self._request("GET", path, params={"skip": len(items), "limit": PAGE_SIZE})
            page = _unwrap_list(body, key)
            items.extend(page)
            if len(page) < PAGE_SIZE or _is_pb_envelope(body):
                return items

    def _records(self, collection: str, **params: Any) -> list[dict[str, Any]]:
        """Every record of a PocketBase-style collection, following its pages."""
        items: list[dict[str, Any]] = []
        page = 1
        while True:
            body = self._request(
                "GET",
                f"/api/collections/{collection}/records",
                params={"page": page, "perPage": PAGE_SIZE, **params},
            )
            items.extend(_unwrap_list(body, None))
            if not isinstance(body, Mapping) or page >= int(body.get("totalPages") or 1):
                return items
            page += 1

    # -- jobs -----------------------------------------------------------------------------------

    def submit_job(
        self,
        circuits: list[dict[str, Any]],
        shots: int = 1024,
        meas_level: int = 2,
        meas_return: str = "single",
        qpu_target: str = "",
    ) -> str:
        """Submit a quantum job to the orchestrator.

        The payload is validated before anything is sent. With the cache in ``reuse`` mode, an
        identical payload that was already submitted returns that job's id without a new
        submission.

        Args:
            circuits: Circuit entries, each a dict with a ``circuit`` key holding OpenQASM text
                and optionally ``parameter_values`` (rows of floats) and ``shots``.
            shots: Default number of shots for every circuit.
            meas_level: Measurement level (``2`` counts, ``1`` IQ memory).
            meas_return: ``"single"`` or ``"avg"`` (for meas_level 1).
            qpu_target: The QPU's record id (see :meth:`get_qpu`); empty lets the server
                choose.

        Returns:
            The server-assigned job ID.

        Raises:
            ValidationError: If the payload is malformed (nothing is sent).
            AuthenticationError: On a bad token, or with 403 when the QPU-seconds balance is
                exhausted.
        """
        payload = JobPayload(
            circuits=tuple(CircuitPayload.from_dict(c) for c in _as_list(circuits)),
            shots=shots,
            meas_level=meas_level,
            meas_return=meas_return,
            qpu_target=qpu_target,
        )
        return self.submit(payload).id

    def submit(
        self, payload: JobPayload, translated: Sequence[TranslatedCircuit | None] | None = None
    ) -> Job:
        """Submit a validated :class:`~qpi.payload.JobPayload` and return its :class:`Job`.

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

    def _post_job(self, payload: JobPayload) -> str:
        """POST the job once; after an ambiguous failure, ask the server before resending."""
        # The API has no idempotency key, so the submission carries its own tag (a comment
        # line) by which it can be recognised in the job list if the answer is lost.
        nonce = uuid.uuid4().hex
        body = payload.marked_json(nonce)  # reuses the payload's JSON: big sweeps serialise once
        attempts = self._transport.retry.attempts
        for attempt in range(1, attempts + 1):
            try:
                record = self._request("POST", "/api/jobs", json_text=body, idempotent=False)
            except AmbiguousRequestError as exc:
                found = self._find_submitted(nonce)
                if found is not None:
                    return found
                if attempt == attempts:
                    if isinstance(exc.cause, errors.QPIError):
                        raise exc.cause from exc
                    raise errors.ConnectionError(
                        str(exc), method="POST", url=self.base_url
                    ) from exc
                continue
            return _job_id(record)
        raise AssertionError("unreachable")  # pragma: no cover

    def _find_submitted(self, nonce: str) -> str | None:
        """Find the job a submission tagged ``nonce`` created, if the server accepted it."""
        tag = SUBMISSION_MARK + nonce
        rng = random.Random()
        # A request held up on the way may still land: look a few times before resending.
        for pause in (0.05, 0.25, 0.75):
            time.sleep(pause * rng.uniform(0.8, 1.2))
            try:
                recent = _unwrap_list(
                    self._request("GET", "/api/jobs", params={"limit": 50, "sort": "-created"}),
                    "jobs",
                )
            except errors.QPIError:
                continue
            for record in recent:
                circuits = (record.get("payload") or {}).get("circuits") or [{}]
                first = circuits[0] if isinstance(circuits[0], Mapping) else {}
                if tag in str(first.get("circuit", "")):
                    return _job_id(record)
        return None

    def get_job(self, job_id: str) -> dict[str, Any]:
        """Retrieve full details for ``job_id``.

        A final record (completed, failed or cancelled) that the cache holds is returned
        without a request in ``reuse`` and ``replay`` modes, so finished jobs read offline.

        Returns:
            A dict with at least ``id``, ``status`` and ``payload``; ``results`` once the job
            has finished.

        Raises:
            NotFoundError: If the job does not exist or is not yours.
            CacheMissError: In replay mode, if the cache does not hold the job.
        """
        if self.cache_mode in ("reuse", "replay"):
            cached = self.plugins.hook.qpi_lookup_job(client=self, job_id=job_id)
            if cached is not None:
                return dict(cached)
        if self.cache_mode == "replay":
            raise errors.CacheMissError(
                f"replay mode: job {job_id} is not in the cache for {self.base_url}",
                fingerprint=job_id,
            )
        record = self._request("GET", f"/api/jobs/{quote_segment(job_id)}")
        if not isinstance(record, Mapping):
            raise errors.ServerError(f"GET /api/jobs/{job_id} did not answer a job record")
        record = _without_submission_mark(record)
        if record.get("status") in FINAL_STATUSES:
            self._remember_final(job_id, record)
        return record

    def _remember_final(self, job_id: str, record: dict[str, Any]) -> None:
        if not self.plugins.hook.qpi_after_result.get_hookimpls():
            return  # no store: skip re-reading the payload (costly for big sweeps)
        fingerprint = self.remembered_fingerprint(record)
        if fingerprint is None:
            return
        self.plugins.hook.qpi_after_result(
            client=self,
            payload=JobPayload.from_dict(record["payload"]),
            fingerprint=fingerprint,
            job_id=job_id,
            record=record,
        )

    @staticmethod
    def remembered_fingerprint(record: Mapping[str, Any]) -> str | None:
        """The fingerprint a final job record is cached under (``None``: no readable payload)."""
        try:
            return JobPayload.from_dict(record.get("payload") or {}).fingerprint()
        except errors.QPIError:
            return None

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
        jobs: list[dict[str, Any]] = []
        while limit is None or len(jobs) < limit:
            size = PAGE_SIZE if limit is None else min(PAGE_SIZE, limit - len(jobs))
            body = self._request(
                "GET", "/api/jobs", params={"skip": len(jobs), "limit": size, "sort": sort}
            )
            page = _unwrap_list(body, "jobs")
            jobs.extend(_without_submission_mark(job) for job in page)
            if len(page) < size or _is_pb_envelope(body):
                break
        return jobs

    def cancel_job(self, job_id: str) -> dict[str, Any]:
        """Request cancellation of ``job_id``.

        Returns:
            The updated job-record dict (fetched after the cancel), whose ``status`` is
            ``"cancelled"`` unless the job finished first.

        Raises:
            NotFoundError: If the job does not exist, is not yours, or already finished.
        """
        path = f"/api/jobs/{quote_segment(job_id)}"
        # Cancelling twice is harmless, so the POST may be retried like a GET.
        answer = self._request("POST", f"{path}/cancel", idempotent=True, gone_means_done=True)
        try:
            return self.get_job(job_id) if self.cache_mode != "replay" else dict(answer or {})
        except errors.NotFoundError:
            return dict(answer or {"status": "cancelled"})

    def wait_for_job(
        self,
        job_id: str,
        timeout: float | None = None,
        *,
        max_interval: float = 3.0,
        raise_on_failure: bool = True,
        callback: Callable[[dict[str, Any], float], None] | None = None,
    ) -> dict[str, Any]:
        """Wait until a job finishes and return its final record.

        Polling starts after 20 ms and backs off by 1.5x (with jitter) to ``max_interval``, so a
        job that takes 50 ms returns in well under 200 ms and a long job costs few requests.
        Connection failures and server errors while waiting are retried until the deadline:
        the wait resumes when the server comes back.

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
        start = time.monotonic()
        deadline = None if timeout is None else start + max(0.0, timeout)
        interval, rng = 0.02, random.Random()
        record: dict[str, Any] = {}
        while True:
            try:
                record = self.get_job(job_id)
            except (errors.ConnectionError, errors.ServerError, errors.RateLimitError):
                if deadline is not None and time.monotonic() >= deadline:
                    raise
            else:
                if callback is not None:
                    callback(record, time.monotonic() - start)
                if record.get("status") in FINAL_STATUSES:
                    break
            now = time.monotonic()
            if deadline is not None and now >= deadline:
                raise errors.JobTimeoutError(
                    f"job {job_id} did not finish within {timeout:g} s (last status: "
                    f"{record.get('status', 'unknown')}); it keeps running on the server, so "
                    "wait again with the same job id to collect it",
                    job_id=job_id,
                    timeout=timeout,
                )
            pause = interval * rng.uniform(0.9, 1.1)
            if deadline is not None:
                pause = min(pause, deadline - now)
            time.sleep(max(0.0, pause))
            interval = min(max_interval, interval * 1.5)
        if raise_on_failure:
            raise_for_status(record, job_id)
        return record

    def job(self, job_id: str) -> Any:
        """Retrieve an existing job by ID.

        Returns:
            The Qiskit ``QPIJob`` when the Qiskit plugin is installed (like the original
            client), else a framework-neutral :class:`qpi.job.Job`.
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
                :class:`qpi.circuit.Circuit`, a :class:`~qpi.payload.CircuitPayload`, or a
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
            A :class:`qpi.job.Job`; ``job.result()`` gives counts per circuit and row.

        Raises:
            ValidationError: For input no plugin can translate, or a malformed payload.
        """
        many = isinstance(circuits, list | tuple)
        items = list(circuits) if many else [circuits]
        if many:
            values = [None] * len(items) if parameter_values is None else list(parameter_values)
            if len(values) != len(items):
                raise errors.ValidationError(
                    f"parameter_values has {len(values)} entries for {len(items)} circuits; "
                    "give one entry (rows, or None) per circuit"
                )
        else:
            values = [parameter_values]
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

    # -- QPUs -----------------------------------------------------------------------------------

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

    def list_qpus(self) -> list[dict[str, Any]]:
        """List all online QPUs.

        Returns:
            A list of QPU record dicts (``id``, ``name``, ``status``, ``num_qubits``,
            ``enabled``, ...).
        """
        return self._paged("/api/qpus")

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
        return self._qpu_record(name)

    def _qpu_record(self, name: str) -> dict[str, Any]:
        """A QPU record by name or id (``""``: the first online QPU), memoised for a minute.

        Replay mode reads it from the cache only; reuse mode falls back to the cache when the
        server cannot be reached, so cached jobs run offline.
        """
        now = time.monotonic()
        with self._lock:
            hit = self._qpus.get(name)
        if hit is not None and now - hit[0] < 60.0:
            return dict(hit[1])
        if self.cache_mode == "replay":
            return self._cached_qpu(name)
        try:
            record = self._fetch_qpu(name) if name else self._first_online_qpu()
        except errors.ConnectionError:
            if self.cache_mode != "reuse":
                raise
            return self._cached_qpu(name)
        with self._lock:
            self._qpus[name] = (now, record)
        self.plugins.hook.qpi_after_qpu(client=self, name=name, record=record)
        return dict(record)

    def _cached_qpu(self, name: str) -> dict[str, Any]:
        record = self.plugins.hook.qpi_lookup_qpu(client=self, name=name)
        if record is None:
            what = f"QPU {name!r}" if name else "the default QPU"
            raise errors.CacheMissError(
                f"{what} is not in the cache for {self.base_url} and the server is not "
                "reachable (or replay mode is on); run once against the server to record it",
                fingerprint=name,
            )
        return dict(record)

    def _first_online_qpu(self) -> dict[str, Any]:
        online = [q for q in self.list_qpus() if q.get("enabled", True)]
        if not online:
            raise errors.NotFoundError(
                f"no QPU is online on {self.base_url}; start one or name a QPU explicitly",
                status_code=404,
            )
        return dict(online[0])

    def _fetch_qpu(self, name: str) -> dict[str, Any]:
        try:
            return dict(self._request("GET", f"/api/qpus/{quote_segment(name)}"))
        except errors.NotFoundError:
            pass
        online = self.list_qpus()
        for qpu in online:
            if qpu.get("name") == name:
                return dict(qpu)
        escaped = name.replace("\\", "\\\\").replace('"', '\\"')
        try:
            records = self._records("qpus", filter=f'name = "{escaped}"')
        except errors.APIError:
            records = []
        for qpu in records:
            if qpu.get("name") == name:
                return dict(qpu)
        names = ", ".join(sorted(str(q.get("name")) for q in online)) or "none online"
        raise errors.NotFoundError(
            f"no QPU named or with id {name!r} on {self.base_url} (online: {names})",
            status_code=404,
        )

    def resolve_qpu(self, qpu: str | None) -> str:
        """The record id to send as ``qpu_target`` for a QPU name or id.

        ``None`` picks the first online QPU, because the real server never dispatches a job
        without a target.
        """
        return str(self._qpu_record(qpu or "")["id"])

    def create_qpu(
        self,
        name: str,
        executor_type: str | None = None,
        num_qubits: int | None = None,
        enabled: bool | None = None,
    ) -> dict[str, Any]:
        """Create a new QPU record (admin-only).

        Args:
            name: QPU name.
            executor_type: Type of executor (``"mock"`` or ``"qiskit_aer"`` on the local
                orchestrator).
            num_qubits: Number of qubits on the device.
            enabled: Whether the QPU should be enabled (default ``True``).

        Returns:
            A dict with at least ``id``, ``name``, ``status`` and ``enabled``; the local
            orchestrator also returns a one-time ``access_token`` for :meth:`connect_qpu`.
        """
        body: dict[str, Any] = {"name": name}
        if executor_type is not None:
            body["executor_type"] = executor_type
        if num_qubits is not None:
            body["num_qubits"] = num_qubits
        if enabled is not None:
            body["enabled"] = enabled
        return self._request("POST", "/api/op/qpus/create", json_body=body)

    def connect_qpu(
        self,
        name: str,
        access_token: str,
        executor_type: str | None = None,
        device_config: dict[str, Any] | None = None,
    ) -> dict[str, Any]:
        """Connect a QPU driver node.

        Args:
            name: QPU name.
            access_token: The access token for the QPU (from :meth:`create_qpu`).
            executor_type: Type of executor.
            device_config: Configuration dict for the device.

        Returns:
            The connection response dict with NNG port assignments.
        """
        body: dict[str, Any] = {"name": name, "access_token": access_token}
        if executor_type is not None:
            body["executor_type"] = executor_type
        if device_config is not None:
            body["device_config"] = device_config
        return self._request("POST", "/api/op/qpus/connect", json_body=body, idempotent=True)

    def toggle_qpu(self, qpu_id: str, enabled: bool) -> dict[str, Any]:
        """Toggle QPU driver state (admin-only).

        Args:
            qpu_id: ID of the QPU.
            enabled: Whether the QPU should be enabled.

        Returns:
            Response dict (``id``, ``name``, ``enabled``, ``status``).
        """
        with self._lock:
            self._qpus.clear()
        return self._request(
            "POST",
            "/api/op/qpu/toggle",
            json_body={"id": qpu_id, "enabled": enabled},
            idempotent=True,
        )

    # -- API tokens -----------------------------------------------------------------------------

    def create_token(
        self, name: str | None = None, expires_at: str | None = None
    ) -> dict[str, Any]:
        """Create an API token for the authenticated user.

        Args:
            name: A label for the token.
            expires_at: Expiry as an RFC 3339 string; ``None`` never expires.

        Returns:
            ``{"id", "token", "name", ...}``; the raw ``token`` is shown only this once.
        """
        body: dict[str, Any] = {}
        if name is not None:
            body["name"] = name
        if expires_at is not None:
            body["expires_at"] = expires_at
        return self._request("POST", "/api/tokens", json_body=body)

    def list_tokens(self) -> list[dict[str, Any]]:
        """List the authenticated user's API tokens (without their secret values)."""
        return self._paged("/api/tokens")

    def delete_token(self, token_id: str) -> dict[str, Any]:
        """Delete (revoke) an API token by its record id."""
        answer = self._request("DELETE", f"/api/tokens/{quote_segment(token_id)}")
        return answer or {"status": "deleted"}  # None: a retry found it already deleted

    # -- notifications --------------------------------------------------------------------------

    def list_notifications(self) -> list[dict[str, Any]]:
        """List notifications visible to the authenticated user.

        Returns:
            A list of notification record dicts.
        """
        return self._records("notifications")

    def dismiss_notification(self, notification_id: str) -> dict[str, Any]:
        """Dismiss a notification for the authenticated user.

        Args:
            notification_id: ID of the notification.

        Returns:
            Response dict.
        """
        return self._request(
            "POST",
            f"/api/notifications/{quote_segment(notification_id)}/dismiss",
            idempotent=True,
        )

    # -- booking slots --------------------------------------------------------------------------

    def list_time_slots(self) -> list[dict[str, Any]]:
        """List all booking slots.

        Returns:
            A list of booking slot record dicts.
        """
        return self._records("time_slots")

    def create_time_slot(
        self, start_time: str, end_time: str, booked_by: str | None = None
    ) -> dict[str, Any]:
        """Create a new booking slot.

        Args:
            start_time: Start time RFC3339 string.
            end_time: End time RFC3339 string.
            booked_by: ID of the user booking the slot; defaults to the logged-in user.

        Returns:
            The created booking slot dict.
        """
        body: dict[str, Any] = {"start_time": start_time, "end_time": end_time}
        booked_by = booked_by or self._own_id()
        if booked_by is not None:
            body["booked_by"] = booked_by
        return self._request("POST", "/api/collections/time_slots/records", json_body=body)

    def update_time_slot(
        self, slot_id: str, start_time: str | None = None, end_time: str | None = None
    ) -> dict[str, Any]:
        """Update an existing booking slot.

        Args:
            slot_id: ID of the booking slot.
            start_time: Optional start time RFC3339 string.
            end_time: Optional end time RFC3339 string.

        Returns:
            The updated booking slot dict.
        """
        body: dict[str, Any] = {}
        if start_time is not None:
            body["start_time"] = start_time
        if end_time is not None:
            body["end_time"] = end_time
        return self._request(
            "PATCH",
            f"/api/collections/time_slots/records/{quote_segment(slot_id)}",
            json_body=body,
            idempotent=True,
        )

    def delete_time_slot(self, slot_id: str) -> None:
        """Delete a booking slot.

        Args:
            slot_id: ID of the booking slot.
        """
        self._request("DELETE", f"/api/collections/time_slots/records/{quote_segment(slot_id)}")

    # -- QPU time requests ----------------------------------------------------------------------

    def list_time_requests(self) -> list[dict[str, Any]]:
        """List QPU time requests.

        Returns:
            A list of QPU time request record dicts.
        """
        return self._records("qpu_time_requests")

    def create_time_request(
        self, seconds: int, requested_reason: str | None = None
    ) -> dict[str, Any]:
        """Create a new QPU time request.

        Args:
            seconds: Requested duration in seconds.
            requested_reason: Optional explanation.

        Returns:
            The created QPU time request record dict.
        """
        body: dict[str, Any] = {"seconds": seconds, "status": "pending"}
        if requested_reason is not None:
            body["requested_reason"] = requested_reason
        own = self._own_id()
        if own is not None:
            body["user"] = own  # the real server's create rule requires it
        return self._request("POST", "/api/collections/qpu_time_requests/records", json_body=body)

    def update_time_request(
        self, request_id: str, status: str, rejection_reason: str | None = None
    ) -> dict[str, Any]:
        """Update/Handle a QPU time request (admin-only).

        Args:
            request_id: ID of the time request.
            status: ``"approved"`` or ``"rejected"``.
            rejection_reason: Optional explanation if rejected.

        Returns:
            The updated request record dict.
        """
        if status not in ("approved", "rejected", "pending"):
            raise errors.ValidationError(f"status must be 'approved' or 'rejected', got {status!r}")
        body: dict[str, Any] = {"status": status}
        if rejection_reason is not None:
            body["rejection_reason"] = rejection_reason
        return self._request(
            "PATCH",
            f"/api/collections/qpu_time_requests/records/{quote_segment(request_id)}",
            json_body=body,
            idempotent=True,
        )

    # -- users ----------------------------------------------------------------------------------

    def list_users(self) -> list[dict[str, Any]]:
        """List all registered users (admin-only).

        Returns:
            A list of user record dicts.
        """
        return self._records("users")

    def allocate_qpu_time(self, user_id: str, seconds: int) -> dict[str, Any]:
        """Allocate QPU time to a user (admin-only).

        Args:
            user_id: ID of the user.
            seconds: Total allocated seconds.

        Returns:
            The updated user record dict.
        """
        return self._request(
            "PATCH",
            f"/api/collections/users/records/{quote_segment(user_id)}",
            json_body={"qpu_seconds": seconds},
            idempotent=True,
        )

    # -- auth -----------------------------------------------------------------------------------

    def auth_with_password(
        self, identity: str, password: str, *, superuser: bool = False
    ) -> dict[str, Any]:
        """Authenticate with email/password; later requests carry the session token.

        Args:
            identity: Email or username.
            password: User password.
            superuser: Log in as a superuser (admin) rather than a regular user.

        Returns:
            The auth response payload including token and record.
        """
        collection = "_superusers" if superuser else "users"
        path = f"/api/collections/{collection}/auth-with-password"
        try:
            # Logging in again is harmless: a lost answer is retried like a GET.
            data = self._request(
                "POST",
                path,
                json_body={"identity": identity, "password": password},
                idempotent=True,
            )
        except errors.BadRequestError as exc:
            # PocketBase answers bad credentials with 400; to a caller it is an auth failure.
            raise errors.AuthenticationError(
                f"login as {identity!r} failed: {exc.server_message or 'bad credentials'} "
                "Check the email and password"
                + (" (superuser=True logs in as an admin)." if not superuser else "."),
                status_code=exc.status_code,
                method="POST",
                url=exc.url,
                server_message=exc.server_message,
            ) from None
        self._credentials.set_session_token(data.get("token"))
        with self._lock:
            self._user = None if superuser else dict(data.get("record") or {})
        return data

    def _own_id(self) -> str | None:
        with self._lock:
            return (self._user or {}).get("id")

    def version(self) -> str:
        """The server's version string (admin-only on QPI servers)."""
        return str(self._request("GET", "/api/op/version").get("version"))

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


def raise_for_status(record: Mapping[str, Any], job_id: str) -> None:
    """Raise the matching error for a failed or cancelled job record."""
    status = record.get("status")
    if status == "failed":
        message = _failure_message(record.get("results"))
        raise errors.JobFailedError(
            f"job {job_id} failed: {message or 'the server gave no reason'}",
            job_id=job_id,
            server_message=message,
        )
    if status == "cancelled":
        raise errors.JobCancelledError(f"job {job_id} was cancelled", job_id=job_id)


def _failure_message(results: Any) -> str:
    if isinstance(results, str):
        try:
            import json

            results = json.loads(results)
        except ValueError:
            return results
    if isinstance(results, Mapping):
        return str(results.get("error") or "")
    return ""


def _as_list(circuits: Any) -> list[Any]:
    if isinstance(circuits, str | Mapping):
        return [circuits]
    if not isinstance(circuits, list | tuple):
        raise errors.ValidationError(
            f"circuits must be a list of {{'circuit': qasm}} dicts, got {type(circuits).__name__}"
        )
    return list(circuits)


def _without_submission_mark(record: Mapping[str, Any]) -> dict[str, Any]:
    """A job record whose payload reads exactly as submitted (the submission tag removed)."""
    record = dict(record)
    payload = record.get("payload")
    if isinstance(payload, Mapping) and isinstance(payload.get("circuits"), list):
        circuits = [
            {**c, "circuit": strip_submission_mark(c.get("circuit"))}
            if isinstance(c, Mapping)
            else c
            for c in payload["circuits"]
        ]
        record["payload"] = {**payload, "circuits": circuits}
    return record


def _unwrap_list(body: Any, key: str | None) -> list[dict[str, Any]]:
    """Accept a bare list, ``{key: [...]}`` or a PocketBase ``{"items": [...]}`` envelope."""
    if body is None:
        return []
    if isinstance(body, list):
        return body
    if isinstance(body, Mapping):
        for k in (key, "items", "jobs", "data"):
            if k and isinstance(body.get(k), list):
                return body[k]
    raise errors.ServerError(f"expected a list from the server, got {type(body).__name__}")


def _is_pb_envelope(body: Any) -> bool:
    return isinstance(body, Mapping) and "totalPages" in body


def _job_id(record: Any) -> str:
    if isinstance(record, Mapping):
        job_id = record.get("id") or record.get("job_id")
        if job_id:
            return str(job_id)
    raise errors.ServerError(f"the server's answer holds no job id: {record!r:.200}")


def _user_agent() -> str:
    from qpi import __version__

    return f"qpi-sdk/{__version__}"
