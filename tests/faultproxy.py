"""A fault-injecting TCP proxy for tests: sits between a client and a real server.

Each client connection carries one HTTP request; the proxy reads it, decides from its rule list
whether to pass it through or inject a fault, and closes the connection after the answer.
Faults a real server won't produce on demand:

- ``reset``: drop the connection (RST) before forwarding; the server never sees the request;
- ``reset_after``: forward the request, let the server answer, then RST the client without
  relaying the answer (the ambiguous case: the request was accepted, the client can't know);
- ``status``: answer with an HTTP status (502, 503, 429 + ``Retry-After``...) without forwarding;
- ``stall``: wait before forwarding (longer than the client's read timeout to force one);
- ``stall_after``: forward at once, but hold the answer back before relaying it (the server
  accepted the request; a slow answer makes the client time out);
- ``status_after``: forward, let the server answer, then answer the client with an HTTP
  status instead (a gateway that gave up on a server that went on working).

Besides one-off rules, :meth:`FaultProxy.chaos` injects faults at random, from a seeded
generator, into a given share of the matching requests.
"""

from __future__ import annotations

import contextlib
import random
import socket
import struct
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field


@dataclass
class Rule:
    """Inject ``fault`` into the next ``times`` requests matching method and path prefix."""

    fault: str
    method: str | None = None
    path: str | None = None
    times: int = 1
    status: int = 502
    headers: dict[str, str] = field(default_factory=dict)
    seconds: float = 0.0

    def matches(self, method: str, path: str) -> bool:
        return (self.method is None or self.method == method) and (
            self.path is None or path.startswith(self.path)
        )


@dataclass
class Chaos:
    """Inject a fault, drawn from ``faults``, into a ``rate`` share of the matching requests."""

    rate: float
    faults: list[dict]
    seed: int
    method: str | None = None
    path: str | None = None
    rng: random.Random = field(init=False)

    def __post_init__(self) -> None:
        self.rng = random.Random(self.seed)

    def draw(self, method: str, path: str) -> Rule | None:
        matches = Rule("", self.method, self.path).matches(method, path)
        if not matches or self.rng.random() >= self.rate:
            return None
        return Rule(**self.rng.choice(self.faults))


class FaultProxy:
    """A threaded TCP proxy on 127.0.0.1 that injects faults into chosen HTTP requests."""

    def __init__(self, upstream_url: str) -> None:
        hostport = upstream_url.split("://", 1)[-1].rstrip("/")
        host, port = hostport.rsplit(":", 1)
        self.upstream = (host, int(port))
        self._rules: list[Rule] = []
        self._chaos: list[Chaos] = []
        self._lock = threading.Lock()
        self.seen: list[tuple[str, str, str]] = []  # (method, path, what happened)
        self._sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self._sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self._sock.bind(("127.0.0.1", 0))
        self._sock.listen(64)
        self._sock.settimeout(0.05)  # so the accept loop notices close() promptly
        self._closed = threading.Event()
        self._thread = threading.Thread(target=self._accept_loop, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self._sock.getsockname()[1]}"

    def add(self, fault: str, **kwargs) -> Rule:
        rule = Rule(fault, **kwargs)
        with self._lock:
            self._rules.append(rule)
        return rule

    def chaos(self, rate: float, faults: list[dict], seed: int, **match) -> Chaos:
        """From now on, inject a random fault of ``faults`` (``Rule`` arguments, ``fault``
        first) into a ``rate`` share of the requests matching ``method``/``path``."""
        chaos = Chaos(rate, faults, seed, **match)
        with self._lock:
            self._chaos.append(chaos)
        return chaos

    def calm(self) -> None:
        """Stop every random fault (one-off rules stay)."""
        with self._lock:
            self._chaos.clear()

    def count(self, method: str, path_prefix: str, outcome: str | None = None) -> int:
        with self._lock:
            return sum(
                1
                for m, p, what in self.seen
                if m == method
                and p.startswith(path_prefix)
                and (outcome is None or what == outcome)
            )

    def __enter__(self) -> FaultProxy:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._closed.set()
        with contextlib.suppress(OSError):
            self._sock.close()
        self._thread.join(timeout=5)

    # -- internals ------------------------------------------------------------------------------

    def _accept_loop(self) -> None:
        while not self._closed.is_set():
            try:
                conn, _ = self._sock.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            conn.settimeout(None)
            threading.Thread(target=self._handle, args=(conn,), daemon=True).start()

    def _take_rule(self, method: str, path: str) -> Rule | None:
        with self._lock:
            for rule in self._rules:
                if rule.times > 0 and rule.matches(method, path):
                    rule.times -= 1
                    return rule
            for chaos in self._chaos:
                drawn = chaos.draw(method, path)
                if drawn is not None:
                    return drawn
        return None

    def _record(self, method: str, path: str, what: str) -> None:
        with self._lock:
            self.seen.append((method, path, what))

    def _handle(self, conn: socket.socket) -> None:
        with conn:
            try:
                request = _read_request(conn)
            except (OSError, ValueError):
                return
            if request is None:
                return
            method, path = _request_line(request)
            rule = self._take_rule(method, path)
            if rule is None:
                answer = self._exchange(request)
                self._record(method, path, "forwarded")  # before the client can see the answer
                conn.sendall(answer)
            elif rule.fault == "reset":
                self._record(method, path, "reset")
                _reset(conn)
            elif rule.fault == "reset_after":
                self._exchange(request)
                self._record(method, path, "reset_after")
                _reset(conn)
            elif rule.fault == "status":
                self._record(method, path, f"status {rule.status}")
                conn.sendall(_status_response(rule.status, rule.headers))
            elif rule.fault == "stall":
                self._record(method, path, "stall")
                if self._closed.wait(rule.seconds):
                    return
                answer = self._exchange(request)
                self._record(method, path, "stalled, then forwarded")
                with contextlib.suppress(OSError):
                    conn.sendall(answer)
            elif rule.fault == "stall_after":
                answer = self._exchange(request)
                self._record(method, path, "stall_after")
                if self._closed.wait(rule.seconds):
                    return
                with contextlib.suppress(OSError):
                    conn.sendall(answer)
            elif rule.fault == "status_after":
                self._exchange(request)
                self._record(method, path, f"status_after {rule.status}")
                conn.sendall(_status_response(rule.status, rule.headers))
            else:  # pragma: no cover - a typo in a test
                raise ValueError(f"unknown fault {rule.fault!r}")

    def _exchange(self, request: bytes) -> bytes:
        with socket.create_connection(self.upstream, timeout=30) as up:
            up.sendall(request)
            chunks = []
            while chunk := up.recv(65536):
                chunks.append(chunk)
            return b"".join(chunks)


def _reset(conn: socket.socket) -> None:
    # SO_LINGER with a zero timeout makes close() send RST instead of FIN.
    with contextlib.suppress(OSError):
        conn.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))


def _read_request(conn: socket.socket) -> bytes | None:
    """Read one HTTP request and rewrite it to close the upstream connection afterwards."""
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = conn.recv(65536)
        if not chunk:
            return None
        data += chunk
    head, _, body = data.partition(b"\r\n\r\n")
    lines = head.split(b"\r\n")
    length = 0
    kept = [lines[0]]
    for line in lines[1:]:
        name, _, value = line.partition(b":")
        lname = name.strip().lower()
        if lname == b"content-length":
            length = int(value.strip())
        if lname == b"connection":
            continue
        kept.append(line)
    kept.append(b"Connection: close")
    while len(body) < length:
        chunk = conn.recv(65536)
        if not chunk:
            raise ValueError("truncated request body")
        body += chunk
    return b"\r\n".join(kept) + b"\r\n\r\n" + body


def _request_line(request: bytes) -> tuple[str, str]:
    first = request.split(b"\r\n", 1)[0].decode("latin-1")
    method, target, _ = first.split(" ", 2)
    return method, target.split("?", 1)[0]


def _status_response(status: int, headers: dict[str, str]) -> bytes:
    body = b'{"data":{},"message":"Injected fault.","status":' + str(status).encode() + b"}"
    lines = [
        f"HTTP/1.1 {status} Injected",
        "Content-Type: application/json",
        f"Content-Length: {len(body)}",
        "Connection: close",
    ]
    lines += [f"{k}: {v}" for k, v in headers.items()]
    return ("\r\n".join(lines) + "\r\n\r\n").encode() + body


@contextlib.contextmanager
def fault_proxy(upstream_url: str) -> Iterator[FaultProxy]:
    """Run a :class:`FaultProxy` in front of ``upstream_url`` for the duration of a block."""
    proxy = FaultProxy(upstream_url)
    with proxy:
        yield proxy


def wait_until(predicate, timeout: float = 10.0, interval: float = 0.02) -> bool:
    """Poll ``predicate`` until it is true or ``timeout`` passes; returns its last value."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(interval)
    return bool(predicate())
