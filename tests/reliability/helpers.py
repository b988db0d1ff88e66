"""Shared pieces of the reliability and security tests: circuits, accounts, servers, reports."""

from __future__ import annotations

import contextlib
import json
import os
import queue
import re
import signal
import socket
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import requests

from tests.server.helpers import Session

BELL = (
    'OPENQASM 3.0;\ninclude "stdgates.inc";\nbit[2] c;\nqubit[2] q;\n'
    "h q[0];\ncx q[0], q[1];\nc = measure q;\n"
)
RX = (
    'OPENQASM 3.0;\ninclude "stdgates.inc";\ninput float[64] theta;\nbit[1] c;\nqubit[1] q;\n'
    "rx(theta) q[0];\nc[0] = measure q[0];\n"
)

#: Where figures are appended (one JSON object a line) when ``$QPI_RELIABILITY_REPORT`` is set.
REPORT_ENV = "QPI_RELIABILITY_REPORT"


def tagged(circuit: str, tag: str | None = None) -> str:
    """``circuit`` made unique by a trailing comment (so its payload is a new one)."""
    return circuit + f"// {tag or uuid.uuid4().hex}\n"


def report(name: str, **figures: Any) -> None:
    """Print a figure of the campaign, and append it to ``$QPI_RELIABILITY_REPORT`` if set."""
    line = json.dumps({"property": name, **figures}, sort_keys=True)
    print(f"\nRELIABILITY {line}")
    path = os.environ.get(REPORT_ENV)
    if path:
        with open(path, "a", encoding="utf-8") as handle:
            handle.write(line + "\n")


def percentile(values: list[float], fraction: float) -> float:
    """The nearest-rank percentile of ``values`` (``fraction`` in 0..1)."""
    ordered = sorted(values)
    if not ordered:
        return float("nan")
    rank = max(1, min(len(ordered), round(fraction * len(ordered) + 0.5)))
    return ordered[rank - 1]


def parked_qpu(admin: Session) -> str:
    """A QPU that is never online: jobs sent to it stay pending (no simulator time)."""
    created = admin.post("/api/op/qpus/create", json={"name": f"parked-{uuid.uuid4().hex[:6]}"})
    assert created.status_code == 201, created.text
    return created.json()["id"]


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class Serve:
    """``qpi serve`` in a child process (its own process group), its output collected.

    Args:
        data_dir: The server's data dir.
        port: The port (``0``: a free one, read from the banner).
        extra: More command-line arguments.
        env: Extra environment variables.
    """

    def __init__(
        self,
        data_dir: Path,
        port: int = 0,
        extra: tuple[str, ...] = (),
        env: dict[str, str] | None = None,
    ) -> None:
        command = [
            sys.executable, "-m", "qpi.cli", "serve",
            "--port", str(port), "--data-dir", str(data_dir), *extra,
        ]  # fmt: skip
        self.proc = subprocess.Popen(
            command,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            cwd=data_dir.parent,
            env={**os.environ, **(env or {})},
            start_new_session=True,  # the server, its fork server and workers: one group
        )
        self.stdout: list[str] = []
        self.stderr: list[str] = []
        self._lines: queue.Queue[str] = queue.Queue()
        threading.Thread(target=self._pump, args=(self.proc.stdout, True), daemon=True).start()
        threading.Thread(target=self._pump, args=(self.proc.stderr, False), daemon=True).start()
        self.url = ""
        self.token = ""

    def _pump(self, stream: Any, is_stdout: bool) -> None:
        for line in stream:
            (self.stdout if is_stdout else self.stderr).append(line)
            if is_stdout:
                self._lines.put(line)

    def wait_ready(self, timeout: float = 120.0) -> Serve:
        """Wait for the banner; sets :attr:`url` and :attr:`token`."""
        deadline = time.monotonic() + timeout
        while (left := deadline - time.monotonic()) > 0:
            try:
                line = self._lines.get(timeout=min(left, 0.5))
            except queue.Empty:
                if self.proc.poll() is not None:
                    break
                continue
            if "listening on" in line:
                self.url = line.split()[-1]
            elif "API token" in line:
                self.token = line.split()[-1]
            elif "Ctrl-C" in line:
                return self
        self.kill()
        raise AssertionError(f"qpi serve did not start: {self.stdout} {self.stderr}")

    @property
    def port(self) -> int:
        return int(self.url.rsplit(":", 1)[1])

    def kill(self) -> None:
        """SIGKILL the server, then whatever it left behind in its process group."""
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGKILL)
        self.proc.wait(30)
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(self.proc.pid, signal.SIGKILL)

    def stop(self) -> int:
        """Stop it like Ctrl-C does; returns its exit status."""
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGINT)
        try:
            return self.proc.wait(60)
        finally:
            self.kill()

    def output(self) -> str:
        time.sleep(0.1)  # let the reader threads drain the pipes
        return "".join(self.stdout) + "".join(self.stderr)


@contextlib.contextmanager
def serving(data_dir: Path, **kwargs: Any) -> Iterator[Serve]:
    """A started :class:`Serve`, always killed at the end."""
    serve = Serve(data_dir, **kwargs)
    try:
        yield serve.wait_ready()
    finally:
        serve.kill()


def wait_for(predicate: Any, timeout: float = 60.0, interval: float = 0.02) -> Any:
    """Poll ``predicate`` until it returns something truthy; fail after ``timeout``."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            value = predicate()
        except requests.RequestException:
            value = None
        if value:
            return value
        assert time.monotonic() < deadline, "timed out waiting for a condition"
        time.sleep(interval)


def assert_error_body(answer: requests.Response) -> dict[str, Any]:
    """An error answer carries exactly the QPI error body, matching its HTTP status."""
    assert answer.headers.get("content-type", "").startswith("application/json"), (
        answer.status_code,
        answer.headers.get("content-type"),
        answer.text[:200],
    )
    body = answer.json()
    assert isinstance(body, dict) and set(body) == {"data", "message", "status"}, body
    assert body["status"] == answer.status_code, body
    assert isinstance(body["message"], str) and body["message"], body
    assert isinstance(body["data"], dict), body
    assert "Traceback" not in answer.text
    return body


SECRET_SHAPES = (
    re.compile(r"qpi_[0-9a-f]{64}"),  # API and access tokens
    re.compile(r"eyJ[\w-]+\.[\w-]+\.[\w-]+"),  # JWTs
)


#: Every route the local orchestrator serves, as ``(method, path template)``: the OpenAPI
#: document's operations plus the pages it leaves out of the document.
SERVED_ROUTES: tuple[tuple[str, str], ...] = (
    ("POST", "/api/jobs"),
    ("GET", "/api/jobs"),
    ("GET", "/api/jobs/{job_id}"),
    ("POST", "/api/jobs/{job_id}/cancel"),
    ("POST", "/api/tokens"),
    ("GET", "/api/tokens"),
    ("GET", "/api/tokens/{token_id}"),
    ("PATCH", "/api/tokens/{token_id}"),
    ("DELETE", "/api/tokens/{token_id}"),
    ("GET", "/api/qpus"),
    ("GET", "/api/qpus/{key}"),
    ("POST", "/api/op/qpus/create"),
    ("POST", "/api/op/qpus/connect"),
    ("POST", "/api/op/qpu/toggle"),
    ("POST", "/api/notifications/{notification_id}/dismiss"),
    ("GET", "/api/collections/{name}/records"),
    ("POST", "/api/collections/{name}/records"),
    ("GET", "/api/collections/{name}/records/{record_id}"),
    ("PATCH", "/api/collections/{name}/records/{record_id}"),
    ("DELETE", "/api/collections/{name}/records/{record_id}"),
    ("POST", "/api/collections/{name}/auth-with-password"),
    ("POST", "/api/collections/{name}/auth-refresh"),
    ("GET", "/api/op/version"),
    ("GET", "/api/health"),
)
#: Served, but not API operations: the dashboard, the OpenAPI document and its viewer, and
#: their local assets.
PAGES: tuple[tuple[str, str], ...] = (
    ("GET", "/"),
    ("GET", "/dashboard/app.js"),
    ("GET", "/openapi.json"),
    ("GET", "/docs"),
    ("GET", "/docs-assets/swagger-ui-bundle.js"),
)


def openapi_routes(url: str) -> set[tuple[str, str]]:
    """The ``(method, path)`` operations of the server's OpenAPI document."""
    document = requests.get(url + "/openapi.json", timeout=30).json()
    return {(method.upper(), path) for path, item in document["paths"].items() for method in item}
