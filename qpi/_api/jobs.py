"""Job routes: create, read (whole or some fields), list and cancel; dicts in, dicts out.

``JobRoutes`` is what the job runner ([`qpi.jobs`][qpi.jobs]) sends through. It knows
nothing of the cache, the cache mode or the hooks.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

from qpi import errors
from qpi._api.base import ClientBase
from qpi._api.completion import long_poll_seconds, offered_wait
from qpi._api.submission import JobSubmission, without_submission_mark
from qpi.transport import quote_segment

if TYPE_CHECKING:
    from qpi.transport import Transport

__all__ = ["JobRoutes"]


class JobRoutes(JobSubmission, ClientBase):
    """``/api/jobs`` over one transport.

    Args:
        transport: The client's transport.
        base_url: The server's root URL (for messages).
    """

    def __init__(self, transport: Transport, base_url: str) -> None:
        self._transport = transport
        self.base_url = base_url
        self._long_poll: float | None = None  # asked of the server once, on the first wait

    def read(
        self, job_id: str, fields: Sequence[str] | None = None, *, wait: float = 0.0
    ) -> dict[str, Any]:
        """``GET /api/jobs/{id}``: the job record, or only ``fields`` of it.

        A server that ignores ``fields`` answers the whole record, which is fine.

        Args:
            job_id: The job.
            fields: The fields to answer with (``None``: all).
            wait: Ask the server to hold the answer until the job is final, at most this many
                seconds (its ``?wait=`` long-poll; see `long_poll`).

        Raises:
            NotFoundError: If the job does not exist or is not the caller's.
            ServerError: If the answer is not a job record.
        """
        params: dict[str, Any] = {"fields": ",".join(fields)} if fields else {}
        if wait > 0:
            params["wait"] = f"{wait:g}"
        path = f"/api/jobs/{quote_segment(job_id)}"
        record = self._request("GET", path, params=params or None)
        if not isinstance(record, Mapping):
            raise errors.ServerError(f"GET /api/jobs/{job_id} did not answer a job record")
        return without_submission_mark(record)

    def long_poll(self) -> float:
        """Seconds one job read may ask the server to wait (0: the server offers no wait).

        Read once from ``GET /api/health`` (``data.jobWait``, which ``qpi serve``
        advertises) and kept; a server that does not answer it, or does not offer the wait,
        is polled. Bounded below the transport's read timeout.
        """
        if self._long_poll is None:
            try:
                offered = offered_wait(self._request("GET", "/api/health"))
            except errors.QPIError:
                offered = 0.0
            self._long_poll = long_poll_seconds(offered, self._transport.timeouts.read)
        return self._long_poll

    def list(self, *, limit: int | None = None, sort: str = "-created") -> list[dict[str, Any]]:
        """``GET /api/jobs``: the caller's jobs, following every page."""
        jobs = self._paged("/api/jobs", "jobs", limit=limit, params={"sort": sort})
        return [without_submission_mark(job) for job in jobs]

    def cancel(self, job_id: str) -> dict[str, Any] | None:
        """``POST /api/jobs/{id}/cancel``; ``None`` when a retry found the job already gone."""
        path = f"/api/jobs/{quote_segment(job_id)}/cancel"
        # Cancelling twice is harmless, so the POST may be retried like a GET.
        return self._request("POST", path, idempotent=True, gone_means_done=True)
