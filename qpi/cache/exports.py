"""Export files: one portable, checked file of results, job records and QPU records.

An export is gzip-compressed canonical JSON::

    {"format": "qpi-cache-export", "version": 1, "exported_at": "...", "count": n,
     "sha256": "<digest of the canonical JSON of the entries>", "entries": [<envelope>, ...]}

Each entry is an envelope as stored in the cache (see
[`qpi.cache.entries`][qpi.cache.Cache.entries]). A file is
read whole and every entry checked (including that each result parses against its payload)
before anything is imported, so a truncated, altered or foreign file is refused outright.
"""

from __future__ import annotations

import contextlib
import gzip
import os
import tempfile
import time
from pathlib import Path
from typing import Any

from qpi._http.bodies import BodyTooLarge, BodyUnreadable, gunzip, load_json
from qpi.cache.entries import KINDS, _check_envelope, _sha256, fingerprint_of_key
from qpi.cache.warning import _warn
from qpi.errors import CacheError
from qpi.payload import canonical_json

__all__ = ["EXPORT_FORMAT", "EXPORT_VERSION"]

#: The ``format`` field of an export file.
EXPORT_FORMAT = "qpi-cache-export"
#: The export file version this module writes and reads.
EXPORT_VERSION = 1
#: The most an export may decompress to (it is read whole, to check its digest first).
MAX_IMPORT_BYTES = 2 << 30

# Kinds that travel in exports. A `submitted` entry points at a job that only its submitter
# can see, so it is useless (and misleading) anywhere else.
_EXPORTED_KINDS = ("result", "job", "qpu")


def _digest(entries: list[dict[str, Any]]) -> str:
    return _sha256(canonical_json(entries))


def _exported(keys: list[tuple[str, str, str]]) -> list[tuple[str, str, str]]:
    return [parts for parts in keys if parts[0] in _EXPORTED_KINDS]


def _importable(envelopes: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The envelopes `Cache.import_from` would accept; the others are left out."""
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
    envelopes = sorted(envelopes, key=_order)
    if job_ids is None and fingerprints is None:
        return envelopes
    job_ids, fingerprints = job_ids or set(), fingerprints or set()
    results = [
        e
        for e in envelopes
        if e["kind"] == "result"
        and (fingerprint_of_key(e["key"]) in fingerprints or e["data"]["job_id"] in job_ids)
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
    return sorted(results + jobs + qpus, key=_order)


def _order(envelope: dict[str, Any]) -> tuple[str, str, str]:
    """The order of entries in an export: by kind, server and key."""
    return envelope["kind"], envelope["server"], envelope["key"]


def _write_export(path: Path, entries: list[dict[str, Any]]) -> None:
    """Write ``entries`` as an export file, replacing ``path`` atomically.

    Raises:
        CacheError: If the file cannot be written.
    """
    # The entries are serialised once, for the digest and the file alike (at 100,000 entries
    # that is seconds): the document is written with a placeholder that the text replaces.
    entries_text = canonical_json(entries)
    document = {
        "format": EXPORT_FORMAT,
        "version": EXPORT_VERSION,
        "exported_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "count": len(entries),
        "sha256": _sha256(entries_text),
        "entries": None,
    }
    text = canonical_json(document).replace('"entries":null', f'"entries":{entries_text}', 1)
    _write_atomically(path, gzip.compress(text.encode(), compresslevel=6, mtime=0))


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
        text = gunzip(raw, MAX_IMPORT_BYTES)
    except BodyTooLarge:
        raise CacheError(
            f"{where} decompresses to far more than an export could hold (more than 100 times "
            f"its size, or past {MAX_IMPORT_BYTES} bytes): it is not a qpi cache export"
        ) from None
    except BodyUnreadable as exc:
        raise CacheError(
            f"{where} is truncated or is not a gzip-compressed qpi cache export ({exc}); "
            "export it again"
        ) from None
    try:
        document = load_json(text)
    except ValueError as exc:
        raise CacheError(f"{where} does not hold JSON ({exc}); export it again") from None
    entries = _check_document(document, where)
    for index, envelope in enumerate(entries):
        kind = envelope.get("kind") if isinstance(envelope, dict) else None
        if kind in KINDS and kind not in _EXPORTED_KINDS:
            raise CacheError(
                f"{where}: entry {index} is a {kind!r} entry, which exports never hold; "
                "nothing was imported"
            )
        try:
            _check_envelope(envelope, deep=True)
        except CacheError as exc:
            raise CacheError(
                f"{where}: entry {index} is refused: {exc}; nothing was imported"
            ) from None
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
