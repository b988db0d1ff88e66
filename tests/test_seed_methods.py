"""Every method of the original client's API, called through ``qpi.QPIClient`` on both modes.

The table this computes is the one shown in ``docs/local-orchestrator.md`` between the
``seed-methods`` markers; the test fails when they differ (``QPI_WRITE_DOCS=1`` rewrites it).
Three columns: ``qpi serve`` with the user's API token, ``qpi serve --strict`` (a real v0.1.2
installation's behaviour) with the API token only, and ``--strict`` logged in as the user
(``client.auth_with_password``). Admin methods run as the superuser in every column.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import requests

from qpi import QPIClient
from qpi.server import LocalServer
from tests.server.helpers import login

DOC = Path(__file__).resolve().parents[1] / "docs" / "local-orchestrator.md"
BEGIN, END = "<!-- seed-methods:begin -->", "<!-- seed-methods:end -->"
COLUMNS = ("`qpi serve`, API token", "`--strict`, API token", "`--strict`, logged in")
BELL = (
    'OPENQASM 3.0;\ninclude "stdgates.inc";\nbit[2] c;\nqubit[2] q;\n'
    "h q[0];\ncx q[0], q[1];\nc = measure q;\n"
)


def _at(minutes: float) -> str:
    return (datetime.now(UTC) + timedelta(minutes=minutes)).isoformat().replace("+00:00", "Z")


class NothingToActOn(Exception):
    """An earlier row failed to create what this one acts on."""


def _outcome(call: Callable[[], Any]) -> str:
    """What a call gives, as the table spells it."""
    try:
        value = call()
    except NothingToActOn:
        return "n/a (nothing created above)"
    except Exception as exc:  # the table records every outcome, errors included
        return f"`{type(exc).__name__}`"
    if isinstance(value, list):
        return "ok" if value else "ok, empty"
    if hasattr(value, "get_counts"):  # a Qiskit Result
        counts = value.get_counts()
        return "ok, counts" if counts else "ok, no counts"
    return "ok"


class World:
    """One server, its user client (token or session) and a superuser client."""

    def __init__(self, server: LocalServer, logged_in: bool) -> None:
        self.server = server
        self.user = QPIClient(server.url, api_token=server.api_token, cache=False, profile=False)
        if logged_in:
            self.user.auth_with_password(server.user_email, server.user_password)
        self.admin = QPIClient(server.url, cache=False, profile=False)
        self.admin.auth_with_password(server.admin_email, server.admin_password, superuser=True)
        self.mock = next(q for q in self.user.list_qpus() if q["name"] == "mock")
        # No seed method creates a notification: the superuser uses the records API.
        token = login(server.url, server.admin_email, server.admin_password, "_superusers")
        self.note = requests.post(
            f"{server.url}/api/collections/notifications/records",
            json={"title": "hello"},
            headers={"Authorization": token},
            timeout=30,
        ).json()

    def close(self) -> None:
        self.user.close()
        self.admin.close()


def _rows(w: World) -> list[tuple[str, Callable[[], Any]]]:
    user, admin = w.user, w.admin
    state: dict[str, Any] = {}

    def made(key: str) -> Any:
        if key not in state:
            raise NothingToActOn(key)
        return state[key]

    def submit() -> str:
        state["job"] = user.submit_job([{"circuit": BELL}], shots=100, qpu_target=w.mock["id"])
        return state["job"]

    def slot() -> dict[str, Any]:
        state["slot"] = user.create_time_slot(_at(60 + len(state)), _at(61 + len(state)))
        return state["slot"]

    def request() -> dict[str, Any]:
        state["request"] = user.create_time_request(30, "tests")
        return state["request"]

    def owner() -> str:
        return next(u["id"] for u in admin.list_users() if u["email"] == w.server.user_email)

    def login_again() -> Any:
        return user.auth_with_password(w.server.user_email, w.server.user_password)

    def qiskit_run() -> Any:
        backend = user.get_backend(w.mock["id"])
        return backend.run(qasm=BELL, shots=100).result(timeout=60)

    return [
        ("submit_job", submit),
        ("job(...).result()", lambda: user.job(state["job"]).result(timeout=60)),
        ("get_job (finished job)", lambda: user.get_job(state["job"])),
        ("list_jobs", user.list_jobs),
        ("cancel_job (finished job)", lambda: user.cancel_job(state["job"])),
        ("list_qpus", user.list_qpus),
        ("get_qpu (record id)", lambda: user.get_qpu(w.mock["id"])),
        ("get_qpu (name)", lambda: user.get_qpu("mock")),
        ("get_backend (name) + run + result", qiskit_run),
        ("create_qpu (admin)", lambda: admin.create_qpu("seed-table", num_qubits=2)),
        ("connect_qpu", lambda: user.connect_qpu("seed-table", "qpi_" + "0" * 64)),
        ("toggle_qpu (admin)", lambda: admin.toggle_qpu(w.mock["id"], True)),
        ("list_notifications", user.list_notifications),
        ("dismiss_notification", lambda: user.dismiss_notification(w.note["id"])),
        ("create_time_slot", slot),
        ("list_time_slots", user.list_time_slots),
        ("update_time_slot", lambda: user.update_time_slot(made("slot")["id"], end_time=_at(90))),
        ("delete_time_slot", lambda: user.delete_time_slot(made("slot")["id"])),
        ("create_time_request", request),
        ("list_time_requests", user.list_time_requests),
        (
            "update_time_request (admin approves)",
            lambda: admin.update_time_request(made("request")["id"], "approved"),
        ),
        ("list_users (admin)", admin.list_users),
        ("allocate_qpu_time (admin)", lambda: admin.allocate_qpu_time(owner(), 5000)),
        ("auth_with_password", login_again),
    ]  # fmt: skip


def column(strict: bool, logged_in: bool) -> dict[str, str]:
    with LocalServer(seed=2, strict=strict) as server:
        world = World(server, logged_in)
        try:
            return {name: _outcome(call) for name, call in _rows(world)}
        finally:
            world.close()


def render(columns: list[dict[str, str]]) -> str:
    lines = ["| method | " + " | ".join(COLUMNS) + " |", "|---" * (len(COLUMNS) + 1) + "|"]
    for name in columns[0]:
        cells = " | ".join(col[name] for col in columns)
        lines.append(f"| `{name}` | {cells} |")
    return "\n".join(lines) + "\n"


@pytest.fixture(scope="module")
def table() -> Iterator[str]:
    yield render([column(False, False), column(True, False), column(True, True)])


@pytest.mark.slow
def test_the_docs_show_every_seed_method_on_both_modes(table):
    text = DOC.read_text(encoding="utf-8")
    if os.environ.get("QPI_WRITE_DOCS") == "1":
        head, rest = text.split(BEGIN, 1)
        text = head + BEGIN + "\n" + table + END + rest.split(END, 1)[1]
        DOC.write_text(text, encoding="utf-8")
    shown = text.split(BEGIN, 1)[1].split(END, 1)[0].strip("\n") + "\n"
    assert shown == table, "docs/local-orchestrator.md is out of date: run with QPI_WRITE_DOCS=1"
