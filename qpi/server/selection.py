"""Which pending jobs may run next, in what order (reference §5.4, its bugs fixed).

1. QPUs that take jobs are the enabled, online ones, in creation order; a job without a
   (known) ``qpu_target`` goes to the first of them.
2. While a booking (``time_slots``) is active, only the booker's jobs run; if they have none
   pending, a QPU running one of theirs, or that finished one less than ``idle_threshold``
   ago, is held for them.
3. Otherwise pending jobs of every user may run, oldest first, and among them the scheduler
   prefers users with fewer jobs running (fair share) and fits short ones in the short lane.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from qpi.server import dates
from qpi.server.store import Store

__all__ = ["CANDIDATES", "ROUTABLE", "Candidate", "candidates"]

#: Pending jobs looked at per dispatch round (the oldest ones).
CANDIDATES = 64


@dataclass(frozen=True)
class Candidate:
    """A pending job that may run now, and the QPU it runs on."""

    job: dict[str, Any]
    qpu: dict[str, Any]


#: Which QPUs take jobs: the enabled, online ones.
ROUTABLE = "enabled = 1 AND status = 'online'"


def candidates(
    store: Store, idle_threshold: float, *, routable: str = ROUTABLE, untargeted: bool = True
) -> list[Candidate]:
    """The oldest pending jobs that may run now, oldest first.

    Args:
        store: The server's database.
        idle_threshold: Seconds a booker's QPU stays held after their last job.
        routable: SQL condition on ``qpus`` choosing the QPUs that take jobs (a constant).
        untargeted: Whether a job without a known ``qpu_target`` goes to the first QPU
            (strict mode: it never runs).
    """
    qpus = store.query(
        f"SELECT * FROM qpus WHERE {routable} ORDER BY created, rowid"  # noqa: S608
    )
    if not qpus:
        return []
    by_id = {q["id"]: q for q in qpus}
    now = datetime.now(UTC)
    booker = _active_booker(store, dates.format_date(now))
    if booker is not None:
        found = _pending(store, qpus, by_id, untargeted, booker=booker)
        if found:
            return found
        held = _held_qpus(store, booker, now, idle_threshold)
        by_id = {k: v for k, v in by_id.items() if k not in held}
    return _pending(store, qpus, by_id, untargeted)


def _active_booker(store: Store, stamp: str) -> str | None:
    return store.scalar(
        "SELECT booked_by FROM time_slots WHERE start_time <= ? AND end_time >= ? "
        "ORDER BY start_time DESC LIMIT 1",
        (stamp, stamp),
    )


def _held_qpus(store: Store, booker: str, now: datetime, idle_threshold: float) -> set[str]:
    since = dates.format_date(now - timedelta(seconds=idle_threshold))
    rows = store.query(
        "SELECT DISTINCT qpu_target FROM quantum_jobs WHERE user_id = ? AND "
        "(status = 'running' OR (status = 'completed' AND finished_at > ?))",
        (booker, since),
    )
    return {row["qpu_target"] for row in rows}


def _pending(
    store: Store,
    qpus: list[dict[str, Any]],
    allowed: dict[str, dict[str, Any]],
    untargeted: bool,
    booker: str | None = None,
) -> list[Candidate]:
    if not allowed:
        return []
    default = qpus[0]["id"]
    marks = ", ".join("?" for _ in allowed)
    # A job without a known target goes to the first routable QPU (or nowhere).
    target = "COALESCE(q.id, ?)" if untargeted else "q.id"
    sql = (
        f"SELECT j.*, {target} AS route FROM quantum_jobs j "  # noqa: S608
        "LEFT JOIN qpus q ON q.id = j.qpu_target "
        f"WHERE j.status = 'pending' AND {target} IN ({marks})"
    )
    params: list[Any] = [default, default, *allowed] if untargeted else list(allowed)
    if booker is not None:
        sql += " AND j.user_id = ?"
        params.append(booker)
    sql += f" ORDER BY j.created, j.seq LIMIT {CANDIDATES}"
    return [Candidate(row, allowed[row["route"]]) for row in store.query(sql, params)]
