"""The [`Cache`][qpi.cache.Cache] store: the [`Store`][qpi.cache.Store] protocol on disk.

The protocol methods answer the job runner (results by payload and occurrence, submissions,
job and QPU records, all scoped by server and identity); a storage failure there warns and
lets the job run. The store has no mode and never sees a client. The management methods
(``info``, ``entries``, ``export_to``, ``import_from``, ``clear``, ``prune``) back the
``qpi cache`` command and raise instead.
"""

from __future__ import annotations

import os
import time
from collections.abc import Iterable, Iterator, Mapping
from pathlib import Path
from typing import Any

from qpi.cache.disk import _STORE_ERRORS, _Database, _deleter, _resolve_directory, _setter
from qpi.cache.entries import (
    _FINAL_STATUSES,
    KINDS,
    CacheEntry,
    _check_kind,
    _key,
    _scrub,
    imported_scope,
    occurrence_key,
)
from qpi.cache.exports import (
    _EXPORTED_KINDS,
    _importable,
    _read_export,
    _select_for_export,
    _write_export,
)
from qpi.cache.protocol import Liveness, Scope, StoredResult, Submission
from qpi.cache.scan import count_by_kind, envelopes, scan, summarize
from qpi.cache.warning import _warn
from qpi.errors import CacheError, ValidationError
from qpi.payload import JobPayload, canonical_json

__all__ = ["Cache"]


class Cache:
    """A disk-backed store of job results, job records and QPU records.

    Register it on a client with ``QPIClient(cache=Cache(...))`` (a client given a directory
    or nothing builds its own). It implements the [`Store`][qpi.cache.Store] protocol the job
    runner uses; the
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

    # -- the Store protocol (what the job runner asks) -----------------------------------------

    def result(self, scope: Scope, payload: JobPayload, occurrence: int) -> StoredResult | None:
        """The completed record stored for the ``occurrence``-th submission of ``payload``.

        Args:
            scope: The server and identity asking.
            payload: The payload (its fingerprint is the key).
            occurrence: Which result of the payload (0 for the first).

        Returns:
            The stored result, or ``None`` (absent, unreadable, or damaged and dropped).
        """
        name = occurrence_key(payload.fingerprint(), occurrence)
        data = self._read("result", scope, name)
        return None if data is None else StoredResult(data["job_id"], data["record"])

    def save_result(
        self,
        scope: Scope,
        payload: JobPayload,
        occurrence: int,
        job_id: str,
        record: Mapping[str, Any],
    ) -> None:
        """Store a completed record as the ``occurrence``-th result of ``payload``.

        The job's final record is stored with it, and the submission entry of that occurrence
        is dropped: the result answers from now on.
        """
        if not isinstance(record, Mapping) or record.get("status") != "completed":
            return
        job_id = str(job_id)
        clean = _scrub(dict(record))
        name = occurrence_key(payload.fingerprint(), occurrence)
        data = {"job_id": job_id, "payload": payload.to_json(), "record": clean}
        items = [("result", name, data), ("job", job_id, {"job_id": job_id, "record": clean})]
        self._db.write(scope.key, items, what=f"the result of job {job_id}")
        self.forget_submission(scope, payload, occurrence)

    def submission(
        self,
        scope: Scope,
        payload: JobPayload,
        occurrence: int,
        alive: Liveness | None = None,
    ) -> Submission | None:
        """The stored submission of that occurrence, if its job may still be re-attached to.

        Args:
            scope: The server and identity asking.
            payload: The payload.
            occurrence: Which submission of the payload.
            alive: Asked about a stored job id; a job it says is gone (unknown to the server,
                failed or cancelled) is forgotten and ``None`` returned.
        """
        name = occurrence_key(payload.fingerprint(), occurrence)
        data = self._db.read("submitted", scope.key, name)
        if data is None:
            return None
        submission = Submission(data["nonce"], data.get("job_id") or None)
        if submission.job_id is not None and alive is not None and not alive(submission.job_id):
            self.forget_submission(scope, payload, occurrence)
            return None
        return submission

    def save_submission(
        self, scope: Scope, payload: JobPayload, occurrence: int, submission: Submission
    ) -> None:
        """Store a submission's tag before its POST, and its job id once the server answers."""
        name = occurrence_key(payload.fingerprint(), occurrence)
        data = {
            "nonce": submission.nonce,
            "job_id": submission.job_id,
            "payload": payload.to_json(),
        }
        what = f"the submission of job {submission.job_id or '(being sent)'}"
        self._db.write(scope.key, [("submitted", name, data)], what=what)

    def forget_submission(self, scope: Scope, payload: JobPayload, occurrence: int) -> None:
        """Drop the stored submission of that occurrence (a failure only warns)."""
        key = _key("submitted", scope.key, occurrence_key(payload.fingerprint(), occurrence))
        try:
            self._db.run(_deleter(key))
        except (*_STORE_ERRORS, CacheError) as exc:
            _warn(f"could not drop the submission entry {key} in {self._directory}: {exc}")

    def job(self, scope: Scope, job_id: str) -> dict[str, Any] | None:
        """The stored final record of ``job_id``, if any."""
        data = self._read("job", scope, str(job_id))
        return dict(data["record"]) if data is not None else None

    def save_job(self, scope: Scope, job_id: str, record: Mapping[str, Any]) -> None:
        """Store a job's final record (completed, failed or cancelled); others are ignored."""
        if not isinstance(record, Mapping) or record.get("status") not in _FINAL_STATUSES:
            return
        job_id = str(job_id)
        data = {"job_id": job_id, "record": _scrub(dict(record))}
        self._db.write(scope.key, [("job", job_id, data)], what=f"the record of job {job_id}")

    def qpu(self, scope: Scope, name: str) -> dict[str, Any] | None:
        """The stored record of the QPU ``name`` (a name, an id, or ``""``), if any."""
        data = self._read("qpu", scope, str(name))
        return dict(data["record"]) if data is not None else None

    def _read(self, kind: str, scope: Scope, name: str) -> dict[str, Any] | None:
        """An entry of ``scope``, else one imported for its server (shared on purpose)."""
        data = self._db.read(kind, scope.key, name)
        if data is None:
            data = self._db.read(kind, imported_scope(scope.server), name)
        return data

    def save_qpu(self, scope: Scope, name: str, record: Mapping[str, Any]) -> None:
        """Store a QPU record under the name asked for, its record id and its name.

        Args:
            scope: The server and identity asking.
            name: What the record was looked up by (``""`` for the default QPU).
            record: The QPU record.
        """
        if not isinstance(record, Mapping) or not record.get("id"):
            return
        clean = _scrub(dict(record))
        names = dict.fromkeys([str(name), str(clean["id"]), str(clean.get("name") or "")])
        items = [("qpu", key, {"record": clean}) for key in names if key or not name]
        self._db.write(scope.key, items, what=f"QPU {name!r}")

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
        counts.update(self._db.manage("read", lambda _: count_by_kind(self._directory)))
        return {
            "directory": str(self._directory),
            "size": self._db.manage("measured", lambda store: store.volume()),
            "size_limit": self._size_limit,
            "count": sum(counts.values()),
            "counts": counts,
        }

    def entries(self, kind: str | None = None) -> Iterator[CacheEntry]:
        """Summaries of the stored entries, optionally of one kind only.

        One read-only pass over the database (`qpi.cache.scan`): listing
        never counts as a use for the least-recently-used eviction, and never writes.
        Damaged entries are dropped (with a [`CacheWarning`][qpi.cache.CacheWarning]) and
        not listed.

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
        kinds = None if kind is None else (kind,)

        def listed(_: Any) -> list[CacheEntry]:
            found = scan(self._directory, kinds=kinds, texts=False)
            summaries = (summarize(entry, self._drop) for entry in found)
            return [entry for entry in summaries if entry is not None]

        return iter(self._db.manage("read", listed))

    def _drop(self, parts: tuple[str, str, str], reason: str) -> None:
        """Drop a damaged entry a scan found, with a warning saying why."""
        self._db.discard(_key(*parts), reason)

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
        scanned = self._db.manage(
            "read", lambda _: list(scan(self._directory, kinds=_EXPORTED_KINDS, texts=True))
        )
        chosen = _select_for_export(
            _importable(envelopes(scanned, self._drop)),
            None if job_ids is None else {str(j) for j in job_ids},
            None if fingerprints is None else {str(f) for f in fingerprints},
        )
        _write_export(Path(path), chosen)
        return len(chosen)

    def import_from(self, path: str | os.PathLike[str]) -> int:
        """Add the entries of an export file to this cache.

        The whole file is checked before anything is written, and the entries are written in
        one transaction, so a refused or failed import leaves the cache as it was. Entries
        already present are replaced. Imported entries belong to no identity: whoever imported
        the file chose to share it, so every token and user of this cache directory can read
        them (their own entries are asked first).

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
        envelopes = [
            {**env, "server": imported_scope(env["server"].partition("#")[0])}
            for env in _read_export(Path(path))
        ]
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
