"""The disk cache: job results, job records and QPU records, kept across sessions.

:class:`Cache` is a plugin of the submission hooks of :mod:`qpi.hooks`. Every
:class:`~qpi.QPIClient` registers one (unless ``cache=False`` or the mode is ``off``), and the
client's ``cache_mode`` decides how its answers are used:

- ``reuse``: an identical payload sent to the same server is answered from the cache with no
  request; a payload that was submitted but never collected re-attaches to its job;
- ``record``: always submit, always store;
- ``replay``: never touch the network; a payload the cache does not hold raises
  :class:`~qpi.errors.CacheMissError`;
- ``off``: no cache at all.

The store itself has no mode, so one :class:`Cache` can serve several clients at once. It
keeps four kinds of entry, each keyed by the normalised server URL and:

- ``result``: a payload fingerprint -> the completed job record and the canonical payload;
- ``submitted``: a payload fingerprint -> the id of the job submitted for it, written before
  the client starts waiting, so a process killed mid-wait re-attaches instead of paying twice;
- ``job``: a job id -> the job's final record (completed, failed or cancelled);
- ``qpu``: a QPU name or id (``""`` for "the default online QPU") -> the QPU record.

Entries are JSON text in a :class:`diskcache.Cache` (SQLite plus files), which is safe for
many threads and processes at once. Nothing is ever pickled, so a cache directory or an
export file cannot run code when read, and nothing stored holds a token or a password.

What happens when things go wrong:

- a cache directory that cannot be used at all (the path is a file, no permission) raises
  :class:`~qpi.errors.CacheError` when the cache is opened;
- a damaged database (truncated, overwritten, "malformed") is moved aside to
  ``<dir>.corrupt-<time>-<pid>`` and an empty cache is started, with a :class:`CacheWarning`:
  the cache holds nothing that cannot be fetched again, and the broken copy is kept to inspect;
- a damaged entry (not JSON, wrong shape, a payload that differs from the one asked for) is
  dropped with a :class:`CacheWarning` and treated as a miss: the cache never answers with a
  result for a different payload, server or QPU;
- a failed write (full disk, read-only file system, lock timeout) inside a hook warns with a
  :class:`CacheWarning` and is skipped: the job still runs and its result is returned;
- the management methods (:meth:`Cache.info`, :meth:`Cache.export_to`, ...) raise
  :class:`~qpi.errors.CacheError` instead, since the user asked for exactly that operation.

Example:
    ```python
    from qpi import QPIClient
    from qpi.cache import Cache

    with Cache("~/qpi-cache") as cache:
        client = QPIClient("http://localhost:8090", cache=cache, cache_mode="reuse")
        print(client.run(BELL_QASM, qpu="mock").result().from_cache)  # False, then True
        cache.export_to("results.qpicache.gz")
    ```
"""

from __future__ import annotations

import contextlib
import gzip
import hashlib
import json
import os
import sqlite3
import tempfile
import threading
import time
import warnings
import zlib
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar
from urllib.parse import urlsplit

import diskcache
from diskcache.core import MODE_PICKLE, UNKNOWN

from qpi.errors import CacheError, CacheMissError, NotFoundError, QPIError, ValidationError
from qpi.hooks import hookimpl
from qpi.payload import JobPayload, canonical_json
from qpi.result import JobResult, parse_results

if TYPE_CHECKING:
    from qpi.client import QPIClient

__all__ = [
    "EXPORT_FORMAT",
    "EXPORT_VERSION",
    "KINDS",
    "Cache",
    "CacheEntry",
    "CacheWarning",
    "normalise_server",
]

#: The kinds of cache entry.
KINDS: tuple[str, ...] = ("result", "submitted", "job", "qpu")
#: The ``format`` field of an export file.
EXPORT_FORMAT = "qpi-cache-export"
#: The export file version this module writes and reads.
EXPORT_VERSION = 1

# Kinds that travel in exports. A `submitted` entry points at a job that only its submitter
# can see, so it is useless (and misleading) anywhere else.
_EXPORTED_KINDS = ("result", "job", "qpu")
_ENTRY_VERSION = 1
_FINAL_STATUSES = frozenset({"completed", "failed", "cancelled"})
_DEAD_STATUSES = frozenset({"failed", "cancelled"})
# Record fields copied into a cached result's metadata (as qpi.job.Job.result does).
_METADATA_FIELDS = ("status", "qpu_target", "duration", "finished_at", "created", "updated")
# Record fields that could hold a credential. Records never carry them, but a store that must
# never hold a secret drops them rather than trust every server version.
_SECRET_FIELDS = frozenset(
    {"token", "api_token", "access_token", "auth_token", "password", "passwordConfirm", "secret"}
)
# Errors of the storage layer: disk full, I/O, locks held too long, SQLite refusing.
_STORE_ERRORS = (OSError, sqlite3.Error, diskcache.Timeout)
_CORRUPT_CODES = frozenset({"SQLITE_CORRUPT", "SQLITE_NOTADB"})

_T = TypeVar("_T")


class CacheWarning(UserWarning):
    """The cache could not be read or written, or was damaged and rebuilt.

    The operation that triggered it went on without the cache; the message says what happened
    and where.
    """


@dataclass(frozen=True)
class CacheEntry:
    """A summary of one cache entry, as listed by :meth:`Cache.entries`.

    Attributes:
        kind: ``"result"``, ``"submitted"``, ``"job"`` or ``"qpu"``.
        server: The normalised URL of the server the entry belongs to.
        key: The payload fingerprint (``result``, ``submitted``), job id (``job``) or QPU
            name or id (``qpu``; ``""`` is the default online QPU).
        job_id: The job the entry refers to; the QPU's record id for ``qpu`` entries.
        created: When the server created the job or QPU record, as it reported it.
        stored: When the entry was written to the cache (seconds since the epoch).
        size: Size of the stored entry in bytes.
        status: The job's status (``result`` and ``job`` entries), else ``None``.
    """

    kind: str
    server: str
    key: str
    job_id: str | None
    created: str | None
    stored: float
    size: int
    status: str | None = None


def normalise_server(url: str) -> str:
    """The form of a server URL used in cache keys.

    Scheme and host are lower-cased, a default port and a trailing slash are dropped, and any
    user name or password in the URL is removed, so it never reaches the disk.

    Args:
        url: A server root URL such as ``"http://LocalHost:8090/"``.

    Returns:
        For example ``"http://localhost:8090"``.
    """
    text = str(url).strip()
    if "://" not in text:
        text = "http://" + text
    parts = urlsplit(text)
    scheme = parts.scheme.lower()
    host = (parts.hostname or "").lower()
    if ":" in host:  # an IPv6 literal keeps its brackets
        host = f"[{host}]"
    try:
        port = parts.port
    except ValueError:
        port = None
    default_port = {"http": 80, "https": 443}.get(scheme)
    netloc = host if port in (None, default_port) else f"{host}:{port}"
    return f"{scheme}://{netloc}{parts.path.rstrip('/')}"


class _ForeignEntry(CacheError):
    """An entry in a form qpi never writes (a pickle); it is never loaded."""


class _TextDisk(diskcache.Disk):
    """Keys and values as text only, so nothing read from the cache is ever unpickled."""

    def put(self, key: Any) -> tuple[Any, bool]:
        if type(key) is not str:
            raise TypeError(f"qpi cache keys are text, got {type(key).__name__}")
        return super().put(key)

    def get(self, key: Any, raw: bool) -> Any:
        # A pickled key was written by something other than qpi; hide it instead of loading it.
        return super().get(key, raw) if raw else None

    def store(self, value: Any, read: bool, key: Any = UNKNOWN) -> tuple[Any, ...]:
        if type(value) is not str:
            raise TypeError(f"qpi cache values are JSON text, got {type(value).__name__}")
        return super().store(value, read, key=key)

    def fetch(self, mode: int, filename: str | None, value: Any, read: bool) -> Any:
        if mode == MODE_PICKLE:
            raise _ForeignEntry("it is a pickle, which qpi never writes; it was not loaded")
        return super().fetch(mode, filename, value, read)


class Cache:
    """A disk-backed store of job results, job records and QPU records.

    Register it on a client with ``QPIClient(cache=Cache(...))`` (a client given a directory
    or nothing builds its own). It implements the submission hooks of :mod:`qpi.hooks`; the
    management methods back the ``qpi cache`` command.

    Args:
        directory: Where the cache lives. ``None`` uses ``$QPI_CACHE_DIR``, else the user cache
            directory (``platformdirs.user_cache_dir("qpi")``, e.g. ``~/.cache/qpi``).
        size_limit: Approximate size cap in bytes; past it the least recently used entries are
            evicted. Defaults to 1 GiB.

    Raises:
        CacheError: If the directory cannot be used (it is a file, cannot be created, or is
            not writable).
        ValidationError: If ``size_limit`` is not a positive integer.
    """

    def __init__(
        self, directory: str | os.PathLike[str] | None = None, *, size_limit: int = 1 << 30
    ) -> None:
        if isinstance(size_limit, bool) or not isinstance(size_limit, int) or size_limit < 1:
            raise ValidationError(
                f"size_limit must be a positive number of bytes, got {size_limit!r}"
            )
        self._directory = _resolve_directory(directory)
        self._size_limit = size_limit
        self._lock = threading.Lock()
        self._identity: tuple[int, int] | None = None
        self._store = self._open()

    # -- properties and lifecycle ---------------------------------------------------------------

    @property
    def directory(self) -> Path:
        """The cache directory."""
        return self._directory

    @property
    def size_limit(self) -> int:
        """The approximate size cap in bytes."""
        return self._size_limit

    def close(self) -> None:
        """Close this thread's database connection; the cache reopens on next use."""
        self._store.close()

    def __enter__(self) -> Cache:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"Cache({str(self._directory)!r}, size_limit={self._size_limit})"

    # -- hooks ----------------------------------------------------------------------------------

    @hookimpl
    def qpi_before_submit(
        self, client: QPIClient, payload: JobPayload, fingerprint: str
    ) -> JobResult | str | None:
        """Answer a submission from the cache, re-attach it, or let it through.

        In ``reuse`` mode a stored result is returned, else the id of a job already submitted
        for the payload (if the server still has it pending or running), else ``None``. In
        ``replay`` mode a stored result is returned and anything else raises. In ``record``
        and ``off`` modes the answer is always ``None``.

        Args:
            client: The submitting client (its ``base_url`` and ``cache_mode`` are read).
            payload: The payload about to be submitted.
            fingerprint: ``payload.fingerprint()``.

        Returns:
            A :class:`~qpi.result.JobResult` marked ``from_cache``, a job id, or ``None``.

        Raises:
            CacheMissError: In replay mode, when no result is stored for the payload.
        """
        mode = _mode(client)
        if mode not in ("reuse", "replay"):
            return None
        server = normalise_server(client.base_url)
        result = self._cached_result(server, payload, fingerprint)
        if result is not None:
            return result
        if mode == "replay":
            pending = self._read("submitted", server, fingerprint)
            raise CacheMissError(
                self._miss_message(server, payload, fingerprint, pending), fingerprint=fingerprint
            )
        return self._reattach(client, server, payload, fingerprint)

    @hookimpl
    def qpi_after_submit(
        self, client: QPIClient, payload: JobPayload, fingerprint: str, job_id: str
    ) -> None:
        """Record the id of a job just accepted, before anyone waits on it.

        Args:
            client: The submitting client.
            payload: The submitted payload.
            fingerprint: ``payload.fingerprint()``.
            job_id: The id the server assigned.
        """
        if _mode(client) == "off":
            return
        data = {"job_id": str(job_id), "payload": payload.to_json()}
        self._write(
            normalise_server(client.base_url),
            [("submitted", fingerprint, data)],
            what=f"the id of job {job_id}",
        )

    @hookimpl
    def qpi_after_result(
        self,
        client: QPIClient,
        payload: JobPayload,
        fingerprint: str,
        job_id: str,
        record: dict[str, Any],
    ) -> None:
        """Store a job's final record, and its result when it completed.

        A failed or cancelled job also drops the ``submitted`` entry that points at it, so the
        next identical run submits again instead of re-attaching to a dead job.

        Args:
            client: The client that read the record.
            payload: The job's payload.
            fingerprint: ``payload.fingerprint()``.
            job_id: The job's id.
            record: The final job record from the server.
        """
        status = record.get("status") if isinstance(record, Mapping) else None
        if _mode(client) == "off" or status not in _FINAL_STATUSES:
            return
        server = normalise_server(client.base_url)
        job_id = str(job_id)
        clean = _scrub(dict(record))
        items: list[tuple[str, str, dict[str, Any]]] = [
            ("job", job_id, {"job_id": job_id, "record": clean})
        ]
        if status == "completed" and _result_is_storable(payload, fingerprint, job_id, clean):
            items.append(
                (
                    "result",
                    fingerprint,
                    {"job_id": job_id, "payload": payload.to_json(), "record": clean},
                )
            )
        self._write(server, items, what=f"the result of job {job_id}")
        if status in _DEAD_STATUSES:
            self._forget_submitted(server, fingerprint, job_id)

    @hookimpl
    def qpi_lookup_job(self, client: QPIClient, job_id: str) -> dict[str, Any] | None:
        """Return the stored final record of ``job_id`` on the client's server, if any.

        Args:
            client: The asking client.
            job_id: The job's id.
        """
        data = self._read("job", normalise_server(client.base_url), str(job_id))
        return dict(data["record"]) if data is not None else None

    @hookimpl
    def qpi_lookup_qpu(self, client: QPIClient, name: str) -> dict[str, Any] | None:
        """Return the stored record of the QPU ``name`` (a name, an id, or ``""``), if any.

        Args:
            client: The asking client.
            name: A QPU name or record id; ``""`` asks for the default online QPU.
        """
        data = self._read("qpu", normalise_server(client.base_url), str(name))
        return dict(data["record"]) if data is not None else None

    @hookimpl
    def qpi_after_qpu(self, client: QPIClient, name: str, record: dict[str, Any]) -> None:
        """Store a QPU record under the name asked for, its record id and its name.

        Args:
            client: The client that fetched the record.
            name: What the record was looked up by (``""`` for the default online QPU).
            record: The QPU record.
        """
        if _mode(client) == "off" or not isinstance(record, Mapping) or not record.get("id"):
            return
        clean = _scrub(dict(record))
        names = dict.fromkeys([str(name), str(clean["id"]), str(clean.get("name") or "")])
        items = [("qpu", key, {"record": clean}) for key in names if key or not name]
        self._write(normalise_server(client.base_url), items, what=f"QPU {name!r}")

    # -- management -----------------------------------------------------------------------------

    def info(self) -> dict[str, Any]:
        """Where the cache is, how big it is, and how many entries of each kind it holds.

        Returns:
            ``{"directory": str, "size": bytes, "size_limit": bytes, "count": n,
            "counts": {"result": n, "submitted": n, "job": n, "qpu": n}}``.

        Raises:
            CacheError: If the cache cannot be read.
        """
        counts = dict.fromkeys(KINDS, 0)
        for kind, _, _ in self._parsed_keys():
            counts[kind] += 1
        return {
            "directory": str(self._directory),
            "size": self._manage("measured", lambda store: store.volume()),
            "size_limit": self._size_limit,
            "count": sum(counts.values()),
            "counts": counts,
        }

    def entries(self, kind: str | None = None) -> Iterator[CacheEntry]:
        """Summaries of the stored entries, optionally of one kind only.

        Reading an entry counts as a use for the least-recently-used eviction. Damaged
        entries are dropped (with a :class:`CacheWarning`) and not listed.

        Args:
            kind: ``"result"``, ``"submitted"``, ``"job"`` or ``"qpu"``; ``None`` for all.

        Returns:
            An iterator of one :class:`CacheEntry` per entry, grouped by kind.

        Raises:
            ValidationError: If ``kind`` is not a kind of entry.
            CacheError: If the cache cannot be read.
        """
        _check_kind(kind)  # now, not at the first next()
        return self._summaries(kind)

    def _summaries(self, kind: str | None) -> Iterator[CacheEntry]:
        for parts in self._parsed_keys():
            if kind is not None and parts[0] != kind:
                continue
            loaded = self._load(*parts, strict=True)
            if loaded is not None:
                yield _summary(*loaded)

    def export_to(
        self,
        path: str | os.PathLike[str],
        *,
        job_ids: Iterable[str] | None = None,
        fingerprints: Iterable[str] | None = None,
    ) -> int:
        """Write results, job records and QPU records to one portable file.

        The file is gzip-compressed JSON with a format name, a version, the entries and a
        SHA-256 digest of them; :meth:`import_from` reads it on any machine. ``submitted``
        entries are never exported: they point at jobs only their submitter can see. With
        ``job_ids`` or ``fingerprints``, only the matching results and job records are
        written, with the records of the QPUs they ran on (so replay can resolve QPU names).

        Args:
            path: The file to write (replaced atomically if it exists).
            job_ids: Export only these jobs.
            fingerprints: Export only the results of these payload fingerprints.

        Returns:
            How many entries were written.

        Raises:
            CacheError: If the cache cannot be read or the file cannot be written.
        """
        loaded = [self._load(*parts, strict=True) for parts in _exported(self._parsed_keys())]
        chosen = _select_for_export(
            _importable([envelope for _, envelope in filter(None, loaded)]),
            None if job_ids is None else {str(j) for j in job_ids},
            None if fingerprints is None else {str(f) for f in fingerprints},
        )
        document = {
            "format": EXPORT_FORMAT,
            "version": EXPORT_VERSION,
            "exported_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
            "count": len(chosen),
            "sha256": _digest(chosen),
            "entries": chosen,
        }
        _write_atomically(Path(path), gzip.compress(canonical_json(document).encode(), mtime=0))
        return len(chosen)

    def import_from(self, path: str | os.PathLike[str]) -> int:
        """Add the entries of an export file to this cache.

        The whole file is checked before anything is written, and the entries are written in
        one transaction, so a refused or failed import leaves the cache as it was. Entries
        already present are replaced.

        Args:
            path: A file written by :meth:`export_to`.

        Returns:
            How many entries were imported.

        Raises:
            CacheError: If the file is unreadable or truncated, is not a qpi cache export, has
                an unsupported version, does not match its digest, or holds an entry whose key
                does not match its content (a result whose key is not its payload's
                fingerprint, for example).
        """
        envelopes = _read_export(Path(path))
        texts = [
            (_key(env["kind"], env["server"], env["key"]), canonical_json(env)) for env in envelopes
        ]

        def write_all(store: diskcache.Cache) -> None:
            with store.transact():
                for key, text in texts:
                    store.set(key, text)

        self._manage(f"updated from {path}; nothing was imported", write_all)
        return len(texts)

    def clear(self) -> None:
        """Remove every entry.

        Raises:
            CacheError: If the cache cannot be written.
        """
        self._manage("cleared", lambda store: store.clear())

    def prune(self, older_than: float | None = None) -> int:
        """Evict down to the size limit, then drop entries stored more than ``older_than`` s ago.

        Damaged entries found on the way are dropped too.

        Args:
            older_than: Age in seconds; ``None`` only enforces the size limit.

        Returns:
            How many entries were removed.

        Raises:
            ValidationError: If ``older_than`` is negative.
            CacheError: If the cache cannot be written.
        """
        if older_than is not None and older_than < 0:
            raise ValidationError(f"older_than must be a number of seconds >= 0, got {older_than}")
        # Cull first: reading entries below refreshes their use time and would blur the LRU order.
        removed = int(self._manage("culled", lambda store: store.cull()))
        if older_than is None:
            return removed
        cutoff = time.time() - older_than
        for parts in self._parsed_keys():
            loaded = self._load(*parts, strict=True)
            if loaded is None:
                removed += 1
            elif loaded[1]["stored"] < cutoff:
                removed += self._manage("pruned", _deleter(_key(*parts)))
        return removed

    # -- hook helpers ---------------------------------------------------------------------------

    def _cached_result(
        self, server: str, payload: JobPayload, fingerprint: str
    ) -> JobResult | None:
        data = self._read("result", server, fingerprint)
        if data is None:
            return None
        key = _key("result", server, fingerprint)
        if data["payload"] != payload.to_json():
            self._discard(key, "it holds a different payload than the one asked for")
            return None
        job_id, record = data["job_id"], data["record"]
        try:
            experiments = parse_results(payload, record.get("results"), job_id=job_id)
        except QPIError as exc:
            self._discard(key, f"its results do not fit the payload ({exc})")
            return None
        return JobResult(job_id, payload, experiments, _metadata(record, job_id, fingerprint))

    def _reattach(
        self, client: QPIClient, server: str, payload: JobPayload, fingerprint: str
    ) -> str | None:
        data = self._read("submitted", server, fingerprint)
        if data is None:
            return None
        if data["payload"] != payload.to_json():
            self._discard(_key("submitted", server, fingerprint), "it holds a different payload")
            return None
        job_id = data["job_id"]
        if _job_is_gone(client, job_id):
            self._forget_submitted(server, fingerprint, job_id)
            return None
        return job_id

    def _forget_submitted(self, server: str, fingerprint: str, job_id: str) -> None:
        key = _key("submitted", server, fingerprint)

        def drop_if_same_job(store: diskcache.Cache) -> None:
            with store.transact():
                text = store.get(key)
                if text is not None and _points_at(text, job_id):
                    store.delete(key)

        try:
            self._run(drop_if_same_job)
        except (*_STORE_ERRORS, CacheError) as exc:
            _warn(f"could not drop the re-attach entry of job {job_id} in {self._directory}: {exc}")

    def _miss_message(
        self, server: str, payload: JobPayload, fingerprint: str, pending: dict[str, Any] | None
    ) -> str:
        shots = sorted({payload.shots_for(i) for i in range(len(payload.circuits))})
        target = payload.qpu_target or "(the server's default QPU)"
        text = (
            f"replay mode: the cache at {self._directory} holds no result for payload "
            f"{fingerprint[:16]}… ({len(payload.circuits)} circuit(s), "
            f"{payload.num_experiments} experiment(s), {'/'.join(map(str, shots))} shots, "
            f"QPU target {target}) on {server}"
        )
        if pending is not None:
            text += (
                f"; job {pending['job_id']} was submitted for it but its result was never collected"
            )
        return text + (
            ". Fill the cache by running the same code once with cache_mode='reuse' or 'record' "
            "while the server is reachable, or import an export of a cache that holds it "
            "(Cache.import_from, `qpi cache import`)."
        )

    # -- reading and writing entries ------------------------------------------------------------

    def _read(self, kind: str, server: str, name: str) -> dict[str, Any] | None:
        """The ``data`` of an entry, or ``None`` if absent, unreadable or damaged (dropped)."""
        loaded = self._load(kind, server, name, strict=False)
        return loaded[1]["data"] if loaded is not None else None

    def _load(
        self, kind: str, server: str, name: str, *, strict: bool
    ) -> tuple[int, dict[str, Any]] | None:
        """``(size, envelope)`` of an entry; damaged entries are dropped and read as absent.

        With ``strict``, a storage failure raises :class:`CacheError`; otherwise it warns and
        reads as absent (the hooks must never stop a job because the cache is unwell).
        """
        key = _key(kind, server, name)
        try:
            text = self._run(lambda store: store.get(key))
        except _ForeignEntry as exc:
            self._discard(key, str(exc))
            return None
        except (*_STORE_ERRORS, CacheError) as exc:
            if strict:
                if isinstance(exc, CacheError):
                    raise
                raise CacheError(
                    f"the qpi cache at {self._directory} could not be read: {exc}"
                ) from exc
            _warn(
                f"could not read {kind} {name!r} from {self._directory} ({exc}); treated as a miss"
            )
            return None
        if text is None:
            return None
        try:
            envelope = _decode(text, (kind, server, name))
        except CacheError as exc:
            self._discard(key, str(exc))
            return None
        return len(text.encode() if isinstance(text, str) else text), envelope

    def _write(
        self, server: str, items: list[tuple[str, str, dict[str, Any]]], *, what: str
    ) -> None:
        """Write entries in one transaction; a failure warns instead of raising."""
        try:
            texts = [
                (_key(kind, server, name), _encode(kind, server, name, data))
                for kind, name, data in items
            ]
        except ValueError as exc:  # NaN or another value JSON cannot hold
            _warn(f"could not store {what}: {exc}")
            return

        def write_all(store: diskcache.Cache) -> None:
            with store.transact():
                for key, text in texts:
                    store.set(key, text)

        try:
            self._run(write_all)
        except (*_STORE_ERRORS, CacheError) as exc:
            _warn(
                f"could not write {what} to {self._directory} ({exc}); the job is unaffected "
                "but this entry is not cached"
            )

    def _discard(self, key: str, reason: str) -> None:
        _warn(f"dropped a damaged cache entry {key} in {self._directory}: {reason}")
        with contextlib.suppress(*_STORE_ERRORS, CacheError):
            self._run(_deleter(key))

    def _parsed_keys(self) -> list[tuple[str, str, str]]:
        keys = self._manage("listed", lambda store: list(store.iterkeys()))
        return [parts for parts in map(_parse_key, keys) if parts is not None]

    def _manage(self, verb: str, op: Callable[[diskcache.Cache], _T]) -> _T:
        """Run a management operation; storage failures become :class:`CacheError`."""
        try:
            return self._run(op)
        except _STORE_ERRORS as exc:
            raise CacheError(
                f"the qpi cache at {self._directory} could not be {verb}: {exc}"
            ) from exc

    # -- the database: opening, and recovering from damage --------------------------------------

    def _run(self, op: Callable[[diskcache.Cache], _T]) -> _T:
        """Run ``op`` on the store; a damaged database is moved aside and ``op`` retried once."""
        store = self._store
        try:
            return op(store)
        except sqlite3.DatabaseError as exc:
            if not _is_corrupt(exc):
                raise
            self._recover(store, exc)
        return op(self._store)

    def _open(self) -> diskcache.Cache:
        if self._directory.exists() and not self._directory.is_dir():
            raise CacheError(
                f"the qpi cache path {self._directory} is a file, not a directory; point "
                "QPI_CACHE_DIR (or QPIClient(cache=...)) at a directory"
            )
        before = _identity(self._directory)
        try:
            store = self._connect()
        except sqlite3.DatabaseError as exc:
            if not _is_corrupt(exc):
                raise self._open_error(exc) from exc
            self._move_aside(before, exc)
            store = self._connect_or_raise()
        except _STORE_ERRORS as exc:
            raise self._open_error(exc) from exc
        self._identity = _identity(self._directory)
        return store

    def _connect(self) -> diskcache.Cache:
        return diskcache.Cache(
            str(self._directory),
            size_limit=self._size_limit,
            eviction_policy="least-recently-used",
            disk=_TextDisk,
        )

    def _connect_or_raise(self) -> diskcache.Cache:
        try:
            return self._connect()
        except _STORE_ERRORS as exc:
            raise self._open_error(exc) from exc

    def _open_error(self, exc: BaseException) -> CacheError:
        return CacheError(
            f"cannot open the qpi cache at {self._directory}: {exc}. Point QPI_CACHE_DIR (or "
            "QPIClient(cache=...)) at a writable directory, or run without a cache "
            "(QPIClient(cache=False) or QPI_CACHE_MODE=off)"
        )

    def _recover(self, broken: diskcache.Cache, exc: sqlite3.DatabaseError) -> None:
        with self._lock:
            if self._store is not broken:  # another thread has already recovered
                return
            broken.close()
            self._move_aside(self._identity, exc)
            self._store = self._connect_or_raise()
            self._identity = _identity(self._directory)

    def _move_aside(self, seen: tuple[int, int] | None, exc: BaseException) -> None:
        """Rename the damaged directory, unless another process already replaced it."""
        if seen is None or _identity(self._directory) != seen:
            _warn(f"the cache at {self._directory} was damaged ({exc}) and has been rebuilt")
            return
        stamp = time.strftime("%Y%m%d-%H%M%S")
        aside = self._directory.with_name(f"{self._directory.name}.corrupt-{stamp}-{os.getpid()}")
        try:
            self._directory.rename(aside)
        except OSError as error:
            raise CacheError(
                f"the qpi cache at {self._directory} is damaged ({exc}) and could not be moved "
                f"aside ({error}); delete the directory to start afresh"
            ) from exc
        _warn(
            f"the cache at {self._directory} was damaged ({exc}); it was moved to {aside} "
            "and an empty cache was started"
        )


# -- module helpers (pure functions) -----------------------------------------------------------


def _resolve_directory(directory: str | os.PathLike[str] | None) -> Path:
    if directory is None:
        directory = os.environ.get("QPI_CACHE_DIR") or None
    if directory is None:
        from platformdirs import user_cache_dir

        directory = user_cache_dir("qpi", appauthor=False)
    return Path(directory).expanduser().absolute()


def _identity(directory: Path) -> tuple[int, int] | None:
    try:
        stat = directory.stat()
    except OSError:
        return None
    return stat.st_dev, stat.st_ino


def _is_corrupt(exc: sqlite3.DatabaseError) -> bool:
    name = getattr(exc, "sqlite_errorname", None)
    if name is not None:
        return name in _CORRUPT_CODES
    text = str(exc).lower()
    return "malformed" in text or "not a database" in text


def _mode(client: Any) -> str:
    return str(getattr(client, "cache_mode", None) or "reuse").lower()


def _check_kind(kind: str | None) -> None:
    if kind is not None and kind not in KINDS:
        raise ValidationError(f"kind must be one of {KINDS} or None, got {kind!r}")


def _key(kind: str, server: str, name: str) -> str:
    return canonical_json([kind, server, name])


def _parse_key(key: Any) -> tuple[str, str, str] | None:
    """The parts of a key written by this module; ``None`` for anything else."""
    if not isinstance(key, str):
        return None
    try:
        parts = json.loads(key)
    except ValueError:
        return None
    if (
        isinstance(parts, list)
        and len(parts) == 3
        and parts[0] in KINDS
        and all(isinstance(p, str) for p in parts)
    ):
        return parts[0], parts[1], parts[2]
    return None


def _deleter(key: str) -> Callable[[diskcache.Cache], int]:
    return lambda store: int(bool(store.delete(key)))


def _sha256(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


def _scrub(value: Any) -> Any:
    """A copy of ``value`` without any field that could hold a credential."""
    if isinstance(value, Mapping):
        return {k: _scrub(v) for k, v in value.items() if k not in _SECRET_FIELDS}
    if isinstance(value, list):
        return [_scrub(v) for v in value]
    return value


def _encode(kind: str, server: str, name: str, data: dict[str, Any]) -> str:
    envelope = {
        "v": _ENTRY_VERSION,
        "kind": kind,
        "server": server,
        "key": name,
        "stored": time.time(),
        "data": data,
    }
    return canonical_json(envelope)


def _decode(text: str | bytes, expected: tuple[str, str, str]) -> dict[str, Any]:
    try:
        if isinstance(text, bytes):
            text = text.decode("utf-8")
        envelope = json.loads(text)
    except ValueError as exc:
        raise CacheError(f"it is not valid JSON ({exc})") from None
    _check_envelope(envelope)
    if (envelope["kind"], envelope["server"], envelope["key"]) != expected:
        raise CacheError("it was stored under another key")
    return envelope


def _check_envelope(envelope: Any, *, deep: bool = False) -> None:
    """Check the shape of a stored entry (and, with ``deep``, that its result parses).

    Raises:
        CacheError: Saying what is wrong.
    """
    if not isinstance(envelope, dict):
        raise CacheError("it is not a JSON object")
    if envelope.get("v") != _ENTRY_VERSION:
        raise CacheError(f"unknown entry version {envelope.get('v')!r}")
    kind, name, data = envelope.get("kind"), envelope.get("key"), envelope.get("data")
    if kind not in KINDS:
        raise CacheError(f"unknown entry kind {kind!r}")
    if not isinstance(envelope.get("server"), str) or not isinstance(name, str):
        raise CacheError("its server or key is not text")
    stored = envelope.get("stored")
    if isinstance(stored, bool) or not isinstance(stored, int | float):
        raise CacheError("its stored time is not a number")
    if not isinstance(data, dict):
        raise CacheError("its data is not an object")
    _check_data(kind, name, data, deep=deep)


def _check_data(kind: str, name: str, data: dict[str, Any], *, deep: bool) -> None:
    if kind == "qpu":
        record = data.get("record")
        if not isinstance(record, dict) or not record.get("id"):
            raise CacheError("its QPU record has no id")
        return
    job_id = data.get("job_id")
    if not isinstance(job_id, str) or not job_id:
        raise CacheError("it names no job id")
    if kind in ("result", "submitted"):
        payload = data.get("payload")
        if not isinstance(payload, str) or _sha256(payload) != name:
            raise CacheError("its key is not the fingerprint of its stored payload")
    if kind == "submitted":
        return
    record = data.get("record")
    if not isinstance(record, dict) or record.get("id", job_id) != job_id:
        raise CacheError(f"its job record is not the record of job {job_id}")
    if kind == "job":
        if job_id != name or record.get("status") not in _FINAL_STATUSES:
            raise CacheError("it is not the final record of the job it is stored under")
        return
    if record.get("status") != "completed":
        raise CacheError("its job record is not completed")
    if deep:
        _check_result_parses(data["payload"], record, job_id)


def _check_result_parses(payload_text: str, record: dict[str, Any], job_id: str) -> None:
    try:
        payload = JobPayload.from_dict(json.loads(payload_text))
        if payload.to_json() != payload_text:
            raise CacheError("its stored payload is not in canonical form")
        parse_results(payload, record.get("results"), job_id=job_id)
    except (QPIError, ValueError) as exc:
        if isinstance(exc, CacheError):
            raise
        raise CacheError(f"its results do not fit its payload ({exc})") from None


def _points_at(text: str | bytes, job_id: str) -> bool:
    try:
        envelope = json.loads(text)
        return envelope["data"]["job_id"] == job_id
    except (ValueError, KeyError, TypeError):
        return True  # damaged: dropping it is right anyway


def _result_is_storable(
    payload: JobPayload, fingerprint: str, job_id: str, record: dict[str, Any]
) -> bool:
    """Whether a completed record can serve later runs of ``payload`` (it parses, keys match)."""
    if _sha256(payload.to_json()) != fingerprint:
        return False
    try:
        parse_results(payload, record.get("results"), job_id=job_id)
    except QPIError:
        return False
    return True


def _job_is_gone(client: Any, job_id: str) -> bool:
    """Whether the server no longer has ``job_id`` pending, running or completed.

    A job the server does not know (a reset server, another user's token) or that failed
    must not be re-attached to. When the server cannot be asked right now, the entry is
    trusted: the client's wait retries until the server answers.
    """
    get_job = getattr(client, "get_job", None)
    if get_job is None:
        return False
    try:
        record = get_job(job_id)
    except NotFoundError:
        return True
    except QPIError:
        return False
    return isinstance(record, Mapping) and record.get("status") in _DEAD_STATUSES


def _metadata(record: Mapping[str, Any], job_id: str, fingerprint: str) -> dict[str, Any]:
    metadata = {key: record[key] for key in _METADATA_FIELDS if key in record}
    results = record.get("results")
    if isinstance(results, dict) and "backend" in results:
        metadata["backend"] = results["backend"]
    metadata.update(job_id=job_id, fingerprint=fingerprint, from_cache=True)
    return metadata


def _summary(size: int, envelope: dict[str, Any]) -> CacheEntry:
    data = envelope["data"]
    record = data.get("record") if isinstance(data.get("record"), dict) else {}
    kind = envelope["kind"]
    job_id = record.get("id") if kind == "qpu" else data.get("job_id")
    created = record.get("created")
    return CacheEntry(
        kind=kind,
        server=envelope["server"],
        key=envelope["key"],
        job_id=str(job_id) if job_id else None,
        created=str(created) if created else None,
        stored=float(envelope["stored"]),
        size=size,
        status=record.get("status") if kind in ("result", "job") else None,
    )


def _warn(message: str) -> None:
    warnings.warn(f"qpi cache: {message}", CacheWarning, stacklevel=3)


# -- export files ------------------------------------------------------------------------------


def _digest(entries: list[dict[str, Any]]) -> str:
    return _sha256(canonical_json(entries))


def _exported(keys: list[tuple[str, str, str]]) -> list[tuple[str, str, str]]:
    return [parts for parts in keys if parts[0] in _EXPORTED_KINDS]


def _importable(envelopes: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The envelopes :meth:`Cache.import_from` would accept; the others are left out."""
    out = []
    for envelope in envelopes:
        try:
            _check_envelope(envelope, deep=True)
        except CacheError as exc:
            _warn(f"left {envelope['kind']} {envelope['key']!r} out of the export: {exc}")
            continue
        out.append(envelope)
    return out


def _select_for_export(
    envelopes: list[dict[str, Any]], job_ids: set[str] | None, fingerprints: set[str] | None
) -> list[dict[str, Any]]:
    """The envelopes to export, sorted; with filters, the matching jobs and their QPUs."""
    envelopes = sorted(envelopes, key=lambda e: (e["kind"], e["server"], e["key"]))
    if job_ids is None and fingerprints is None:
        return envelopes
    job_ids, fingerprints = job_ids or set(), fingerprints or set()
    results = [
        e
        for e in envelopes
        if e["kind"] == "result" and (e["key"] in fingerprints or e["data"]["job_id"] in job_ids)
    ]
    wanted_jobs = job_ids | {e["data"]["job_id"] for e in results}
    jobs = [e for e in envelopes if e["kind"] == "job" and e["key"] in wanted_jobs]
    targets = {
        (e["server"], str(e["data"]["record"].get("qpu_target") or "")) for e in results + jobs
    }
    qpus = [
        e
        for e in envelopes
        if e["kind"] == "qpu" and (e["server"], str(e["data"]["record"]["id"])) in targets
    ]
    return sorted(results + jobs + qpus, key=lambda e: (e["kind"], e["server"], e["key"]))


def _write_atomically(path: Path, data: bytes) -> None:
    path = path.expanduser()
    try:
        fd, temp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent or ".")
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
        os.replace(temp, path)
    except OSError as exc:
        with contextlib.suppress(OSError, UnboundLocalError):
            os.unlink(temp)
        raise CacheError(f"could not write the cache export {path}: {exc}") from exc


def _read_export(path: Path) -> list[dict[str, Any]]:
    """The validated entries of an export file.

    Raises:
        CacheError: Saying why the file is refused.
    """
    where = f"the cache export {path}"
    try:
        raw = path.expanduser().read_bytes()
    except OSError as exc:
        raise CacheError(f"cannot read {where}: {exc}") from exc
    try:
        document = json.loads(gzip.decompress(raw))
    except (EOFError, OSError, zlib.error) as exc:
        raise CacheError(
            f"{where} is truncated or is not a gzip-compressed qpi cache export ({exc}); "
            "export it again"
        ) from None
    except ValueError as exc:
        raise CacheError(f"{where} does not hold JSON ({exc}); export it again") from None
    entries = _check_document(document, where)
    for index, envelope in enumerate(entries):
        try:
            _check_envelope(envelope, deep=True)
        except CacheError as exc:
            raise CacheError(
                f"{where}: entry {index} is refused: {exc}; nothing was imported"
            ) from None
        if envelope["kind"] not in _EXPORTED_KINDS:
            raise CacheError(
                f"{where}: entry {index} is a {envelope['kind']!r} entry, which exports never "
                "hold; nothing was imported"
            )
    return entries


def _check_document(document: Any, where: str) -> list[dict[str, Any]]:
    if not isinstance(document, dict) or document.get("format") != EXPORT_FORMAT:
        raise CacheError(f"{where} is not a qpi cache export (no format {EXPORT_FORMAT!r})")
    if document.get("version") != EXPORT_VERSION:
        raise CacheError(
            f"{where} is export format version {document.get('version')!r}, but this qpi reads "
            f"version {EXPORT_VERSION}; use the qpi version that wrote it, or upgrade"
        )
    entries = document.get("entries")
    if not isinstance(entries, list) or document.get("count") != len(entries):
        raise CacheError(f"{where} is truncated: its entry count does not match; export it again")
    if document.get("sha256") != _digest(entries):
        raise CacheError(
            f"{where} does not match its SHA-256 digest: it was modified or damaged after it "
            "was written; nothing was imported"
        )
    return entries
