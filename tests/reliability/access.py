"""The access matrix: every route x {anonymous, user A, user B, superuser}, as data.

One table drives both the test (``test_access_matrix.py``) and the matrix shown in
``docs/reliability.md`` (:func:`render`), so the documentation cannot drift from what is
proven. Resources are owned by user A; user B is another user; the superuser logs in with a
JWT (on user routes it acts as its "proxy user", exactly like the real server).

Expected outcomes are HTTP statuses, with two refinements for list routes: ``200+`` means
A's resource is in the list, ``200-`` means the list answers but does not show it; and
``401/200`` gives the outcome with an API token, then with a session, where they differ.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

CALLERS: tuple[str, ...] = ("anonymous", "user A (owner)", "user B (other user)", "superuser")

#: What each kind of resource is, in the table and for the admin snapshot of its record.
RESOURCES: dict[str, tuple[str, str | None]] = {
    "job": ("A's pending job", "quantum_jobs"),
    "token": ("A's API token", "api_tokens"),
    "note": ("a notification for A", "notifications"),
    "broadcast": ("a notification for all", "notifications"),
    "qpu": ("an offline QPU", "qpus"),
    "slot": ("A's booking", "time_slots"),
    "request": ("A's pending time request", "qpu_time_requests"),
    "user": ("A's user record", "users"),
}


@dataclass(frozen=True)
class Row:
    """One route (and body) called by the four callers.

    Attributes:
        method: The HTTP method.
        path: The path; ``{id}`` stands for the resource's id.
        on: The resource kind (a key of :data:`RESOURCES`), or ``None``.
        expect: The four outcomes, in :data:`CALLERS` order.
        body: The JSON body, or a function of the resource giving it.
        what: A short description when the body is what matters.
    """

    method: str
    path: str
    on: str | None
    expect: tuple[str, str, str, str]
    body: Any = None
    what: str = ""


def row(
    method: str,
    path: str,
    on: str | None,
    expect: str,
    body: Any = None,
    what: str = "",
) -> Row:
    outcomes = tuple(expect.split())
    assert len(outcomes) == 4, (path, expect)
    return Row(method, path, on, outcomes, body, what)  # type: ignore[arg-type]


def slot_times(n: int) -> dict[str, str]:
    """A half-hour booking far in the future, in hour ``n`` of 2190 (so bookings never overlap)."""
    start = datetime(2190, 1, 1, tzinfo=UTC) + timedelta(hours=n)
    end = start + timedelta(minutes=30)
    return {"start_time": f"{start:%Y-%m-%d %H:%M:%S}Z", "end_time": f"{end:%Y-%m-%d %H:%M:%S}Z"}


C = "/api/collections"

ROWS: tuple[Row, ...] = (
    # -- jobs ------------------------------------------------------------------------------
    row("POST", "/api/jobs", None, "401 201 201 201",
        lambda w: {"circuits": [{"circuit": w["bell"]}], "qpu_target": w["parked"]},
        "submit a job"),
    row("GET", "/api/jobs", "job", "401 200+ 200- 200-"),
    row("GET", "/api/jobs/{id}", "job", "401 200 404 404"),
    row("POST", "/api/jobs/{id}/cancel", "job", "401 200 404 404"),
    # -- API tokens ------------------------------------------------------------------------
    row("POST", "/api/tokens", None, "401 201 201 201", {"name": "matrix"}, "create a token"),
    row("GET", "/api/tokens", "token", "401 200+ 200- 200-"),
    row("GET", "/api/tokens/{id}", "token", "401 200 404 200"),
    row("PATCH", "/api/tokens/{id}", "token", "401 200 404 200", {"name": "renamed"}),
    row("DELETE", "/api/tokens/{id}", "token", "401 200 404 200"),
    # -- notifications ---------------------------------------------------------------------
    row("POST", "/api/notifications/{id}/dismiss", "note", "401 200 403 403"),
    row("POST", "/api/notifications/{id}/dismiss", "broadcast", "401 200 200 200"),
    # -- QPUs and admin routes -------------------------------------------------------------
    row("GET", "/api/qpus", None, "200 200 200 200"),
    row("GET", "/api/qpus/{id}", "qpu", "200 200 200 200"),
    row("POST", "/api/op/qpus/create", None, "403 403 403 201", {"name": "matrix"}),
    row("POST", "/api/op/qpus/connect", "qpu", "200 200 200 200",
        lambda w: {"name": w["name"], "access_token": w["access_token"]},
        "with the QPU's access token"),
    row("POST", "/api/op/qpus/connect", "qpu", "401 401 401 401",
        lambda w: {"name": w["name"], "access_token": "qpi_" + "0" * 64},
        "with a wrong access token"),
    row("POST", "/api/op/qpu/toggle", "qpu", "403 403 403 200",
        lambda w: {"id": w["id"], "enabled": False}),
    row("GET", "/api/op/version", None, "403 403 403 200"),
    row("GET", "/api/health", None, "200 200 200 200"),
    # -- logins ----------------------------------------------------------------------------
    row("POST", f"{C}/users/auth-with-password", None, "200 200 200 200",
        lambda w: {"identity": w["a_email"], "password": w["a_password"]},
        "A's email and password"),
    row("POST", f"{C}/users/auth-with-password", None, "400 400 400 400",
        lambda w: {"identity": w["a_email"], "password": "wrong-password"},
        "A's email, a wrong password"),
    row("POST", f"{C}/_superusers/auth-with-password", None, "200 200 200 200",
        lambda w: {"identity": w["admin_email"], "password": w["admin_password"]},
        "the superuser's email and password"),
    row("POST", f"{C}/_superusers/auth-with-password", None, "400 400 400 400",
        lambda w: {"identity": w["a_email"], "password": w["a_password"]},
        "A's email and password"),
    row("POST", f"{C}/users/auth-refresh", None, "401 401/200 401/200 401",
        what="the caller's own credentials (API token / session)"),
    # -- records API: users ----------------------------------------------------------------
    row("GET", f"{C}/users/records", "user", "200- 200+ 200- 200+"),
    row("GET", f"{C}/users/records/{{id}}", "user", "404 200 404 200"),
    row("POST", f"{C}/users/records", None, "200 200 200 200",
        lambda w: {"email": f"new-{w['n']}@example.com", "password": "password-123",
                   "passwordConfirm": "password-123"},
        "sign up"),
    row("PATCH", f"{C}/users/records/{{id}}", "user", "404 200 404 200", {"name": "Ada"},
        "change the name"),
    row("PATCH", f"{C}/users/records/{{id}}", "user", "404 403 404 200",
        {"qpu_seconds": 10**9}, "change the QPU-seconds balance"),
    row("DELETE", f"{C}/users/records/{{id}}", "user", "404 204 404 204"),
    # -- records API: api_tokens -----------------------------------------------------------
    row("GET", f"{C}/api_tokens/records", "token", "200- 200+ 200- 200+"),
    row("GET", f"{C}/api_tokens/records/{{id}}", "token", "404 200 404 200"),
    row("POST", f"{C}/api_tokens/records", None, "400 200 400 200",
        lambda w: {"token": f"{w['n']:064x}", "user": w["a_id"]}, "a token row for A"),
    row("PATCH", f"{C}/api_tokens/records/{{id}}", "token", "404 200 404 200", {"name": "x"}),
    row("DELETE", f"{C}/api_tokens/records/{{id}}", "token", "404 204 404 204"),
    # -- records API: qpus -----------------------------------------------------------------
    row("GET", f"{C}/qpus/records", "qpu", "200+ 200+ 200+ 200+"),
    row("GET", f"{C}/qpus/records/{{id}}", "qpu", "200 200 200 200"),
    row("POST", f"{C}/qpus/records", None, "403 403 403 200", {"name": "matrix"}),
    row("PATCH", f"{C}/qpus/records/{{id}}", "qpu", "403 403 403 200", {"name": "renamed"}),
    row("DELETE", f"{C}/qpus/records/{{id}}", "qpu", "403 403 403 204"),
    # -- records API: quantum_jobs ---------------------------------------------------------
    row("GET", f"{C}/quantum_jobs/records", "job", "200- 200+ 200- 200+"),
    row("GET", f"{C}/quantum_jobs/records/{{id}}", "job", "404 200 404 200"),
    row("POST", f"{C}/quantum_jobs/records", None, "403 403 403 403",
        lambda w: {"user_id": w["a_id"], "status": "pending", "payload": {}},
        "a job row (jobs are made by POST /api/jobs)"),
    row("PATCH", f"{C}/quantum_jobs/records/{{id}}", "job", "403 403 403 200",
        {"status": "cancelled"}),
    row("DELETE", f"{C}/quantum_jobs/records/{{id}}", "job", "403 403 403 204"),
    # -- records API: time_slots (bookings) ------------------------------------------------
    row("GET", f"{C}/time_slots/records", "slot", "200- 200+ 200+ 200+"),
    row("GET", f"{C}/time_slots/records/{{id}}", "slot", "404 200 200 200"),
    row("POST", f"{C}/time_slots/records", None, "400 200 400 200",
        lambda w: {**slot_times(w["n"]), "booked_by": w["a_id"]}, "a booking for A"),
    row("PATCH", f"{C}/time_slots/records/{{id}}", "slot", "404 200 404 200",
        lambda w: slot_times(w["n"]), "move it"),
    row("DELETE", f"{C}/time_slots/records/{{id}}", "slot", "404 204 404 204"),
    # -- records API: qpu_time_requests ----------------------------------------------------
    row("GET", f"{C}/qpu_time_requests/records", "request", "200- 200+ 200- 200+"),
    row("GET", f"{C}/qpu_time_requests/records/{{id}}", "request", "404 200 404 200"),
    row("POST", f"{C}/qpu_time_requests/records", None, "400 200 400 200",
        lambda w: {"seconds": 60, "user": w["a_id"], "status": "pending"}, "a request for A"),
    row("PATCH", f"{C}/qpu_time_requests/records/{{id}}", "request", "403 403 403 200",
        {"status": "approved"}, "approve it"),
    row("DELETE", f"{C}/qpu_time_requests/records/{{id}}", "request", "404 204 404 204"),
    # -- records API: notifications --------------------------------------------------------
    row("GET", f"{C}/notifications/records", "note", "200- 200+ 200- 200+"),
    row("GET", f"{C}/notifications/records/{{id}}", "note", "404 200 404 200"),
    row("POST", f"{C}/notifications/records", None, "403 403 403 200", {"title": "matrix"}),
    row("PATCH", f"{C}/notifications/records/{{id}}", "note", "403 403 403 200", {"title": "x"}),
    row("DELETE", f"{C}/notifications/records/{{id}}", "note", "403 403 403 204"),
    # -- what is not there -----------------------------------------------------------------
    row("GET", f"{C}/_superusers/records", None, "404 404 404 404"),
    row("GET", "/api/nope", None, "404 404 404 404"),
)  # fmt: skip


def label(outcome: str) -> str:
    """An outcome as the docs show it."""
    if outcome.endswith("+"):
        return f"{outcome[:-1]}, listed"
    if outcome.endswith("-"):
        return f"{outcome[:-1]}, not listed"
    return outcome


def render() -> str:
    """The matrix as a Markdown table (what ``docs/reliability.md`` shows)."""
    head = ["Route", "On", *CALLERS]
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for r in ROWS:
        on = RESOURCES[r.on][0] if r.on else ""
        if r.what:
            on = f"{on}: {r.what}" if on else r.what
        route = f"`{r.method} {r.path}`"
        lines.append("| " + " | ".join([route, on, *map(label, r.expect)]) + " |")
    return "\n".join(lines) + "\n"
