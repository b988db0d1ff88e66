"""Who may do what: every route x {anonymous, user A, user B, superuser}, A owning the resources.

The table is :data:`tests.reliability.access.ROWS`; ``docs/reliability.md`` shows it, rendered
by :func:`tests.reliability.access.render` (a test keeps the two equal; run with
``QPI_WRITE_DOCS=1`` to rewrite the doc's copy). Each cell gets a fresh resource owned by A,
so a cell that deletes or cancels cannot change another's answer. When a call is refused,
the resource must be exactly as it was, read back through the superuser's records API.
"""

from __future__ import annotations

import itertools
import os
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests

from qpi.server import LocalServer
from tests.reliability.access import CALLERS, RESOURCES, ROWS, Row, render, slot_times
from tests.reliability.helpers import (
    BELL,
    SERVED_ROUTES,
    assert_error_body,
    parked_qpu,
    report,
    tagged,
)
from tests.server.helpers import Account, Session, login, make_account, session

DOC = Path(__file__).resolve().parents[2] / "docs" / "reliability.md"
BEGIN, END = "<!-- access-matrix:begin -->", "<!-- access-matrix:end -->"
COUNTER = itertools.count(1)


class World:
    """The two users, the superuser, and factories of resources owned by user A."""

    def __init__(self, server: LocalServer, admin: Session, a: Account, b: Account) -> None:
        self.server, self.admin, self.a, self.b = server, admin, a, b
        self.parked = parked_qpu(admin)
        self._jwts: dict[str, str] = {}

    def make(self, kind: str) -> dict[str, Any]:
        """A fresh resource of ``kind``; ``owner`` is the account acting as user A for it."""
        a, admin = self.a, self.admin
        n = next(COUNTER)
        if kind == "job":
            return {"id": a.api.submit(tagged(BELL), qpu_target=self.parked)["id"], "owner": a}
        if kind == "token":
            return {
                "id": a.api.post("/api/tokens", json={"name": f"t{n}"}).json()["id"],
                "owner": a,
            }
        if kind in ("note", "broadcast"):
            targets = [a.id] if kind == "note" else []
            body = {"title": f"n{n}", "target_users": targets}
            created = admin.post("/api/collections/notifications/records", json=body)
            return {"id": created.json()["id"], "owner": a}
        if kind == "qpu":
            created = admin.post("/api/op/qpus/create", json={"name": f"matrix-{n}"}).json()
            return {**created, "owner": a}
        if kind == "slot":
            body = {**slot_times(n), "booked_by": a.id}
            created = a.api.post("/api/collections/time_slots/records", json=body)
            assert created.status_code == 200, created.text
            return {"id": created.json()["id"], "owner": a}
        if kind == "request":
            body = {"seconds": 5, "user": a.id, "status": "pending"}
            created = a.api.post("/api/collections/qpu_time_requests/records", json=body)
            return {"id": created.json()["id"], "owner": a}
        if kind == "user":  # A's own record: this cell's user A is a fresh account
            owner = make_account(self.server.url, admin)
            return {"id": owner.id, "owner": owner}
        raise KeyError(kind)

    def headers(self, caller: str, owner: Account, credential: str) -> dict[str, str]:
        if caller == "anonymous":
            return {}
        if caller == "superuser":
            return dict(self.admin.http.headers)
        account = owner if caller.startswith("user A") else self.b
        if credential == "jwt":
            if account.email not in self._jwts:
                self._jwts[account.email] = login(self.server.url, account.email, account.password)
            return {"Authorization": self._jwts[account.email]}
        return {"X-API-Token": account.token}

    def snapshot(self, kind: str | None, resource: dict[str, Any]) -> Any:
        """The resource's record as the superuser reads it (``None``: nothing to compare)."""
        if kind is None:
            return None
        collection = RESOURCES[kind][1]
        answer = self.admin.get(f"/api/collections/{collection}/records/{resource['id']}")
        return answer.status_code, answer.json() if answer.content else None


def _listed(answer: requests.Response, resource_id: str) -> bool:
    body = answer.json()
    items = body["items"] if isinstance(body, dict) else body
    return any(item.get("id") == resource_id for item in items)


def run_cell(world: World, r: Row, caller: str, credential: str) -> str:
    """Call ``r`` as ``caller`` on a fresh resource; returns the outcome as the table spells it."""
    resource = world.make(r.on) if r.on else {"owner": world.a}
    owner: Account = resource["owner"]
    context = {
        "bell": tagged(BELL),
        "parked": world.parked,
        "a_id": owner.id,
        "a_email": owner.email,
        "a_password": owner.password,
        "admin_email": world.server.admin_email,
        "admin_password": world.server.admin_password,
        "n": next(COUNTER),  # unique: new emails, token rows and bookings never clash
        **{k: v for k, v in resource.items() if k != "owner"},
    }
    body = r.body(context) if callable(r.body) else r.body
    path = r.path.replace("{id}", str(resource.get("id", "")))
    before = world.snapshot(r.on, resource)
    params = None
    if r.method == "GET" and r.on and "{id}" not in r.path and path.startswith("/api/coll"):
        params = {"filter": f'id = "{resource["id"]}"'}  # visibility, whatever the paging
    answer = requests.request(
        r.method,
        world.server.url + path,
        params=params,
        json=body,
        headers=world.headers(caller, owner, credential),
        timeout=60,
    )
    status = answer.status_code
    if status >= 400:
        assert_error_body(answer)
        # Refused means refused: the resource is exactly as it was.
        assert world.snapshot(r.on, resource) == before, (r.method, r.path, caller)
    if status == 200 and r.method == "GET" and r.on and "{id}" not in r.path:
        return f"200{'+' if _listed(answer, resource['id']) else '-'}"
    return str(status)


@pytest.fixture(scope="module")
def server() -> Iterator[LocalServer]:
    """The campaign's server, letting one user hold every booking the matrix makes."""
    with LocalServer(seed=2026, bookings_per_user=100_000) as srv:
        yield srv


@pytest.fixture(scope="module")
def world(server, admin) -> World:
    return World(server, admin, make_account(server.url, admin), make_account(server.url, admin))


def _route(path: str) -> str:
    """A path with its parameters (collection names included) blanked out."""
    if path.startswith("/api/collections/"):
        parts = path.split("/")
        parts[3] = "{}"
        path = "/".join(parts)
    return re.sub(r"\{\w*\}", "{}", path)


def test_the_matrix_covers_every_served_route():
    covered = {(r.method, _route(r.path)) for r in ROWS}
    served = {(method, _route(path)) for method, path in SERVED_ROUTES}
    assert served <= covered, served - covered
    collections = {r.path.split("/")[3] for r in ROWS if r.path.startswith("/api/collections/")}
    assert collections >= {info[1] for info in RESOURCES.values() if info[1]}


@pytest.mark.parametrize("credential", ["api token", "jwt"])
def test_access_matrix(world, credential):
    wrong = []
    cells = 0
    for r in ROWS:
        for caller, cell in zip(CALLERS, r.expect, strict=True):
            by_credential = cell.split("/")
            expected = by_credential[-1] if credential == "jwt" else by_credential[0]
            got = run_cell(world, r, caller, credential)
            cells += 1
            if got != expected:
                wrong.append(
                    f"{r.method} {r.path} [{r.what or r.on}] as {caller}: {got} != {expected}"
                )
    assert not wrong, "\n".join(wrong)
    report("access matrix", credential=credential, rows=len(ROWS), cells=cells, mismatches=0)


def test_the_docs_show_this_matrix():
    table = render()
    text = DOC.read_text(encoding="utf-8") if DOC.exists() else ""
    if os.environ.get("QPI_WRITE_DOCS") == "1":
        if BEGIN in text and END in text:
            head, rest = text.split(BEGIN, 1)
            text = head + BEGIN + "\n" + table + END + rest.split(END, 1)[1]
        else:
            text += f"\n{BEGIN}\n{table}{END}\n"
        DOC.write_text(text, encoding="utf-8")
    assert BEGIN in text and END in text, f"{DOC} has no access matrix"
    shown = text.split(BEGIN, 1)[1].split(END, 1)[0].strip("\n") + "\n"
    assert shown == table, "docs/reliability.md is out of date: run with QPI_WRITE_DOCS=1"


def test_unknown_or_expired_credentials_are_anonymous(world):
    """Forged, expired and revoked credentials get the anonymous column, never more."""
    a = world.a
    doomed = a.api.post("/api/tokens", json={"name": "revoked"}).json()
    assert a.api.delete(f"/api/tokens/{doomed['id']}").status_code == 200
    expired = a.api.post("/api/tokens", json={"expires_at": "2001-01-01T00:00:00Z"}).json()
    ancient = a.api.post("/api/tokens", json={"expires_at": "0999-01-01T00:00:00Z"}).json()
    for headers in (
        {"X-API-Token": doomed["token"]},
        {"X-API-Token": expired["token"]},
        {"X-API-Token": ancient["token"]},
        {"X-API-Token": a.token.upper()},
        {"X-API-Token": a.token[:-1]},
        {"Authorization": "Bearer " + a.token[:-1]},
        {"Authorization": "Basic " + a.token},
        {"Authorization": "Bearer eyJhbGciOiJub25lIn0.eyJpZCI6IngiLCJ0eXBlIjoiYXV0aCJ9."},
    ):
        user = session(world.server.url, headers)
        assert user.get("/api/jobs").status_code == 401, headers
        assert user.get("/api/op/version").status_code == 403, headers
        listed = user.get(f"/api/collections/quantum_jobs/records?filter=user_id='{a.id}'")
        assert listed.status_code == 200 and listed.json()["items"] == [], headers
