"""The `Cache` store: the submission hooks it implements and its management methods.

The hooks answer submissions from the cache (``reuse``, ``replay``), re-attach to jobs
submitted but never collected, and store what comes back; a storage failure in a hook warns
and lets the job run. The management methods (``info``, ``entries``, ``export_to``,
``import_from``, ``clear``, ``prune``) back the ``qpi cache`` command and raise instead.
"""

from __future__ import annotations

import os
import time
from collections.abc import Iterable, Iterator, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

from qpi.cache.answers import _cached_result, _forget_submitted, _miss_message, _mode, _reattach
from qpi.cache.disk import _Database, _deleter, _resolve_directory, _setter
from qpi.cache.entries import (
    _DEAD_STATUSES,
    _FINAL_STATUSES,
    KINDS,
    CacheEntry,
    _check_kind,
    _key,
    _result_is_storable,
    _scrub,
    _summary,
    normalise_server,
)
from qpi.cache.exports import (
    _exported,
    _importable,
    _read_export,
    _select_for_export,
    _write_export,
)
from qpi.errors import CacheMissError, ValidationError
from qpi.hooks import hookimpl
from qpi.payload import JobPayload, canonical_json
from qpi.result import JobResult

if TYPE_CHECKING:
    from qpi.client import QPIClient

__all__ = ["Cache"]


class Cache:
    """A disk-backed store of job results, job records and QPU records.

    Register it on a client with ``QPIClient(cache=Cache(...))`` (a client given a directory
    or nothing builds its own). It implements the submission hooks of [`qpi.hooks`][qpi.hooks]; the
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
        self._db = _Database(self._directory, size_limit)

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
        self._db.close()

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
            A [`JobResult`][qpi.result.JobResult] marked ``from_cache``, a job id, or ``None``.

        Raises:
            CacheMissError: In replay mode, when no result is stored for the payload.
        """
        mode = _mode(client)
        if mode not in ("reuse", "replay"):
            return None
        server = normalise_server(client.base_url)
        result = _cached_result(self._db, server, payload, fingerprint)
        if result is not None:
            return result
        if mode == "replay":
            pending = self._db.read("submitted", server, fingerprint)
            raise CacheMissError(
                _miss_message(self._directory, server, payload, fingerprint, pending),
                fingerprint=fingerprint,
            )
        return _reattach(self._db, client, server, payload, fingerprint)

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
        self._db.write(
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
        self._db.write(server, items, what=f"the result of job {job_id}")
        if status in _DEAD_STATUSES:
            _forget_submitted(self._db, server, fingerprint, job_id)

    @hookimpl
    def qpi_lookup_job(self, client: QPIClient, job_id: str) -> dict[str, Any] | None:
        """Return the stored final record of ``job_id`` on the client's server, if any.

        Args:
            client: The asking client.
            job_id: The job's id.
        """
        data = self._db.read("job", normalise_server(client.base_url), str(job_id))
        return dict(data["record"]) if data is not None else None

    @hookimpl
    def qpi_lookup_qpu(self, client: QPIClient, name: str) -> dict[str, Any] | None:
        """Return the stored record of the QPU ``name`` (a name, an id, or ``""``), if any.

        Args:
            client: The asking client.
            name: A QPU name or record id; ``""`` asks for the default online QPU.
        """
        data = self._db.read("qpu", normalise_server(client.base_url), str(name))
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
        self._db.write(normalise_server(client.base_url), items, what=f"QPU {name!r}")

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
        for kind, _, _ in self._db.parsed_keys():
            counts[kind] += 1
        return {
            "directory": str(self._directory),
            "size": self._db.manage("measured", lambda store: store.volume()),
            "size_limit": self._size_limit,
            "count": sum(counts.values()),
            "counts": counts,
        }

    def entries(self, kind: str | None = None) -> Iterator[CacheEntry]:
        """Summaries of the stored entries, optionally of one kind only.

        Reading an entry counts as a use for the least-recently-used eviction. Damaged
        entries are dropped (with a [`CacheWarning`][qpi.cache.CacheWarning]) and not listed.

        Args:
            kind: ``"result"``, ``"submitted"``, ``"job"`` or ``"qpu"``; ``None`` for all.

        Returns:
            An iterator of one [`CacheEntry`][qpi.cache.CacheEntry] per entry, grouped by kind.

        Raises:
            ValidationError: If ``kind`` is not a kind of entry.
            CacheError: If the cache cannot be read.
        """
        _check_kind(kind)  # now, not at the first next()
        return self._summaries(kind)

    def _summaries(self, kind: str | None) -> Iterator[CacheEntry]:
        for parts in self._db.parsed_keys():
            if kind is not None and parts[0] != kind:
                continue
            loaded = self._db.load(*parts, strict=True)
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
        SHA-256 digest of them; [`import_from`][qpi.cache.Cache.import_from] reads it on any
        machine. ``submitted``
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
        loaded = [self._db.load(*parts, strict=True) for parts in _exported(self._db.parsed_keys())]
        chosen = _select_for_export(
            _importable([envelope for _, envelope in filter(None, loaded)]),
            None if job_ids is None else {str(j) for j in job_ids},
            None if fingerprints is None else {str(f) for f in fingerprints},
        )
        _write_export(Path(path), chosen)
        return len(chosen)

    def import_from(self, path: str | os.PathLike[str]) -> int:
        """Add the entries of an export file to this cache.

        The whole file is checked before anything is written, and the entries are written in
        one transaction, so a refused or failed import leaves the cache as it was. Entries
        already present are replaced.

        Args:
            path: A file written by [`export_to`][qpi.cache.Cache.export_to].

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
        self._db.manage(f"updated from {path}; nothing was imported", _setter(texts))
        return len(texts)

    def clear(self) -> None:
        """Remove every entry.

        Raises:
            CacheError: If the cache cannot be written.
        """
        self._db.manage("cleared", lambda store: store.clear())

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
        removed = int(self._db.manage("culled", lambda store: store.cull()))
        if older_than is None:
            return removed
        cutoff = time.time() - older_than
        for parts in self._db.parsed_keys():
            loaded = self._db.load(*parts, strict=True)
            if loaded is None:
                removed += 1
            elif loaded[1]["stored"] < cutoff:
                removed += self._db.manage("pruned", _deleter(_key(*parts)))
        return removed
