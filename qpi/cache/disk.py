"""The cache on disk: a diskcache store that holds only text, kept usable when damaged.

`_Database` owns the `diskcache.Cache` of one cache directory. It opens it with
`_TextDisk`, which stores keys and values as text and refuses to unpickle anything, so
reading a cache directory cannot run code. It reads and writes entries (checking each against
the key it was asked for and dropping damaged ones with a warning), and when SQLite reports
the database as corrupt it moves the directory aside to ``<dir>.corrupt-<time>-<pid>``, starts
an empty cache in its place and retries the operation once.
"""

from __future__ import annotations

import contextlib
import os
import sqlite3
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import diskcache
from diskcache.core import MODE_PICKLE, UNKNOWN

from qpi.cache.entries import _decode, _encode, _key, _parse_key
from qpi.cache.warning import _warn
from qpi.errors import CacheError

__all__: list[str] = []

# Errors of the storage layer: disk full, I/O, locks held too long, SQLite refusing.
_STORE_ERRORS = (OSError, sqlite3.Error, diskcache.Timeout)
_CORRUPT_CODES = frozenset({"SQLITE_CORRUPT", "SQLITE_NOTADB"})

_T = TypeVar("_T")


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


class _Database:
    """The diskcache store of one cache directory, and the entries in it.

    Args:
        directory: The cache directory (absolute).
        size_limit: Approximate size cap in bytes.

    Raises:
        CacheError: If the directory cannot be used (it is a file, cannot be created, or is
            not writable).
    """

    def __init__(self, directory: Path, size_limit: int) -> None:
        self._directory = directory
        self._size_limit = size_limit
        self._lock = threading.Lock()
        self._identity: tuple[int, int] | None = None
        self._store = self._open()

    @property
    def directory(self) -> Path:
        """The cache directory."""
        return self._directory

    def close(self) -> None:
        """Close this thread's database connection; the store reopens on next use."""
        self._store.close()

    # -- reading and writing entries ------------------------------------------------------------

    def read(self, kind: str, server: str, name: str) -> dict[str, Any] | None:
        """The ``data`` of an entry, or ``None`` if absent, unreadable or damaged (dropped)."""
        loaded = self.load(kind, server, name, strict=False)
        return loaded[1]["data"] if loaded is not None else None

    def load(
        self, kind: str, server: str, name: str, *, strict: bool
    ) -> tuple[int, dict[str, Any]] | None:
        """``(size, envelope)`` of an entry; damaged entries are dropped and read as absent.

        With ``strict``, a storage failure raises [`CacheError`][qpi.errors.CacheError]; otherwise
        it warns and
        reads as absent (the hooks must never stop a job because the cache is unwell).
        """
        key = _key(kind, server, name)
        try:
            text = self.run(lambda store: store.get(key))
        except _ForeignEntry as exc:
            self.discard(key, str(exc))
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
            self.discard(key, str(exc))
            return None
        return len(text.encode() if isinstance(text, str) else text), envelope

    def write(
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
        try:
            self.run(_setter(texts))
        except (*_STORE_ERRORS, CacheError) as exc:
            _warn(
                f"could not write {what} to {self._directory} ({exc}); the job is unaffected "
                "but this entry is not cached"
            )

    def discard(self, key: str, reason: str) -> None:
        """Drop a damaged entry, with a warning saying why."""
        _warn(f"dropped a damaged cache entry {key} in {self._directory}: {reason}")
        with contextlib.suppress(*_STORE_ERRORS, CacheError):
            self.run(_deleter(key))

    def parsed_keys(self) -> list[tuple[str, str, str]]:
        """The ``(kind, server, name)`` of every entry qpi wrote; other keys are skipped."""
        keys = self.manage("listed", lambda store: list(store.iterkeys()))
        return [parts for parts in map(_parse_key, keys) if parts is not None]

    def manage(self, verb: str, op: Callable[[diskcache.Cache], _T]) -> _T:
        """Run a management operation; storage failures become `CacheError`."""
        try:
            return self.run(op)
        except _STORE_ERRORS as exc:
            raise CacheError(
                f"the qpi cache at {self._directory} could not be {verb}: {exc}"
            ) from exc

    # -- the database: opening, and recovering from damage --------------------------------------

    def run(self, op: Callable[[diskcache.Cache], _T]) -> _T:
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
            if _is_corrupt(exc):
                self._move_aside(before, exc)
                store = self._connect_or_raise()
            else:  # a full or read-only disk, a lock: reading may still work
                store = self._read_only(exc)
        except _STORE_ERRORS as exc:
            store = self._read_only(exc)
        self._identity = _identity(self._directory)
        return store

    def _read_only(self, exc: BaseException) -> Any:
        """The cache opened for reading only, when it cannot be opened for writing.

        A full (or read-only) disk must not cost replay its results: the entries are read,
        and every write warns as it would on a full disk.

        Raises:
            CacheError: If there is no database to read, or it cannot be read either.
        """
        from qpi.cache.readonly import ReadOnlyStore

        try:
            store = ReadOnlyStore(self._directory)
        except (*_STORE_ERRORS, ValueError):
            raise self._open_error(exc) from exc
        _warn(
            f"the cache at {self._directory} could not be opened for writing ({exc}); it was "
            "opened read-only: stored results are answered, new ones are not kept"
        )
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


# -- module helpers ----------------------------------------------------------------------------


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


def _deleter(key: str) -> Callable[[diskcache.Cache], int]:
    return lambda store: int(bool(store.delete(key)))


def _setter(texts: list[tuple[str, str]]) -> Callable[[diskcache.Cache], None]:
    """An operation that sets every ``(key, text)`` in one transaction."""

    def set_all(store: diskcache.Cache) -> None:
        with store.transact():
            for key, text in texts:
                store.set(key, text)

    return set_all
