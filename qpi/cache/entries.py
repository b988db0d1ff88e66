"""Cache entries: their keys, the JSON envelope they are stored in, and the checks on both.

An entry is stored under the key ``["<kind>", "<scope>", "<name>"]`` (canonical JSON) as the
text of an envelope ``{"v", "kind", "server", "key", "stored", "data"}``, where the scope is
``<server>#<identity>`` (see [`Scope`][qpi.cache.Scope]). The envelope repeats its key, so an
entry read back is checked against the key it was asked for; a ``result`` or ``submitted``
entry is keyed by ``<fingerprint>.<occurrence>``, the fingerprint being that of the payload
it holds, so it can only ever answer for that payload. Records are scrubbed of any field that
could hold a credential before they are stored.
"""

from __future__ import annotations

import hashlib
import json
import time
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from qpi.errors import CacheError, QPIError, ValidationError
from qpi.jobs.results import parse_results
from qpi.jobs.status import FINAL_STATUSES as _FINAL_STATUSES
from qpi.payload import JobPayload, canonical_json, fingerprint_json

__all__ = ["KINDS", "CacheEntry", "normalise_server"]

#: The kinds of cache entry.
KINDS: tuple[str, ...] = ("result", "submitted", "job", "qpu")

_ENTRY_VERSION = 2
_NONCE = frozenset("0123456789abcdef")
# Record fields that could hold a credential. Records never carry them, but a store that must
# never hold a secret drops them rather than trust every server version.
_SECRET_FIELDS = frozenset(
    {"token", "api_token", "access_token", "auth_token", "password", "passwordConfirm", "secret"}
)


@dataclass(frozen=True)
class CacheEntry:
    """A summary of one cache entry, as listed by [`Cache.entries`][qpi.cache.Cache.entries].

    Attributes:
        kind: ``"result"``, ``"submitted"``, ``"job"`` or ``"qpu"``.
        server: Whose entry it is: ``<normalised server URL>#<identity>`` (the identity is a
            digest of the token, never the token).
        key: ``<payload fingerprint>.<occurrence>`` (``result``, ``submitted``), the job id
            (``job``) or the QPU name or id (``qpu``; ``""`` is the default online QPU).
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


#: The identity of entries imported from an export file: readable by every identity.
IMPORTED = "imported"


def imported_scope(server: str) -> str:
    """The scope key entries imported for ``server`` are stored under."""
    return f"{server}#{IMPORTED}"


def occurrence_key(fingerprint: str, occurrence: int) -> str:
    """The name of the ``occurrence``-th result (or submission) of a payload."""
    return f"{fingerprint}.{int(occurrence)}"


def fingerprint_of_key(name: str) -> str:
    """The payload fingerprint an ``occurrence_key`` names."""
    return name.partition(".")[0]


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
    except ValueError as exc:  # not JSON, or not UTF-8
        raise CacheError(f"it is not valid JSON ({exc})") from None
    except RecursionError:
        raise CacheError("it is JSON nested too deeply to be an entry") from None
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
    if kind in ("result", "submitted"):
        _check_occurrence(name, data.get("payload"))
    if kind == "submitted":
        nonce = data.get("nonce")
        if not isinstance(nonce, str) or len(nonce) != 32 or not _NONCE.issuperset(nonce):
            raise CacheError("its submission tag is not 32 hex characters")
        if job_id is not None and (not isinstance(job_id, str) or not job_id):
            raise CacheError("its job id is not text")
        return
    if not isinstance(job_id, str) or not job_id:
        raise CacheError("it names no job id")
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


def _check_occurrence(name: str, payload: Any) -> None:
    fingerprint, dot, occurrence = name.partition(".")
    if not dot or not occurrence.isdigit() or len(occurrence) > 9:
        raise CacheError("its key is not <fingerprint>.<occurrence>")
    if not isinstance(payload, str) or fingerprint_json(payload) != fingerprint:
        raise CacheError("its key is not the fingerprint of its stored payload")


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
