"""SQLite storage of the local orchestrator: ``<data_dir>/qpi.sqlite3``.

One connection shared by every thread, serialised by a lock. SQLite calls take microseconds,
so a lock costs less than a connection per thread and makes every multi-statement change a
single transaction. The database runs in WAL mode so a crash never loses a committed row.

Rows come back as plain dicts: JSON columns decoded, boolean columns as ``bool``; or, from
[`Store.raw_rows`][qpi.server.store.Store.raw_rows], as they are stored, so JSON text can go
to a client without being decoded and encoded again. A [`RawJSON`][qpi.server.store.RawJSON]
value is stored as the JSON text it already is.
"""

from __future__ import annotations

import json
import sqlite3
import threading
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

__all__ = ["BOOL_COLUMNS", "JSON_COLUMNS", "TABLES", "RawJSON", "Store", "decode_row"]

#: The tables and their columns. Text and date columns default to ``''`` like PocketBase.
SCHEMA = """
CREATE TABLE IF NOT EXISTS users (
    id TEXT PRIMARY KEY,
    email TEXT NOT NULL UNIQUE COLLATE NOCASE,
    password_hash TEXT NOT NULL DEFAULT '',
    name TEXT NOT NULL DEFAULT '',
    avatar TEXT NOT NULL DEFAULT '',
    emailVisibility INTEGER NOT NULL DEFAULT 0,
    verified INTEGER NOT NULL DEFAULT 0,
    qpu_seconds REAL NOT NULL DEFAULT 0,
    created TEXT NOT NULL DEFAULT '',
    updated TEXT NOT NULL DEFAULT ''
);
CREATE TABLE IF NOT EXISTS superusers (
    id TEXT PRIMARY KEY,
    email TEXT NOT NULL UNIQUE COLLATE NOCASE,
    password_hash TEXT NOT NULL,
    created TEXT NOT NULL DEFAULT '',
    updated TEXT NOT NULL DEFAULT ''
);
CREATE TABLE IF NOT EXISTS superuser_proxies (
    id TEXT PRIMARY KEY,
    user TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS api_tokens (
    id TEXT PRIMARY KEY,
    token TEXT NOT NULL UNIQUE,
    user TEXT NOT NULL DEFAULT '',
    name TEXT NOT NULL DEFAULT '',
    expires_at TEXT NOT NULL DEFAULT '',
    created TEXT NOT NULL DEFAULT ''
);
CREATE TABLE IF NOT EXISTS qpus (
    id TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    status TEXT NOT NULL DEFAULT 'offline',
    num_qubits INTEGER NOT NULL DEFAULT 0,
    enabled INTEGER NOT NULL DEFAULT 1,
    executor_type TEXT NOT NULL DEFAULT 'mock',
    connected INTEGER NOT NULL DEFAULT 0,
    access_token_hash TEXT NOT NULL DEFAULT '',
    created TEXT NOT NULL DEFAULT '',
    updated TEXT NOT NULL DEFAULT ''
);
CREATE TABLE IF NOT EXISTS quantum_jobs (
    id TEXT PRIMARY KEY,
    user_id TEXT NOT NULL DEFAULT '',
    qpu_target TEXT NOT NULL DEFAULT '',
    payload TEXT,
    status TEXT NOT NULL,
    finished_at TEXT NOT NULL DEFAULT '',
    duration REAL NOT NULL DEFAULT 0,
    results TEXT,
    attempts INTEGER NOT NULL DEFAULT 0,
    seq INTEGER NOT NULL DEFAULT 0,
    created TEXT NOT NULL DEFAULT '',
    updated TEXT NOT NULL DEFAULT '',
    submission TEXT NOT NULL DEFAULT ''
);
CREATE INDEX IF NOT EXISTS idx_jobs_status ON quantum_jobs (status, created);
CREATE INDEX IF NOT EXISTS idx_jobs_user ON quantum_jobs (user_id, created);
CREATE TABLE IF NOT EXISTS counters (
    name TEXT PRIMARY KEY,
    value INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS time_slots (
    id TEXT PRIMARY KEY,
    start_time TEXT NOT NULL,
    end_time TEXT NOT NULL,
    booked_by TEXT NOT NULL DEFAULT ''
);
CREATE TABLE IF NOT EXISTS qpu_time_requests (
    id TEXT PRIMARY KEY,
    user TEXT NOT NULL DEFAULT '',
    seconds REAL NOT NULL DEFAULT 0,
    status TEXT NOT NULL DEFAULT 'pending',
    requested_reason TEXT NOT NULL DEFAULT '',
    rejection_reason TEXT NOT NULL DEFAULT '',
    handled_by TEXT NOT NULL DEFAULT ''
);
CREATE TABLE IF NOT EXISTS notifications (
    id TEXT PRIMARY KEY,
    title TEXT NOT NULL,
    description TEXT NOT NULL DEFAULT '',
    target_users TEXT NOT NULL DEFAULT '[]',
    dismissed_by TEXT NOT NULL DEFAULT '[]',
    start_time TEXT NOT NULL DEFAULT '',
    end_time TEXT NOT NULL DEFAULT '',
    created TEXT NOT NULL DEFAULT '',
    updated TEXT NOT NULL DEFAULT ''
);
"""

#: Table name -> its columns, in schema order.
TABLES: dict[str, tuple[str, ...]] = {
    "users": (
        "id", "email", "password_hash", "name", "avatar", "emailVisibility", "verified",
        "qpu_seconds", "created", "updated",
    ),
    "superusers": ("id", "email", "password_hash", "created", "updated"),
    "superuser_proxies": ("id", "user"),
    "api_tokens": ("id", "token", "user", "name", "expires_at", "created"),
    "qpus": (
        "id", "name", "status", "num_qubits", "enabled", "executor_type", "connected",
        "access_token_hash",
        "created", "updated",
    ),
    "quantum_jobs": (
        "id", "user_id", "qpu_target", "payload", "status", "finished_at", "duration",
        "results", "attempts", "seq", "created", "updated", "submission",
    ),
    "time_slots": ("id", "start_time", "end_time", "booked_by"),
    "qpu_time_requests": (
        "id", "user", "seconds", "status", "requested_reason", "rejection_reason", "handled_by",
    ),
    "notifications": (
        "id", "title", "description", "target_users", "dismissed_by", "start_time",
        "end_time", "created", "updated",
    ),
}  # fmt: skip

#: Columns holding JSON text.
JSON_COLUMNS: frozenset[str] = frozenset({"payload", "results", "target_users", "dismissed_by"})
#: Columns holding 0/1 flags.
BOOL_COLUMNS: frozenset[str] = frozenset({"emailVisibility", "verified", "enabled", "connected"})


class RawJSON(str):
    """JSON text to store as it is in a JSON column (it was encoded, and checked, before)."""

    __slots__ = ()


def _encode(column: str, value: Any) -> Any:
    if column in JSON_COLUMNS:
        if value is None:
            return None
        if isinstance(value, RawJSON):
            return str(value)
        return json.dumps(value, separators=(",", ":"))
    if column in BOOL_COLUMNS:
        return int(bool(value))
    return value


def decode_row(row: sqlite3.Row) -> dict[str, Any]:
    """A stored row as a dict: JSON columns decoded, flag columns as ``bool``."""
    record = dict(row)
    for column in record.keys() & JSON_COLUMNS:
        text = record[column]
        record[column] = None if text is None else json.loads(text)
    for column in record.keys() & BOOL_COLUMNS:
        record[column] = bool(record[column])
    return record


def _check_columns(table: str, columns: Sequence[str]) -> None:
    # Column names are interpolated into SQL, so only known names may pass.
    known = TABLES[table]
    unknown = [c for c in columns if c not in known]
    if unknown:
        raise KeyError(f"unknown column(s) {unknown} of table {table}")


class Store:
    """The database of one server. Thread-safe; close it with [`close`][qpi.cache.Cache.close].

    Args:
        path: The SQLite file (created with its tables when missing).
        max_bytes: Largest the database may grow; past it, writes fail as on a full disk
            (``sqlite3.OperationalError``, SQLITE_FULL). ``None``: no limit of its own.
    """

    def __init__(self, path: Path, max_bytes: int | None = None) -> None:
        self.path = Path(path)
        self._lock = threading.RLock()
        self._conn = sqlite3.connect(
            self.path, check_same_thread=False, isolation_level=None, timeout=10.0
        )
        self._conn.row_factory = sqlite3.Row
        self._conn.execute("PRAGMA journal_mode=WAL")
        # NORMAL in WAL mode survives a process crash; only a power cut can drop a commit.
        self._conn.execute("PRAGMA synchronous=NORMAL")
        self._conn.execute("PRAGMA foreign_keys=OFF")
        self._conn.executescript(SCHEMA)
        self._migrate()
        self._job_listeners: list[Callable[[str], None]] = []
        self._in_transaction = False
        self._changed_jobs: list[str] = []
        if max_bytes is not None:
            page = self._conn.execute("PRAGMA page_size").fetchone()[0]
            self._conn.execute(f"PRAGMA max_page_count = {max(1, int(max_bytes) // page)}")

    def _migrate(self) -> None:
        """Bring a database made by an older version up to [`SCHEMA`][qpi.server.store.SCHEMA]."""
        columns = {row[1] for row in self._conn.execute("PRAGMA table_info(quantum_jobs)")}
        if "submission" not in columns:
            self._conn.execute(
                "ALTER TABLE quantum_jobs ADD COLUMN submission TEXT NOT NULL DEFAULT ''"
            )
        self._conn.execute(
            "CREATE INDEX IF NOT EXISTS idx_jobs_submission ON quantum_jobs (user_id, submission)"
        )

    def close(self) -> None:
        """Close the connection (idempotent)."""
        with self._lock:
            if self._conn is not None:
                self._conn.close()
                self._conn = None  # type: ignore[assignment]

    # -- job change notifications --------------------------------------------------------------

    def on_job_change(self, listener: Callable[[str], None]) -> None:
        """Call ``listener(job_id)`` after each committed change of a job's status.

        Changes made with `update` are reported by themselves; one made with raw SQL
        is reported by calling `notify_job`. Listeners run in the thread that made the
        change, after its transaction committed, outside the lock; they must be quick.
        """
        self._job_listeners.append(listener)

    def notify_job(self, job_id: str) -> None:
        """Report a change of ``job_id``'s status (held until the transaction, if any, commits)."""
        with self._lock:
            if self._in_transaction:
                self._changed_jobs.append(job_id)
                return
        self._fire([job_id])

    def _fire(self, job_ids: Sequence[str]) -> None:
        for job_id in job_ids:
            for listener in self._job_listeners:
                listener(job_id)

    @contextmanager
    def transaction(self) -> Iterator[Store]:
        """Hold the lock and run the block as one transaction (rolled back on error)."""
        with self._lock:
            self._conn.execute("BEGIN IMMEDIATE")
            self._in_transaction = True
            try:
                yield self
            except BaseException:
                self._conn.execute("ROLLBACK")
                raise
            else:
                self._conn.execute("COMMIT")
            finally:
                self._in_transaction = False
                changed, self._changed_jobs = self._changed_jobs, []
        self._fire(changed)

    def execute(self, sql: str, params: Sequence[Any] | Mapping[str, Any] = ()) -> int:
        """Run one statement; returns the number of rows it changed."""
        with self._lock:
            return self._conn.execute(sql, params).rowcount

    def query(self, sql: str, params: Sequence[Any] | Mapping[str, Any] = ()) -> list[dict]:
        """Run a query; returns its rows as decoded dicts."""
        with self._lock:
            return [decode_row(row) for row in self._conn.execute(sql, params).fetchall()]

    def raw_rows(
        self, sql: str, params: Sequence[Any] | Mapping[str, Any] = ()
    ) -> list[sqlite3.Row]:
        """Run a query; returns its rows as stored (JSON columns as text, flags as 0/1)."""
        with self._lock:
            return self._conn.execute(sql, params).fetchall()

    def scalar(self, sql: str, params: Sequence[Any] | Mapping[str, Any] = ()) -> Any:
        """Run a query; returns the first column of its first row, or ``None``."""
        with self._lock:
            row = self._conn.execute(sql, params).fetchone()
        return None if row is None else row[0]

    def get(self, table: str, record_id: str) -> dict[str, Any] | None:
        """The row of ``table`` with id ``record_id``, or ``None``."""
        rows = self.query(f"SELECT * FROM {table} WHERE id = ?", (record_id,))  # noqa: S608
        return rows[0] if rows else None

    def find(self, table: str, **equals: Any) -> list[dict[str, Any]]:
        """Rows of ``table`` whose columns equal ``equals``, in insertion order."""
        _check_columns(table, list(equals))
        where = " AND ".join(f"{c} = ?" for c in equals) or "1"
        params = [_encode(c, v) for c, v in equals.items()]
        return self.query(f"SELECT * FROM {table} WHERE {where} ORDER BY rowid", params)  # noqa: S608

    def insert(
        self, table: str, values: Mapping[str, Any], *, reread: bool = True
    ) -> dict[str, Any]:
        """Insert a row; returns it as stored (defaults filled in).

        Args:
            table: The table.
            values: The columns to set.
            reread: Read the row back (``False``: return ``values`` as given, saving a query
                and the decoding of its JSON columns).
        """
        _check_columns(table, list(values))
        columns = ", ".join(values)
        marks = ", ".join("?" for _ in values)
        params = [_encode(c, v) for c, v in values.items()]
        with self._lock:
            self._conn.execute(f"INSERT INTO {table} ({columns}) VALUES ({marks})", params)  # noqa: S608
            if not reread:
                return dict(values)
            return self.get(table, values["id"])  # type: ignore[return-value]

    def update(self, table: str, record_id: str, values: Mapping[str, Any]) -> dict[str, Any]:
        """Set columns of one row; returns the row after the change."""
        if values:
            _check_columns(table, list(values))
            sets = ", ".join(f"{c} = ?" for c in values)
            params = [_encode(c, v) for c, v in values.items()] + [record_id]
            with self._lock:
                changed = self.execute(f"UPDATE {table} SET {sets} WHERE id = ?", params)  # noqa: S608
                row = self.get(table, record_id)
            if changed and table == "quantum_jobs" and "status" in values:
                self.notify_job(record_id)
            return row  # type: ignore[return-value]
        return self.get(table, record_id)  # type: ignore[return-value]

    def next_value(self, counter: str) -> int:
        """Increment and return a persistent counter (1 on first use)."""
        with self._lock:
            self._conn.execute(
                "INSERT INTO counters (name, value) VALUES (?, 1) "
                "ON CONFLICT (name) DO UPDATE SET value = value + 1",
                (counter,),
            )
            return self.scalar("SELECT value FROM counters WHERE name = ?", (counter,))

    def delete(self, table: str, record_id: str) -> bool:
        """Delete one row; returns whether it existed."""
        return self.execute(f"DELETE FROM {table} WHERE id = ?", (record_id,)) > 0  # noqa: S608
