"""Waiting for a big job: status-only polls and one download, against polls of the full record.

One job: a one-qubit parametric circuit with 8 inputs and 8,000 rows of bindings (about
1.3 MB of payload, so the client splits it into two jobs) at 200 shots. Ours:
``QPIClient.run(...).result()``, whose polls ask ``GET /api/jobs/{id}?fields=id,status,updated``
and whose results are downloaded once per job. The alternative is the same client with every
poll reading the whole record (payload and results), which is how a wait loop built on
``get_job`` behaves (the original client's and ours before issue 13): a transport underneath
drops the ``fields`` parameter, so both sides poll on the same schedule.

Figures, counted on the wire by a proxy between the client and the server: bytes the client
received while waiting (every ``GET /api/jobs/{id}`` answer), those requests, and the time
from the call to the merged result in hand. Medians over repeats, the two sides alternating.

Run it with ``python -m benchmarks --only waiting``.
"""

from __future__ import annotations

import math
import uuid
from typing import Any

from benchmarks._common import WireCounter, median, mock_qpu_id, row, server_or_own, timed

ROWS = 8_000
SHOTS = 200
REPEATS = 3
ALTERNATIVE = "the same client, every poll reading the full record"
CIRCUIT = (
    'OPENQASM 3.0;\ninclude "stdgates.inc";\n'
    + "".join(f"input float[64] t{i};\n" for i in range(8))
    + "bit[1] c;\nqubit[1] q;\nrx(t0) q[0];\n"
    + "".join(f"rz(t{i}) q[0];\n" for i in range(1, 8))
    + "c[0] = measure q[0];\n"
)


class FullRecordPolls:
    """The network transport, with ``fields`` dropped: every poll reads the whole record."""

    def __init__(self, base_url: str) -> None:
        from qpi.transport import HTTPTransport

        self._inner = HTTPTransport(base_url)

    def handle_request(self, method: str, url: str, **kwargs: Any) -> Any:
        params = {k: v for k, v in (kwargs.pop("params") or {}).items() if k != "fields"}
        return self._inner.handle_request(method, url, params=params or None, **kwargs)

    def close(self) -> None:
        self._inner.close()


def one_run(server: Any, qpu: str, *, naive: bool, quick: bool) -> tuple[float, int, int]:
    """``(seconds, bytes received while waiting, wait requests)`` of one sweep."""
    from qpi import QPIClient

    rows = [
        [math.pi * (i % 2)] + [i / 7 + k / 3 for k in range(1, 8)]
        for i in range(ROWS // (4 if quick else 1))
    ]
    circuit = CIRCUIT + f"// {uuid.uuid4().hex}\n"  # a payload the cache never answers
    with WireCounter(server.url) as wire:
        transport = FullRecordPolls(wire.url) if naive else None
        with QPIClient(wire.url, server.api_token, cache=False, transport=transport) as client:
            seconds, result = timed(
                lambda: client.run(circuit, shots=SHOTS, parameter_values=rows, qpu=qpu).result(
                    timeout=600
                )
            )
        assert len(result.experiments) == len(rows)
        waits = [
            r for r in wire.requests() if r.method == "GET" and r.path.startswith("/api/jobs/")
        ]
        return seconds, sum(r.received for r in waits), len(waits)


def run(server: Any = None, quick: bool = False) -> list[dict[str, Any]]:
    """The comparison rows (see the module docstring)."""
    with server_or_own(server) as srv:
        qpu = mock_qpu_id(srv)
        ours: list[tuple[float, int, int]] = []
        theirs: list[tuple[float, int, int]] = []
        for _ in range(1 if quick else REPEATS):
            ours.append(one_run(srv, qpu, naive=False, quick=quick))
            theirs.append(one_run(srv, qpu, naive=True, quick=quick))

    def figure(runs: list[tuple[float, int, int]], index: int) -> float:
        return median([float(r[index]) for r in runs])

    return [
        row(
            "bytes received while waiting",
            figure(ours, 1),
            figure(theirs, 1),
            ALTERNATIVE,
            unit="bytes",
        ),  # fmt: skip
        row(
            "wait requests (polls + reads)",
            figure(ours, 2),
            figure(theirs, 2),
            ALTERNATIVE,
            unit="requests",
        ),  # fmt: skip
        row("end to end", figure(ours, 0), figure(theirs, 0), ALTERNATIVE),
    ]


if __name__ == "__main__":
    from benchmarks._common import print_rows

    print_rows("Waiting for a big job", run())
