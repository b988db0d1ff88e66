"""What the job runner needs of a store: a typed protocol that never sees a client.

Everything a store is asked is scoped by a [`Scope`][qpi.cache.Scope]: the server and the
identity asking, so two users (or two tokens) sharing one cache directory never see each
other's results or job records. Results are kept per payload and *occurrence*: the k-th result
stored for a payload answers the k-th identical submission (see
[`CacheMode`][qpi.jobs.CacheMode]). A store that cannot read or write carries on as a miss;
it never stops a job.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Protocol, runtime_checkable

if TYPE_CHECKING:
    from qpi.payload import JobPayload

__all__ = ["Liveness", "Scope", "Store", "StoredResult", "Submission"]

#: Asks the server whether a job id may still be re-attached to (pending, running or
#: completed). The runner passes it in, so a store never holds a client.
Liveness = Callable[[str], bool]


@dataclass(frozen=True)
class Scope:
    """Whose entries a lookup may see.

    Attributes:
        server: The normalised server URL (see [`normalise_server`][qpi.cache.normalise_server]).
        identity: Who asks: a digest of the API token (never the token), ``user:<id>`` after
            a password login, or ``anonymous``.
    """

    server: str
    identity: str

    @property
    def key(self) -> str:
        """The text entries are stored under: ``<server>#<identity>``."""
        return f"{self.server}#{self.identity}"


@dataclass(frozen=True)
class StoredResult:
    """A completed job record stored for one occurrence of a payload.

    Attributes:
        job_id: The job that produced it.
        record: Its final job record (``status`` is ``completed``).
    """

    job_id: str
    record: Mapping[str, Any]


@dataclass(frozen=True)
class Submission:
    """What is stored about a submission before (``job_id`` None) and after its POST.

    Attributes:
        nonce: The submission tag sent with the payload (32 hex characters).
        job_id: The job the server made for it, once known.
    """

    nonce: str
    job_id: str | None = None


@runtime_checkable
class Store(Protocol):
    """The storage the job runner uses; [`Cache`][qpi.cache.Cache] is the disk implementation.

    Implementations must be safe for several threads, must not raise for a damaged or
    unreadable entry (a miss instead), and must never store a token.
    """

    def result(self, scope: Scope, payload: JobPayload, occurrence: int) -> StoredResult | None:
        """The result stored for the ``occurrence``-th submission of ``payload``, if any."""

    def save_result(
        self,
        scope: Scope,
        payload: JobPayload,
        occurrence: int,
        job_id: str,
        record: Mapping[str, Any],
    ) -> None:
        """Store a completed record as the ``occurrence``-th result of ``payload``."""

    def submission(
        self,
        scope: Scope,
        payload: JobPayload,
        occurrence: int,
        alive: Liveness | None = None,
    ) -> Submission | None:
        """The stored submission of that occurrence; one whose job is not ``alive`` is dropped."""

    def save_submission(
        self, scope: Scope, payload: JobPayload, occurrence: int, submission: Submission
    ) -> None:
        """Store a submission's tag (before its POST) or its job id (after)."""

    def forget_submission(self, scope: Scope, payload: JobPayload, occurrence: int) -> None:
        """Drop the stored submission of that occurrence (its job failed or was cancelled)."""

    def job(self, scope: Scope, job_id: str) -> dict[str, Any] | None:
        """The stored final record of a job, if any."""

    def save_job(self, scope: Scope, job_id: str, record: Mapping[str, Any]) -> None:
        """Store a job's final record (completed, failed or cancelled)."""

    def qpu(self, scope: Scope, name: str) -> dict[str, Any] | None:
        """The stored record of a QPU by name or id (``""``: the default QPU), if any."""

    def save_qpu(self, scope: Scope, name: str, record: Mapping[str, Any]) -> None:
        """Store a QPU record under the name asked for, its id and its name."""
