"""How stored rows look on the wire: custom-route objects and PocketBase records."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import Any

__all__ = [
    "COLLECTION_IDS",
    "JOB_KEYS",
    "job_json",
    "job_text",
    "qpu_json",
    "record_json",
    "superuser_record",
    "token_json",
]

#: Stable collection ids (PocketBase's own id for ``users``).
COLLECTION_IDS: dict[str, str] = {
    "users": "_pb_users_auth_",
    "_superusers": "pbc_3142635823",
    "api_tokens": "pbc_apitokens00",
    "qpus": "pbc_qpus0000000",
    "quantum_jobs": "pbc_quantumjobs",
    "time_slots": "pbc_timeslots00",
    "qpu_time_requests": "pbc_qputimereqs",
    "notifications": "pbc_notificatio",
}

#: Columns never shown by the records API.
_HIDDEN: dict[str, frozenset[str]] = {
    "users": frozenset({"password_hash"}),
    "qpus": frozenset({"executor_type", "connected", "access_token_hash"}),
    "quantum_jobs": frozenset({"attempts", "seq", "submission"}),
}


#: A job's keys on the custom routes, in the order they are written.
JOB_KEYS: tuple[str, ...] = (
    "id", "user_id", "qpu_target", "payload", "status", "finished_at", "duration", "results",
    "created", "updated",
)  # fmt: skip
#: Job keys stored as JSON text, written out as they are.
_RAW_JOB_KEYS = frozenset({"payload", "results"})


def job_text(row: Mapping[str, Any], keys: Sequence[str] = JOB_KEYS) -> str:
    """A job as the custom routes return it, as JSON text, from a row as stored.

    The payload and results are spliced in as the JSON text the database holds, never
    decoded and encoded again: that is most of a big job's answer. The output is what
    ``json.dumps(job_json(...))`` gives, restricted to ``keys`` (taken in `JOB_KEYS`
    order), with ``finished_at``, ``duration`` and ``results`` left out while unset.

    Args:
        row: The job's columns as stored (JSON columns as text); only ``keys`` are read.
        keys: The keys to write.
    """
    parts = []
    for key in keys:
        value = row[key]
        if key in _OMITTED_UNSET and not _is_set(key, value):
            continue
        if key in _RAW_JOB_KEYS:
            text = "null" if value is None else value
        else:
            text = json.dumps(value, ensure_ascii=False)
        parts.append(f'"{key}":{text}')
    return "{" + ",".join(parts) + "}"


#: Keys a job answer leaves out while they are unset (as the real server does).
_OMITTED_UNSET = frozenset({"finished_at", "duration", "results"})


def _is_set(key: str, value: Any) -> bool:
    return value is not None if key == "results" else bool(value)


def job_json(job: Mapping[str, Any]) -> dict[str, Any]:
    """A job as the custom routes return it; ``results`` are the real stored results."""
    body: dict[str, Any] = {
        "id": job["id"],
        "user_id": job["user_id"],
        "qpu_target": job["qpu_target"],
        "payload": job["payload"],
        "status": job["status"],
    }
    if job["finished_at"]:
        body["finished_at"] = job["finished_at"]
    if job["duration"]:
        body["duration"] = job["duration"]
    if job["results"] is not None:
        body["results"] = job["results"]
    body["created"] = job["created"]
    body["updated"] = job["updated"]
    return body


def qpu_json(qpu: Mapping[str, Any], default: str | None = None) -> dict[str, Any]:
    """A QPU as ``/api/qpus`` returns it; the one named ``default`` says ``"default": true``."""
    body = {
        "id": qpu["id"],
        "name": qpu["name"],
        "status": qpu["status"],
        "num_qubits": qpu["num_qubits"],
        "enabled": qpu["enabled"],
        "created": qpu["created"],
        "updated": qpu["updated"],
    }
    if default is not None and qpu["name"] == default:
        body["default"] = True
    return body


def token_json(token: Mapping[str, Any], raw: str | None = None) -> dict[str, Any]:
    """An API token as ``/api/tokens`` returns it; the raw value only on creation."""
    body: dict[str, Any] = {"id": token["id"]}
    if raw is not None:
        body["token"] = raw
    body["name"] = token["name"]
    if token["expires_at"]:
        body["expires_at"] = token["expires_at"]
    body["created"] = token["created"]
    return body


def record_json(
    collection: str, row: Mapping[str, Any], *, show_email: bool = True
) -> dict[str, Any]:
    """A row as a PocketBase record: ``collectionId``/``collectionName`` and no hidden fields."""
    hidden = _HIDDEN.get(collection, frozenset())
    body = {"collectionId": COLLECTION_IDS[collection], "collectionName": collection}
    body.update((k, v) for k, v in row.items() if k not in hidden)
    if collection == "users" and not (show_email or row.get("emailVisibility")):
        body["email"] = ""
    return body


def superuser_record(row: Mapping[str, Any]) -> dict[str, Any]:
    """A superuser as ``auth-with-password`` returns it."""
    return {
        "collectionId": COLLECTION_IDS["_superusers"],
        "collectionName": "_superusers",
        "id": row["id"],
        "email": row["email"],
        "emailVisibility": False,
        "verified": True,
        "created": row["created"],
        "updated": row["updated"],
    }
