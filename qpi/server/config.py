"""Settings of the local orchestrator: where it listens, where it keeps its data, its QPUs."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

from qpi.errors import ValidationError

__all__ = [
    "BUILTIN_QPUS",
    "EXECUTOR_TYPES",
    "SIMULATOR_MAX_QUBITS",
    "QPUDefinition",
    "ServerConfig",
]

#: Executors a QPU can run its jobs on (see [`qpi.server.executors`][qpi.server.executors]).
EXECUTOR_TYPES: tuple[str, ...] = ("mock", "qiskit_aer")
#: Largest circuit the built-in simulators run (a 24-qubit state takes 256 MiB).
SIMULATOR_MAX_QUBITS = 24


@dataclass(frozen=True)
class QPUDefinition:
    """A QPU the server creates on first start, online and enabled.

    Attributes:
        name: The QPU's name (also the ``backend`` name in its results).
        num_qubits: The largest circuit the QPU accepts.
        executor_type: One of [`EXECUTOR_TYPES`][qpi.server.config.EXECUTOR_TYPES].
    """

    name: str
    num_qubits: int
    executor_type: str


#: The built-in simulator QPUs.
BUILTIN_QPUS: tuple[QPUDefinition, ...] = (
    QPUDefinition("mock", SIMULATOR_MAX_QUBITS, "mock"),
    QPUDefinition("qiskit_aer", SIMULATOR_MAX_QUBITS, "qiskit_aer"),
)


def _default_workers() -> int:
    return os.cpu_count() or 1


@dataclass
class ServerConfig:
    """Everything that shapes one run of the local orchestrator.

    Attributes:
        host: Interface to listen on.
        port: TCP port (``0`` picks a free one).
        data_dir: Directory of the SQLite database, the JWT secret and ``credentials.json``.
        seed: Makes sampling reproducible: each job's generator is seeded from
            ``(seed, job id)``. ``None`` draws fresh randomness.
        workers: Simulator processes, i.e. how many jobs run at once.
        token_ttl: Lifetime of the JWTs issued by ``auth-with-password``, in seconds.
        login_max_failures: Failed logins per identity within ``login_window`` before the
            server answers 429.
        login_window: The sliding window of the login limiter, in seconds.
        login_threads: Password checks of logins computed at once, on threads of their own.
        login_queue: Logins that may wait for those threads; more get 429 at once.
        max_body_bytes: Largest request body accepted (413 above).
        max_result_bytes: Largest results one job may store, as JSON; a job whose results are
            larger fails and says so. The default is the real server's cap (PocketBase's
            1 MiB limit on a JSON field).
        max_response_bytes: Largest body of one list response; a page that would be larger
            is refused with 400 saying to ask for fewer items or fields.
        keep_alive_timeout: Seconds an idle connection (kept alive, or new and silent) stays
            open.
        header_timeout: Seconds from a request's first byte to the end of its headers
            (408 and close after).
        body_timeout: Seconds from the end of a request's headers to the end of its body
            (closed after).
        offer_wait: Answer ``GET /api/jobs/{id}?wait=S`` as a long-poll and advertise it in
            ``/api/health`` (``False``: ignore ``wait``, as a real server does, so clients
            poll).
        max_connections: Open connections beyond which new ones get 503 and are closed;
            ``0`` picks half the process's open-file limit, at most 1,000.
        default_user_seconds: QPU-seconds of the default user created on first start.
        qpus: The built-in QPUs created on first start.
        idle_threshold: Seconds a booking holder keeps a QPU after their last job finished.
        max_attempts: Worker crashes a job survives before it is failed.
        max_shots: Largest shot count one circuit may run on the local simulators.
        prewarm: Start the simulator processes at start-up so the first job is fast.
        poll_interval: Longest the scheduler sleeps between checks (it is woken on submit).
        booking_max_seconds: Longest time slot a user may book.
        bookings_per_user: Bookings a user may hold that have not ended.
        max_database_bytes: Largest the database may grow (``None``: until the disk is
            full); past it, writes answer 507 like a full disk.
        default_qpu: The QPU ``/api/qpus`` marks ``"default": true`` (clients use it when no
            QPU is named); ``None`` marks none, as a real server.
        strict: Behave as a real QPI v0.1.2 installation, bugs included (see
            `qpi.server.strict`).
        job_timeout: Strict mode: seconds a job may stay ``running`` before the recovery
            loop puts it back to ``pending`` (the real ``--job-timeout``).
        recovery_interval: Strict mode: seconds between two rounds of the recovery loop.
    """

    host: str = "127.0.0.1"
    port: int = 8090
    data_dir: Path | None = None
    seed: int | None = None
    workers: int = field(default_factory=_default_workers)
    token_ttl: float = 7 * 24 * 3600.0
    login_max_failures: int = 10
    login_window: float = 60.0
    login_threads: int = 2
    login_queue: int = 32
    max_body_bytes: int = 1024 * 1024
    max_result_bytes: int = 1024 * 1024
    max_response_bytes: int = 32 * 1024 * 1024
    keep_alive_timeout: float = 75.0
    header_timeout: float = 10.0
    body_timeout: float = 60.0
    max_connections: int = 0
    offer_wait: bool = True
    default_user_seconds: float = 1_000_000.0
    qpus: tuple[QPUDefinition, ...] = BUILTIN_QPUS
    idle_threshold: float = 5.0
    max_attempts: int = 3
    max_shots: int = 1_000_000
    prewarm: bool = True
    poll_interval: float = 1.0
    booking_max_seconds: float = 4 * 3600.0
    bookings_per_user: int = 24
    max_database_bytes: int | None = None
    default_qpu: str | None = "mock"
    strict: bool = False
    job_timeout: float = 20.0
    recovery_interval: float = 10.0

    def __post_init__(self) -> None:
        if self.data_dir is not None:
            self.data_dir = Path(self.data_dir)
        if self.workers < 1:
            raise ValidationError(f"workers must be at least 1, got {self.workers}")
