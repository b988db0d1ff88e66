"""One read-only SQL pass over a cache directory: what ``qpi cache info/list/export`` read.

Reading entries one key at a time through diskcache costs a query, and with the
least-recently-used policy a write (its access time), per entry: minutes for 100,000 entries,
and a listing that reorders what eviction drops next. [`scan`][qpi.cache.scan.scan] reads the
``Cache`` table of the directory's database in one ``SELECT`` over a read-only connection
instead, so a listing never changes the cache. Values diskcache keeps in files (large ones)
are read from their files; anything qpi never writes (pickles, foreign keys) is skipped. A
damaged entry is handed back to the store, which drops it with a warning: the only write a
listing ever makes.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from diskcache.core import MODE_RAW, MODE_TEXT

from qpi.cache.entries import KINDS, CacheEntry, _decode, _parse_key, _summary
from qpi.errors import CacheError

__all__ = ["ScannedEntry", "count_by_kind", "envelopes", "scan", "summarize"]

_DATABASE = "cache.db"
#: Rows fetched per round trip: bounds memory, whatever the cache's size.
_BATCH = 2000

#: The summary fields, extracted by SQLite from the stored text so Python parses no JSON.
_SUMMARY_SQL = """
SELECT key, mode, filename, size, rowid,
    CASE WHEN filename IS NULL THEN length(CAST(value AS BLOB)) END,
    CASE WHEN filename IS NULL AND typeof(value) = 'text' AND json_valid(value)
        THEN json_extract(value, '$.stored') END,
    CASE WHEN filename IS NULL AND typeof(value) = 'text' AND json_valid(value) THEN json_array(
        json_extract(value, '$.data.job_id'),
        json_extract(value, '$.data.record.id'), json_extract(value, '$.data.record.created'),
        json_extract(value, '$.data.record.status'), json_extract(value, '$.kind'),
        json_extract(value, '$.server'), json_extract(value, '$.key')) END
FROM Cache WHERE raw = 1 AND mode IN (?, ?) ORDER BY rowid
"""
_COUNT_SQL = """
SELECT json_extract(key, '$[0]'), COUNT(*) FROM Cache
WHERE raw = 1 AND mode IN (?, ?) AND json_valid(key) AND json_array_length(key) = 3
    AND json_type(key, '$[1]') = 'text' AND json_type(key, '$[2]') = 'text'
GROUP BY 1
"""
_TEXT_SQL = (
    "SELECT key, mode, filename, value FROM Cache WHERE raw = 1 AND mode IN (?, ?) ORDER BY rowid"
)


@dataclass(frozen=True)
class ScannedEntry:
    """One entry as the scan found it.

    Attributes:
        parts: ``(kind, scope, name)`` from its key.
        size: Bytes of its stored text.
        text: The stored envelope text: for a text scan, and for an entry a summary scan
            could not summarise (kept in a file, or damaged) so that decoding it says why.
        summary: ``(stored, job_id, record_id, created, status)`` read by SQLite from a
            sound envelope (summary scans only).
    """

    parts: tuple[str, str, str]
    size: int
    text: str | bytes | None = None
    summary: tuple[Any, ...] | None = None


def _connect(directory: Path) -> sqlite3.Connection:
    # Read-only: the scan can neither refresh access times nor take a write lock.
    return sqlite3.connect(f"file:{directory / _DATABASE}?mode=ro", uri=True, timeout=60)


def scan(
    directory: Path, *, kinds: tuple[str, ...] | None = None, texts: bool
) -> Iterator[ScannedEntry]:
    """Every entry qpi wrote in ``directory``, in one pass, optionally of some kinds only.

    Args:
        directory: The cache directory.
        kinds: The kinds wanted (``None``: all).
        texts: Read each entry's full text (exports) rather than its summary (listings).

    Raises:
        sqlite3.Error: If the database cannot be read.
        OSError: If a value file cannot be read.
    """
    if not (directory / _DATABASE).exists():
        return
    db = _connect(directory)
    try:
        cursor = db.execute(_TEXT_SQL if texts else _SUMMARY_SQL, (MODE_RAW, MODE_TEXT))
        while rows := cursor.fetchmany(_BATCH):
            for row in rows:
                entry = _entry(db, directory, row, kinds, texts)
                if entry is not None:
                    yield entry
    finally:
        db.close()


def _entry(
    db: sqlite3.Connection,
    directory: Path,
    row: tuple[Any, ...],
    kinds: tuple[str, ...] | None,
    texts: bool,
) -> ScannedEntry | None:
    parts = _parse_key(row[0])
    if parts is None or (kinds is not None and parts[0] not in kinds):
        return None
    filename = row[2]
    if texts:
        text = _file_text(directory, filename) if filename else row[3]
        return ScannedEntry(parts, len(text if isinstance(text, bytes) else text.encode()), text)
    if filename:  # a large value: diskcache keeps it in a file, its size in the row
        return ScannedEntry(parts, int(row[3] or 0), text=_file_text(directory, filename))
    stored, fields = row[6], json.loads(row[7]) if row[7] else None
    if fields and isinstance(stored, int | float) and tuple(fields[4:]) == parts:
        return ScannedEntry(parts, int(row[5] or 0), summary=(stored, *fields[:4]))
    # Damaged (rare): its text, for the decoder to say what is wrong with it.
    value = db.execute("SELECT value FROM Cache WHERE rowid = ?", (row[4],)).fetchone()[0]
    return ScannedEntry(parts, int(row[5] or 0), text=value if value is not None else "")


def _file_text(directory: Path, filename: str) -> str:
    return (directory / filename).read_text(encoding="utf-8", errors="replace")


def count_by_kind(directory: Path) -> dict[str, int]:
    """How many entries of each kind qpi wrote in ``directory`` (one grouped query)."""
    if not (directory / _DATABASE).exists():
        return {}
    db = _connect(directory)
    try:
        rows = db.execute(_COUNT_SQL, (MODE_RAW, MODE_TEXT)).fetchall()
    finally:
        db.close()
    return {kind: count for kind, count in rows if kind in KINDS}


#: Told ``(kind, scope, name)`` and what is wrong with a damaged entry (the store drops it).
Damaged = Callable[[tuple[str, str, str], str], None]


def summarize(entry: ScannedEntry, damaged: Damaged) -> CacheEntry | None:
    """The listing line of a scanned entry; ``None`` for a damaged one (told to ``damaged``)."""
    if entry.summary is None:
        decoded = envelopes([entry], damaged)
        return _summary(entry.size, decoded[0]) if decoded else None
    stored, job_id, record_id, created, status = entry.summary
    kind, server, key = entry.parts
    ident = record_id if kind == "qpu" else job_id
    return CacheEntry(
        kind=kind,
        server=server,
        key=key,
        job_id=str(ident) if ident else None,
        created=str(created) if created else None,
        stored=float(stored),
        size=entry.size,
        status=status if kind in ("result", "job") and isinstance(status, str) else None,
    )


def envelopes(entries: list[ScannedEntry], damaged: Damaged) -> list[dict[str, Any]]:
    """The decoded envelopes of scanned entries; a damaged one is told to ``damaged``."""
    out = []
    for entry in entries:
        try:
            out.append(_decode(entry.text or "", entry.parts))
        except CacheError as exc:
            damaged(entry.parts, str(exc))
    return out
