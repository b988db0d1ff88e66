"""Sending a job exactly once, though the API has no idempotency key.

Every submission carries its own tag (a comment line holding a random nonce, see
[`qpi.payload.JobPayload.marked_json`][qpi.payload.JobPayload.marked_json]). When the answer to the
POST is lost, the tag finds
the job the server may have created before anything is resent; records read back have the tag
removed, so a payload reads exactly as it was submitted.
"""

from __future__ import annotations

import random
import time
from collections.abc import Mapping
from typing import Any

from qpi import errors
from qpi._api.base import ClientBase
from qpi._api.records import unwrap_list
from qpi.errors import AmbiguousRequestError
from qpi.payload import SUBMISSION_MARK, JobPayload, strip_submission_mark

__all__ = ["JobSubmission", "job_id_of", "without_submission_mark"]


class JobSubmission(ClientBase):
    """The job POST: sent once, reconciled by its tag after an ambiguous failure."""

    def create(self, payload: JobPayload, nonce: str) -> str:
        """POST the job tagged ``nonce``; after an ambiguous failure, ask before resending.

        Returns:
            The id of the job the server made.
        """
        body = payload.marked_json(nonce)  # reuses the payload's JSON: big sweeps serialise once
        attempts = self._transport.retry.attempts
        for attempt in range(1, attempts + 1):
            try:
                record = self._request("POST", "/api/jobs", json_text=body, idempotent=False)
            except AmbiguousRequestError as exc:
                found = self.find_tagged(nonce, pauses=(0.05, 0.25, 0.75))
                if found is not None:
                    return found
                if attempt == attempts:
                    if isinstance(exc.cause, errors.QPIError):
                        raise exc.cause from exc
                    raise errors.ConnectionError(
                        str(exc), method="POST", url=self.base_url
                    ) from exc
                continue
            return job_id_of(record)
        raise AssertionError("unreachable")  # pragma: no cover

    def find_tagged(self, nonce: str, pauses: tuple[float, ...] = (0.0,)) -> str | None:
        """The job a submission tagged ``nonce`` created, if the server has it.

        Args:
            nonce: The submission tag.
            pauses: Seconds to wait before each look (a request held up on the way may still
                land, so after a lost answer it is worth looking more than once).
        """
        tag = SUBMISSION_MARK + nonce
        rng = random.Random()
        for pause in pauses:
            time.sleep(pause * rng.uniform(0.8, 1.2))
            try:
                recent = unwrap_list(
                    self._request("GET", "/api/jobs", params={"limit": 50, "sort": "-created"}),
                    "jobs",
                )
            except errors.QPIError:
                continue
            for record in recent:
                circuits = (record.get("payload") or {}).get("circuits") or [{}]
                first = circuits[0] if isinstance(circuits[0], Mapping) else {}
                if tag in str(first.get("circuit", "")):
                    return job_id_of(record)
        return None


def without_submission_mark(record: Mapping[str, Any]) -> dict[str, Any]:
    """A job record whose payload reads exactly as submitted (the submission tag removed)."""
    record = dict(record)
    payload = record.get("payload")
    if isinstance(payload, Mapping) and isinstance(payload.get("circuits"), list):
        circuits = [
            {**c, "circuit": strip_submission_mark(c.get("circuit"))}
            if isinstance(c, Mapping)
            else c
            for c in payload["circuits"]
        ]
        record["payload"] = {**payload, "circuits": circuits}
    return record


def job_id_of(record: Any) -> str:
    """The job id in the server's answer to a submission (or in a job record)."""
    if isinstance(record, Mapping):
        job_id = record.get("id") or record.get("job_id")
        if job_id:
            return str(job_id)
    raise errors.ServerError(f"the server's answer holds no job id: {record!r:.200}")
