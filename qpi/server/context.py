"""The state one running server shares between its routes: settings, store, auth, scheduler."""

from __future__ import annotations

from dataclasses import dataclass, field

from qpi.server.auth import Authenticator, TokenSigner
from qpi.server.bootstrap import Credentials
from qpi.server.completion import JobWatch
from qpi.server.config import ServerConfig
from qpi.server.logins import LoginLimiter, PasswordGate
from qpi.server.scheduler import Scheduler
from qpi.server.store import Store

__all__ = ["ServerContext"]


@dataclass
class ServerContext:
    """Everything a request handler may need, built at start-up (``app.state.ctx``).

    Attributes:
        config: The server's settings.
        store: The database.
        signer: Issues and checks JWTs.
        auth: Resolves callers.
        limiter: The login rate limiter.
        password_gate: Runs the password checks of logins on threads of their own.
        scheduler: Runs jobs; wake it after anything that may make a job runnable.
        credentials: The bootstrap credentials (secrets hidden from the repr).
        watch: The requests waiting for jobs to finish (``?wait=``); the store notifies it.
    """

    config: ServerConfig
    store: Store = field(repr=False)
    signer: TokenSigner = field(repr=False)
    auth: Authenticator = field(repr=False)
    limiter: LoginLimiter = field(repr=False)
    scheduler: Scheduler = field(repr=False)
    credentials: Credentials
    password_gate: PasswordGate = field(repr=False)
    watch: JobWatch = field(default_factory=JobWatch, repr=False)

    def __post_init__(self) -> None:
        self.store.on_job_change(self.watch.notify)
