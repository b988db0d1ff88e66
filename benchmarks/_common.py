"""What the benchmarks share: result rows, percentiles, tables, and counting HTTP traffic.

A benchmark module has ``run(server=None, quick=False) -> list[dict]``. Each row compares one
figure of this SDK (``qpi``) with what a user would use instead (``baseline``, named by
``baseline_name``); ``ratio`` says how many times better ours is, whichever way "better"
points for the figure's unit. :func:`row` builds rows so that they all read alike.

HTTP traffic is counted on the wire by :class:`WireCounter`, a small TCP proxy between a
client and the server: it sees every request any client sends, whatever HTTP library or
session object the client keeps, so our client and the original ``qpi-client`` are counted
the same way and neither needs patching. :class:`SessionCounter` counts through the
documented ``requests`` hooks of a session the caller owns.
"""

from __future__ import annotations

import collections
import contextlib
import math
import os
import socket
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

#: The seed of the shared server's sampler.
SEED = 20240611
#: A 2-qubit Bell circuit in the wire form (OpenQASM 3, one classical register).
BELL = (
    'OPENQASM 3.0;\ninclude "stdgates.inc";\nbit[2] c;\nqubit[2] q;\n'
    "h q[0];\ncx q[0], q[1];\nc = measure q;\n"
)
#: Keys every row has.
ROW_KEYS = ("name", "qpi", "baseline", "baseline_name", "ratio")

# -- rows ---------------------------------------------------------------------------------------


def ratio(qpi: float | None, baseline: float | None, better: str = "lower") -> float | None:
    """How many times better ``qpi`` is than ``baseline`` (``None`` when undefined).

    For "lower is better" figures (times, bytes, requests) this is ``baseline / qpi``; for
    "higher is better" ones (throughput) ``qpi / baseline``.
    """
    if qpi is None or baseline is None:
        return None
    num, den = (baseline, qpi) if better == "lower" else (qpi, baseline)
    if den == 0 or not math.isfinite(num / den):
        return None
    return num / den


def row(
    name: str,
    qpi: float | None,
    baseline: float | None,
    baseline_name: str,
    *,
    unit: str = "s",
    better: str = "lower",
    target: str | None = None,
    passed: bool | None = None,
    **extra: Any,
) -> dict[str, Any]:
    """One comparison row.

    Args:
        name: What is measured.
        qpi: Our figure (``None`` when there is none).
        baseline: The competitor's figure (``None`` when there is none).
        baseline_name: What the competitor is.
        unit: ``"s"``, ``"bytes"``, ``"requests"``, ``"jobs"``, ``"jobs/s"`` or ``"count"``.
        better: ``"lower"`` or ``"higher"``: which way the figure improves.
        target: The target the figure is held to, in words (``None``: context only).
        passed: Whether the target is met (``None`` when there is no target).
        **extra: More fields, kept in the JSON output.
    """
    out: dict[str, Any] = {
        "name": name,
        "qpi": qpi,
        "baseline": baseline,
        "baseline_name": baseline_name,
        "ratio": ratio(qpi, baseline, better),
        "unit": unit,
        "better": better,
    }
    if target is not None:
        out["target"] = target
        out["passed"] = passed
    out.update(extra)
    return out


# -- statistics ---------------------------------------------------------------------------------


def percentile(samples: list[float], p: float) -> float:
    """The ``p``-th percentile (0-100) of ``samples``, interpolated between order statistics."""
    if not samples:
        raise ValueError("no samples")
    ordered = sorted(samples)
    k = (len(ordered) - 1) * p / 100
    low, high = math.floor(k), math.ceil(k)
    return ordered[low] + (ordered[high] - ordered[low]) * (k - low)


def median(samples: list[float]) -> float:
    """The median of ``samples``."""
    return percentile(samples, 50)


def timed(func: Callable[[], Any]) -> tuple[float, Any]:
    """``(seconds, value)`` of one call of ``func``."""
    start = time.perf_counter()
    value = func()
    return time.perf_counter() - start, value


def load_average() -> tuple[float, float, float] | None:
    """The 1, 5 and 15 minute load averages (``None`` where the OS has none)."""
    try:
        return os.getloadavg()
    except (AttributeError, OSError):
        return None


def describe_load(load: tuple[float, float, float] | None) -> str:
    """``"1.23 / 1.10 / 0.98"`` or ``"n/a"``."""
    return "n/a" if load is None else " / ".join(f"{x:.2f}" for x in load)


# -- tables -------------------------------------------------------------------------------------


def format_value(value: float | None, unit: str) -> str:
    """A figure with its unit, scaled for reading (ms for seconds, kB/MB for bytes)."""
    if value is None:
        return "-"
    if unit == "s":
        if value >= 10:
            return f"{value:,.1f} s"
        if value >= 1:
            return f"{value:,.2f} s"
        return f"{value * 1e3:,.2f} ms" if value < 0.01 else f"{value * 1e3:,.1f} ms"
    if unit == "bytes":
        if value >= 1e6:
            return f"{value / 1e6:,.2f} MB"
        if value >= 1e3:
            return f"{value / 1e3:,.1f} kB"
        return f"{value:,.0f} B"
    if unit == "jobs/s":
        return f"{value:,.1f} jobs/s"
    return f"{value:,.0f}" if float(value).is_integer() else f"{value:,.2f}"


def format_ratio(value: float | None) -> str:
    """``"12.3x"`` (or ``"-"``)."""
    if value is None:
        return "-"
    return f"{value:,.0f}x" if value >= 100 else f"{value:.1f}x"


def verdict(result: dict[str, Any]) -> str:
    """``PASS``, ``MISS`` or ``""`` (no target) for a row."""
    if result.get("target") is None:
        return ""
    return "PASS" if result.get("passed") else "MISS"


def table(rows: list[dict[str, Any]]) -> str:
    """The rows as an aligned plain-text table (case, ours, competitor, ratio, target)."""
    header = ("case", "qpi", "competitor", "ratio", "target", "", "competitor is")
    lines = [
        (
            r["name"],
            format_value(r["qpi"], r.get("unit", "s")),
            format_value(r["baseline"], r.get("unit", "s")),
            format_ratio(r["ratio"]),
            r.get("target") or "",
            verdict(r),
            r.get("baseline_name") or "",
        )
        for r in rows
    ]
    widths = [max(len(str(x[i])) for x in [header, *lines]) for i in range(len(header))]
    right = {1, 2, 3}

    def fmt(cells: tuple[str, ...]) -> str:
        return "  ".join(
            str(c).rjust(w) if i in right else str(c).ljust(w)
            for i, (c, w) in enumerate(zip(cells, widths, strict=True))
        ).rstrip()

    rule = "  ".join("-" * w for w in widths)
    return "\n".join([fmt(header), rule, *(fmt(line) for line in lines)])


def markdown_table(rows: list[dict[str, Any]]) -> str:
    """The rows as a Markdown table, for pasting into ``benchmarks/README.md``."""
    out = [
        "| case | qpi | competitor | ratio | target | |",
        "|---|---:|---:|---:|---|---|",
    ]
    for r in rows:
        unit = r.get("unit", "s")
        out.append(
            f"| {r['name']} | {format_value(r['qpi'], unit)} | "
            f"{format_value(r['baseline'], unit)} | {format_ratio(r['ratio'])} | "
            f"{r.get('target') or ''} | {verdict(r)} |"
        )
    return "\n".join(out)


def print_rows(title: str, rows: list[dict[str, Any]]) -> None:
    """Print a benchmark's rows under a title, with the current load average."""
    print(f"\n== {title}  (load average {describe_load(load_average())})")
    print(table(rows))
    for r in rows:
        if r.get("note"):
            print(f"  note, {r['name']}: {r['note']}")


# -- servers ------------------------------------------------------------------------------------


@contextlib.contextmanager
def server_or_own(server: Any = None) -> Iterator[Any]:
    """Yield ``server`` if given, else a ``LocalServer`` started (and stopped) here."""
    if server is not None:
        yield server
        return
    from qpi.server import LocalServer

    with LocalServer(seed=SEED) as own:
        yield own


def mock_qpu_id(server: Any) -> str:
    """The record id of the server's ``mock`` QPU (what ``qpu_target`` must carry)."""
    from qpi import QPIClient

    with QPIClient(server.url, api_token=server.api_token, cache=False) as client:
        return client.resolve_qpu("mock")


# -- counting HTTP traffic ----------------------------------------------------------------------


@dataclass
class WireRequest:
    """One HTTP request seen by a :class:`WireCounter`.

    Attributes:
        method: The HTTP method.
        path: The request target (path and query).
        size: Bytes of the request on the wire: request line, headers and body.
        body: Bytes of the body alone (as its ``Content-Length`` announces).
        started: ``time.perf_counter()`` when its first byte reached the proxy.
        answered: ``time.perf_counter()`` when the last byte of its answer passed back
            (``None`` until then).
        received: Bytes of the answer: status line, headers and body.
        status: The answer's HTTP status (0 until answered).
    """

    method: str
    path: str
    size: int
    body: int
    started: float
    answered: float | None = None
    received: int = 0
    status: int = 0


class WireCounter:
    """A TCP proxy on 127.0.0.1 that forwards to a server and records each HTTP request.

    Point a client at :attr:`url` instead of the server's URL. Requests and answers are
    parsed from the bytes passing through (HTTP/1.1 with ``Content-Length`` bodies, which is
    what ``requests`` sends and the server answers) and forwarded untouched, at once.

    Example:
        ```python
        with WireCounter(server.url) as wire:
            client = QPIClient(wire.url, api_token=token)
            ...
            print(wire.count(), wire.bytes_sent())
        ```
    """

    def __init__(self, upstream_url: str) -> None:
        hostport = upstream_url.split("://", 1)[-1].rstrip("/")
        host, port = hostport.rsplit(":", 1)
        self._upstream = (host, int(port))
        self._lock = threading.Lock()
        self._requests: list[WireRequest] = []
        self.connections = 0
        self._open: set[socket.socket] = set()
        self._listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self._listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self._listener.bind(("127.0.0.1", 0))
        self._listener.listen(128)
        self._closed = threading.Event()
        self._thread = threading.Thread(target=self._accept, name="wire-counter", daemon=True)
        self._thread.start()

    @property
    def url(self) -> str:
        """The URL clients should use."""
        return f"http://127.0.0.1:{self._listener.getsockname()[1]}"

    def requests(self) -> list[WireRequest]:
        """Every request seen since the last :meth:`reset`, in the order they started."""
        with self._lock:
            return sorted(self._requests, key=lambda r: r.started)

    def count(self, method: str | None = None) -> int:
        """How many requests (of ``method``, if given) were seen."""
        return sum(1 for r in self.requests() if method is None or r.method == method)

    def bytes_sent(self) -> int:
        """Bytes the clients sent: request lines, headers and bodies."""
        return sum(r.size for r in self.requests())

    def reset(self) -> None:
        """Forget the requests and connections seen so far."""
        with self._lock:
            self._requests.clear()
            self.connections = 0

    def close(self) -> None:
        """Stop accepting and close every connection."""
        self._closed.set()
        with contextlib.suppress(OSError):
            self._listener.close()
        with self._lock:
            open_sockets, self._open = list(self._open), set()
        for sock in open_sockets:
            _close(sock)
        self._thread.join(5)

    def __enter__(self) -> WireCounter:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- plumbing -------------------------------------------------------------------------------

    def _accept(self) -> None:
        while not self._closed.is_set():
            try:
                client, _ = self._listener.accept()
            except OSError:
                return
            try:
                upstream = socket.create_connection(self._upstream)
            except OSError:
                client.close()
                continue
            for sock in (client, upstream):
                sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            with self._lock:
                self.connections += 1
                self._open.update((client, upstream))
            pending: collections.deque[WireRequest] = collections.deque()
            for source, sink, parser in (
                (client, upstream, _Parser(lambda r, q=pending: self._record(r, q))),
                (upstream, client, _Parser(lambda r, q=pending: _answer(r, q), answers=True)),
            ):
                threading.Thread(
                    target=self._forward, args=(source, sink, parser), daemon=True
                ).start()

    def _forward(self, source: socket.socket, sink: socket.socket, parser: _Parser) -> None:
        """Copy bytes one way, parsing messages out of them, until either side closes."""
        try:
            while chunk := source.recv(1 << 18):
                # Parse first: a client never sees an answer its request is not booked for.
                parser.feed(chunk, time.perf_counter())
                sink.sendall(chunk)
        except OSError:
            pass
        finally:
            for sock in (source, sink):
                _close(sock)
                with self._lock:
                    self._open.discard(sock)

    def _record(self, request: WireRequest, pending: collections.deque[WireRequest]) -> None:
        with self._lock:
            self._requests.append(request)
        pending.append(request)


def _answer(answer: WireRequest, pending: collections.deque[WireRequest]) -> None:
    """Attach a parsed answer to the oldest request of its connection still unanswered."""
    if pending:
        request = pending.popleft()
        request.answered, request.received, request.status = (
            answer.answered,
            answer.size,
            answer.status,
        )


def _close(sock: socket.socket) -> None:
    with contextlib.suppress(OSError):
        sock.shutdown(socket.SHUT_RDWR)
    with contextlib.suppress(OSError):
        sock.close()


class _Parser:
    """Splits one direction of an HTTP/1.1 byte stream into messages (``Content-Length``).

    A request is reported as soon as its head is read (a server may answer before the body
    has all arrived, e.g. 413); an answer once its last byte has passed.
    """

    def __init__(self, sink: Callable[[WireRequest], None], *, answers: bool = False) -> None:
        self._sink = sink
        self._answers = answers
        self._buffer = bytearray()
        self._started = 0.0
        self._message: WireRequest | None = None
        self._left = 0

    def feed(self, data: bytes, now: float) -> None:
        while data:
            if self._message is None:
                if not self._buffer:
                    self._started = now
                self._buffer += data
                data = b""
                end = self._buffer.find(b"\r\n\r\n")
                if end < 0:
                    return
                head, data = bytes(self._buffer[: end + 4]), bytes(self._buffer[end + 4 :])
                self._buffer.clear()
                first, length = _parse_head(head)
                parts = first.split(" ")
                message = WireRequest("", "", len(head) + length, length, self._started)
                if self._answers:
                    message.status = int(parts[1]) if len(parts) > 1 and parts[1].isdigit() else 0
                else:
                    message.method, message.path = parts[0], parts[1] if len(parts) > 1 else ""
                    self._sink(message)
                self._message, self._left = message, length
            take = min(self._left, len(data))
            self._left -= take
            data = data[take:]
            if self._left == 0:
                if self._answers:
                    self._message.answered = now
                    self._sink(self._message)
                self._message = None
                self._started = now


def _parse_head(head: bytes) -> tuple[str, int]:
    """The first line of a message head and its ``Content-Length`` (0 when absent)."""
    lines = head.decode("latin-1").split("\r\n")
    length = 0
    for line in lines[1:]:
        name, _, value = line.partition(":")
        if name.strip().lower() == "content-length":
            length = int(value.strip() or 0)
    return lines[0], length


class SessionCounter:
    """Counts the requests a ``requests.Session`` sends, through its documented hooks.

    ``SessionCounter(session)`` appends a ``response`` hook to ``session.hooks``; every
    answered request is counted with the size of its body.
    """

    def __init__(self, session: Any) -> None:
        self.requests = 0
        self.body_bytes = 0
        session.hooks.setdefault("response", []).append(self._hook)

    def _hook(self, response: Any, *args: Any, **kwargs: Any) -> None:
        body = response.request.body
        self.requests += 1
        self.body_bytes += len(body) if body else 0
