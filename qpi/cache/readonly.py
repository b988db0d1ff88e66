"""A cache directory read without writing: what a full (or read-only) disk leaves usable.

Opening a [`diskcache`](https://grantjenks.com/docs/diskcache/) store writes to it (its
settings, its journal), so on a full disk a new process could not open its cache at all, and
replay mode, which needs nothing but reads, would be lost with it. ``ReadOnlyStore`` reads
the same SQLite table through SQLite's read-only mode instead. It offers the few operations
the cache reads with; every write raises ``OSError(EROFS)``, which the cache turns into a
warning (in a run) or a [`CacheError`][qpi.errors.CacheError] (in a management command).
"""

from __future__ import annotations

import contextlib
import errno
import sqlite3
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from diskcache.core import MODE_PICKLE, MODE_RAW, MODE_TEXT

__all__: list[str] = []

_DATABASE = "cache.db"


class ReadOnlyStore:
    """The entries of a diskcache directory, read through SQLite's read-only mode.

    Args:
        directory: The cache directory (it must hold a database).

    Raises:
        sqlite3.Error: If the database cannot be opened even for reading.
    """

    def __init__(self, directory: Path) -> None:
        self._directory = directory
        self._lock = threading.Lock()
        self._db = _connect(directory / _DATABASE)

    def get(self, key: str) -> Any:
        """The text stored under ``key``, or ``None``.

        Raises:
            CacheError: For a pickled value (qpi never writes one; it is not loaded).
        """
        with self._lock:
            row = self._db.execute(
                "SELECT mode, filename, value FROM Cache WHERE key = ? AND raw = 1", (key,)
            ).fetchone()
        if row is None:
            return None
        mode, filename, value = row
        if mode == MODE_PICKLE:
            raise _pickled()
        if mode == MODE_TEXT and filename:
            return (self._directory / filename).read_text(encoding="utf-8")
        return value if mode == MODE_RAW else None

    def iterkeys(self) -> Iterator[Any]:
        """Every key, in the table's order."""
        with self._lock:
            rows = self._db.execute("SELECT key FROM Cache WHERE raw = 1 ORDER BY rowid").fetchall()
        return iter([key for (key,) in rows])

    def volume(self) -> int:
        """Bytes of the database and its value files."""
        with self._lock:
            pages = self._db.execute("PRAGMA page_count").fetchone()[0]
            size = self._db.execute("PRAGMA page_size").fetchone()[0]
            files = self._db.execute("SELECT COALESCE(SUM(size), 0) FROM Cache").fetchone()[0]
        return int(pages) * int(size) + int(files)

    def transact(self) -> contextlib.AbstractContextManager[None]:
        """A no-op transaction (nothing is written)."""
        return contextlib.nullcontext()

    def close(self) -> None:
        """Close the connection."""
        with self._lock:
            self._db.close()

    def __getattr__(self, name: str) -> Any:
        # set, delete, clear, cull, ...: every write is refused.
        if name.startswith("_"):
            raise AttributeError(name)

        def refused(*args: object, **kwargs: object) -> Any:
            raise OSError(
                errno.EROFS, "the cache is open read-only (the disk was full or not writable)"
            )

        return refused


def _connect(path: Path) -> sqlite3.Connection:
    """A read-only connection; ``immutable`` when the journal files cannot be made."""
    if not path.is_file():
        raise sqlite3.OperationalError(f"no cache database at {path}")
    uri = path.resolve().as_uri()
    try:
        db = sqlite3.connect(f"{uri}?mode=ro", uri=True, check_same_thread=False)
        db.execute("SELECT 1 FROM Cache LIMIT 1").fetchall()
    except sqlite3.OperationalError:
        db = sqlite3.connect(f"{uri}?mode=ro&immutable=1", uri=True, check_same_thread=False)
        db.execute("SELECT 1 FROM Cache LIMIT 1").fetchall()
    return db


def _pickled() -> Exception:
    from qpi.cache.disk import _ForeignEntry

    return _ForeignEntry("it is a pickle, which qpi never writes; it was not loaded")
