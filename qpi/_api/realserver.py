"""Reading jobs from a real QPI v0.1.2 server, whose job routes return the payload as results.

A real v0.1.2 server fills a job's ``results`` with its payload on ``/api/jobs*`` (reference
§5.6). The true results are on ``/api/collections/quantum_jobs/records/{id}``, for the user
who owns the job and only with a user session (PocketBase ignores API tokens there). So:

* the first final job record tells which kind of server this is, and the client remembers it:
  a server that answers correctly costs no extra request, ever;
* on a server with the bug, a logged-in client reads final jobs through the records route,
  renewing its session (PocketBase's ``auth-refresh``) before it expires;
* with an API token alone, a finished job raises
  [`LoginRequiredError`][qpi.errors.LoginRequiredError], which says how to log in.

Zero counts are dropped from every final record as it arrives (see [`qpi.counts`][qpi.counts]).
"""

from __future__ import annotations

import base64
import binascii
import json
import time
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any

from qpi import errors
from qpi._api.jobs import JobRoutes
from qpi._api.submission import without_submission_mark
from qpi.counts import drop_zero_counts
from qpi.transport import quote_segment

if TYPE_CHECKING:
    from collections.abc import Sequence

    from qpi.transport import Credentials, Transport

__all__ = ["RealServerRoutes", "looks_like_payload", "session_expiry"]

#: Job statuses after which nothing changes (as in ``qpi._api.jobs``).
_FINAL = frozenset({"completed", "failed", "cancelled"})
#: Keys only a results object has; a payload has none of them.
_RESULT_KEYS = ("circuit_results", "counts", "memory", "hex_counts", "error", "raw")
#: A session is renewed once less than this share of its lifetime is left.
_RENEW_SHARE = 0.5


def looks_like_payload(results: Any) -> bool:
    """Whether a job record's ``results`` is in fact its submission payload (the v0.1.2 bug)."""
    return (
        isinstance(results, Mapping)
        and ("circuits" in results or "meas_return" in results)
        and not any(key in results for key in _RESULT_KEYS)
    )


def session_expiry(token: str) -> tuple[float, float] | None:
    """``(issued, expires)`` (Unix times) of a PocketBase session token; ``None`` if unknown.

    The token is not verified (the server does that); only its claims are read, bounded.
    """
    parts = token.split(".")
    if len(parts) != 3 or len(parts[1]) > 4096:
        return None
    try:
        raw = base64.urlsafe_b64decode(parts[1] + "=" * (-len(parts[1]) % 4))
        claims = json.loads(raw)
        return float(claims.get("iat", 0)), float(claims["exp"])
    except (binascii.Error, ValueError, KeyError, TypeError, AttributeError):
        return None


def _login_needed(job_id: str, base_url: str) -> errors.LoginRequiredError:
    return errors.LoginRequiredError(
        f"job {job_id} has finished, but this QPI server (v0.1.2) returns a job's payload where "
        "its results belong and shows the true results and failure reasons only to a "
        "logged-in user: an API token cannot read them. Log in once per session with "
        "client.auth_with_password('you@example.com', password), or save a renewable session "
        f"in your profile with: qpi login --url {base_url} --email you@example.com",
        status_code=401,
        url=f"{base_url}/api/collections/quantum_jobs/records/{job_id}",
    )


class RealServerRoutes(JobRoutes):
    """[`JobRoutes`][qpi._api.jobs.JobRoutes] whose reads return job records as they truly are.

    Args:
        transport: The client's transport (its credentials hold the session, if any).
        base_url: The server's root URL (for messages).
        on_session_renewed: Called with a renewed session token (the client keeps it in the
            profile it came from).
    """

    def __init__(
        self,
        transport: Transport,
        base_url: str,
        on_session_renewed: Callable[[str], None] | None = None,
    ) -> None:
        super().__init__(transport, base_url)
        self._results_bug: bool | None = None  # not known until the first final record
        self._on_session_renewed = on_session_renewed

    @property
    def _credentials(self) -> Credentials:
        return self._transport.credentials

    def read(
        self, job_id: str, fields: Sequence[str] | None = None, *, wait: float = 0.0
    ) -> dict[str, Any]:
        """``GET`` the job; on a v0.1.2 server, a final job's results come from its record.

        A status-only read (``fields`` without ``results``) is never redirected: the status
        is right on every server. (A v0.1.2 server offers no ``wait``.)
        """
        self._renew_session_if_due()
        wants_results = not fields or "results" in fields
        if wants_results and self._known_buggy():
            return without_submission_mark(self._record_via_collection(job_id))
        record = super().read(job_id, fields, wait=wait)
        if "results" not in record:
            return record
        return without_submission_mark(self._true_record(job_id, record))

    def _true_record(self, job_id: str, record: dict[str, Any]) -> dict[str, Any]:
        """``record`` (from ``/api/jobs/{id}``) with its real results, zero counts dropped."""
        final = record.get("status") in _FINAL
        if not looks_like_payload(record.get("results")):
            if final and self._results_bug is None and record.get("results") is not None:
                self._results_bug = False
            return self._arrived(record) if final else record
        self._results_bug = True
        if not final:
            return {k: v for k, v in record.items() if k != "results"}
        return self._record_via_collection(job_id)

    def _record_via_collection(self, job_id: str) -> dict[str, Any]:
        """A job read through the records route, which needs a user session."""
        if not self._credentials.has_session_token:
            raise _login_needed(job_id, self.base_url)
        self._renew_session_if_due()
        path = f"/api/collections/quantum_jobs/records/{quote_segment(job_id)}"
        try:
            record = self._request("GET", path)
        except errors.NotFoundError:
            raise _login_needed(job_id, self.base_url) from None
        if not isinstance(record, Mapping):
            raise errors.ServerError(f"GET {path} did not answer a job record")
        out = {k: v for k, v in record.items() if k not in ("collectionId", "collectionName")}
        return self._arrived(out) if out.get("status") in _FINAL else out

    def _known_buggy(self) -> bool:
        """Whether jobs are best read through the records route (bug known, session held)."""
        return bool(self._results_bug) and self._credentials.has_session_token

    @staticmethod
    def _arrived(record: dict[str, Any]) -> dict[str, Any]:
        if isinstance(record.get("results"), Mapping):
            return {**record, "results": drop_zero_counts(record["results"])}
        return record

    def _renew_session_if_due(self) -> None:
        """Renew the session through ``auth-refresh`` when it is past half its lifetime."""
        token = self._credentials.session_token
        times = session_expiry(token) if token else None
        if times is None:
            return
        issued, expires = times
        left = expires - time.time()
        if left > (expires - issued) * _RENEW_SHARE:
            return
        if left <= 0:
            raise errors.LoginRequiredError(
                f"the saved session for {self.base_url} has expired; log in again with "
                "client.auth_with_password(...) or qpi login --email ...",
                status_code=401,
            )
        answer = self._request("POST", "/api/collections/users/auth-refresh", idempotent=True)
        fresh = answer.get("token") if isinstance(answer, Mapping) else None
        if isinstance(fresh, str) and fresh:
            self._credentials.set_session_token(fresh)
            if self._on_session_renewed is not None:
                self._on_session_renewed(fresh)
