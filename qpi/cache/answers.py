"""How the hooks answer a submission: a stored result, a job to re-attach to, or a miss.

A stored result is used only if its payload is the very payload asked for and its results
still parse against it; a ``submitted`` entry is re-attached to only while the server still
has its job. Anything else is dropped (damaged entries with a
[`CacheWarning`][qpi.cache.CacheWarning]) and the submission goes ahead, except in replay mode,
where
`_miss_message` says what was asked for and how to fill the cache.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

import diskcache

from qpi.cache.disk import _STORE_ERRORS, _Database
from qpi.cache.entries import _DEAD_STATUSES, _key, _metadata, _points_at
from qpi.cache.warning import _warn
from qpi.errors import CacheError, NotFoundError, QPIError
from qpi.payload import JobPayload
from qpi.result import JobResult, parse_results

if TYPE_CHECKING:
    from qpi.client import QPIClient

__all__: list[str] = []


def _mode(client: Any) -> str:
    return str(getattr(client, "cache_mode", None) or "reuse").lower()


def _cached_result(
    db: _Database, server: str, payload: JobPayload, fingerprint: str
) -> JobResult | None:
    """The stored result of ``payload`` on ``server``, marked ``from_cache``; else ``None``."""
    data = db.read("result", server, fingerprint)
    if data is None:
        return None
    key = _key("result", server, fingerprint)
    if data["payload"] != payload.to_json():
        db.discard(key, "it holds a different payload than the one asked for")
        return None
    job_id, record = data["job_id"], data["record"]
    try:
        experiments = parse_results(payload, record.get("results"), job_id=job_id)
    except QPIError as exc:
        db.discard(key, f"its results do not fit the payload ({exc})")
        return None
    return JobResult(job_id, payload, experiments, _metadata(record, job_id, fingerprint))


def _reattach(
    db: _Database, client: QPIClient, server: str, payload: JobPayload, fingerprint: str
) -> str | None:
    """The id of a job submitted for ``payload`` that the server still has; else ``None``."""
    data = db.read("submitted", server, fingerprint)
    if data is None:
        return None
    if data["payload"] != payload.to_json():
        db.discard(_key("submitted", server, fingerprint), "it holds a different payload")
        return None
    job_id = data["job_id"]
    if _job_is_gone(client, job_id):
        _forget_submitted(db, server, fingerprint, job_id)
        return None
    return job_id


def _forget_submitted(db: _Database, server: str, fingerprint: str, job_id: str) -> None:
    """Drop the ``submitted`` entry of ``fingerprint`` if it still points at ``job_id``."""
    key = _key("submitted", server, fingerprint)

    def drop_if_same_job(store: diskcache.Cache) -> None:
        with store.transact():
            text = store.get(key)
            if text is not None and _points_at(text, job_id):
                store.delete(key)

    try:
        db.run(drop_if_same_job)
    except (*_STORE_ERRORS, CacheError) as exc:
        _warn(f"could not drop the re-attach entry of job {job_id} in {db.directory}: {exc}")


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


def _miss_message(
    directory: Path,
    server: str,
    payload: JobPayload,
    fingerprint: str,
    pending: dict[str, Any] | None,
) -> str:
    """The message of the [`CacheMissError`][qpi.errors.CacheMissError] replay mode raises."""
    shots = sorted({payload.shots_for(i) for i in range(len(payload.circuits))})
    target = payload.qpu_target or "(the server's default QPU)"
    text = (
        f"replay mode: the cache at {directory} holds no result for payload "
        f"{fingerprint[:16]}… ({len(payload.circuits)} circuit(s), "
        f"{payload.num_experiments} experiment(s), {'/'.join(map(str, shots))} shots, "
        f"QPU target {target}) on {server}"
    )
    if pending is not None:
        text += f"; job {pending['job_id']} was submitted for it but its result was never collected"
    return text + (
        ". Fill the cache by running the same code once with cache_mode='reuse' or 'record' "
        "while the server is reachable, or import an export of a cache that holds it "
        "(Cache.import_from, `qpi cache import`)."
    )
