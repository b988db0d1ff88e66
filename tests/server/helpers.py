"""Circuits and HTTP helpers shared by the local-orchestrator tests."""

from __future__ import annotations

import time
import uuid
from dataclasses import dataclass
from typing import Any

import requests

BELL = (
    'OPENQASM 3.0;\ninclude "stdgates.inc";\nbit[2] c;\nqubit[2] q;\n'
    "h q[0];\ncx q[0], q[1];\nc = measure q;\n"
)
GHZ = (
    'OPENQASM 3.0;\ninclude "stdgates.inc";\nbit[3] c;\nqubit[3] q;\n'
    "h q[0];\ncx q[0], q[1];\ncx q[1], q[2];\nc = measure q;\n"
)
X_ON_Q1_OF_3 = (
    'OPENQASM 3.0;\ninclude "stdgates.inc";\nbit[3] c;\nqubit[3] q;\nx q[1];\nc = measure q;\n'
)
BELL_QASM2 = (
    'OPENQASM 2.0;\ninclude "qelib1.inc";\nqreg q[2];\ncreg c[2];\n'
    "h q[0];\ncx q[0],q[1];\nmeasure q -> c;\n"
)
# Two parameters whose sorted order (alpha, beta) differs from declaration order.
TWO_PARAMS = (
    'OPENQASM 3.0;\ninclude "stdgates.inc";\ninput float[64] beta;\ninput float[64] alpha;\n'
    "bit[2] c;\nqubit[2] q;\nrx(alpha) q[0];\nrx(beta) q[1];\nc = measure q;\n"
)
RX = (
    'OPENQASM 3.0;\ninclude "stdgates.inc";\ninput float[64] theta;\nbit[1] c;\nqubit[1] q;\n'
    "rx(theta) q[0];\nc[0] = measure q[0];\n"
)
# Two classical registers: outside what the real driver can run, fine here.
TWO_REGISTERS = (
    'OPENQASM 3.0;\ninclude "stdgates.inc";\nbit[1] a;\nbit[2] b;\nqubit[3] q;\n'
    "x q[0];\nx q[2];\na[0] = measure q[0];\nb[0] = measure q[1];\nb[1] = measure q[2];\n"
)
FINAL = ("completed", "failed", "cancelled")


@dataclass
class Session:
    """A ``requests`` session bound to one server and one identity."""

    url: str
    http: requests.Session

    def request(self, method: str, path: str, **kwargs: Any) -> requests.Response:
        kwargs.setdefault("timeout", 30)
        return self.http.request(method, self.url + path, **kwargs)

    def get(self, path: str, **kwargs: Any) -> requests.Response:
        return self.request("GET", path, **kwargs)

    def post(self, path: str, **kwargs: Any) -> requests.Response:
        return self.request("POST", path, **kwargs)

    def patch(self, path: str, **kwargs: Any) -> requests.Response:
        return self.request("PATCH", path, **kwargs)

    def delete(self, path: str, **kwargs: Any) -> requests.Response:
        return self.request("DELETE", path, **kwargs)

    def submit(self, circuits: list[dict[str, Any]] | str, **fields: Any) -> dict[str, Any]:
        if isinstance(circuits, str):
            circuits = [{"circuit": circuits}]
        answer = self.post("/api/jobs", json={"circuits": circuits, **fields})
        assert answer.status_code == 201, answer.text
        return answer.json()

    def wait(self, job_id: str, timeout: float = 30.0) -> dict[str, Any]:
        deadline = time.monotonic() + timeout
        while True:
            job = self.get(f"/api/jobs/{job_id}").json()
            if job["status"] in FINAL:
                return job
            assert time.monotonic() < deadline, f"job {job_id} still {job['status']}"
            time.sleep(0.005)

    def run(self, circuits: list[dict[str, Any]] | str, **fields: Any) -> dict[str, Any]:
        return self.wait(self.submit(circuits, **fields)["id"])


def session(url: str, headers: dict[str, str] | None = None) -> Session:
    http = requests.Session()
    http.headers.update(headers or {})
    return Session(url, http)


def login(url: str, email: str, password: str, collection: str = "users") -> str:
    answer = requests.post(
        f"{url}/api/collections/{collection}/auth-with-password",
        json={"identity": email, "password": password},
        timeout=30,
    )
    assert answer.status_code == 200, answer.text
    return answer.json()["token"]


def error(answer: requests.Response, status: int, message: str | None = None) -> dict[str, Any]:
    """Assert a QPI error body and return it."""
    assert answer.status_code == status, answer.text
    body = answer.json()
    assert set(body) == {"data", "message", "status"}
    assert body["status"] == status
    if message is not None:
        assert body["message"] == message
    return body


@dataclass
class Account:
    """A user made for a test: its record, password, one API token and sessions."""

    id: str
    email: str
    password: str
    token: str
    token_id: str
    url: str

    @property
    def api(self) -> Session:
        """A session that authenticates with the API token."""
        return session(self.url, {"X-API-Token": self.token})

    def jwt(self) -> Session:
        """A session that authenticates with a fresh password login (JWT)."""
        return session(self.url, {"Authorization": login(self.url, self.email, self.password)})


def admin_session(url: str, email: str, password: str) -> Session:
    """A session holding a superuser JWT."""
    return session(url, {"Authorization": login(url, email, password, "_superusers")})


def make_account(url: str, admin: Session, seconds: float = 1_000_000.0) -> Account:
    """Create a user (through the admin), log in once, and make it an API token."""
    email = f"user-{uuid.uuid4().hex[:12]}@example.com"
    password = uuid.uuid4().hex
    created = admin.post(
        "/api/collections/users/records",
        json={
            "email": email,
            "password": password,
            "passwordConfirm": password,
            "qpu_seconds": seconds,
        },
    )
    assert created.status_code == 200, created.text
    jwt = session(url, {"Authorization": login(url, email, password)})
    token = jwt.post("/api/tokens", json={"name": "tests"})
    assert token.status_code == 201, token.text
    return Account(
        created.json()["id"], email, password, token.json()["token"], token.json()["id"], url
    )
