"""Counts normalisation: a 1,000-row, 12-qubit sweep's results, as a real driver sends them.

The real QPI driver returns all 2^12 = 4,096 keys per experiment, zeros included (a 1,024-shot
experiment has at most 1,024 non-zero ones). Three ways to turn the 1,000 entries into
mapped results (``qpi.result.parse_results``), measured side by side in one process:

- ours: zero counts dropped on arrival (``qpi.counts.drop_zero_counts``), then the bulk
  validation of ``qpi.counts.normalise_counts``;
- before: the per-key parse-and-format normalisation this SDK used until now (kept as
  ``qpi.counts._general``, the path for unusual keys), on the padded counts;
- plain: a dict comprehension that only drops zeros, with no validation at all (the floor:
  what skipping every check would cost).

The issue's target: client CPU for the sweep's results under a quarter of before's.

Run it with ``python -m benchmarks --only counts``.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable
from typing import Any

from benchmarks._common import median, row

WIDTH = 12
ROWS = 1000
SHOTS = 1024
REPEATS = 5
TARGET = 4.0  # before / ours


def _results(rows: int, seed: int = 5) -> dict[str, Any]:
    """What the driver sends for ``rows`` experiments: every key, counts summing to SHOTS."""
    rng = random.Random(seed)
    keys = [format(i, f"0{WIDTH}b") for i in range(1 << WIDTH)]
    entries = []
    for _ in range(rows):
        counts = dict.fromkeys(keys, 0)
        for _ in range(SHOTS):
            counts[keys[rng.getrandbits(WIDTH)]] += 1
        entries.append({"counts": counts, "shots": SHOTS})
    return {"shots": SHOTS, "backend": "mock", "success": True, "circuit_results": entries}


def _payload(rows: int) -> Any:
    from qpi.payload import CircuitPayload, JobPayload

    text = (
        f'OPENQASM 3.0;\ninclude "stdgates.inc";\ninput float[64] p0;\nbit[{WIDTH}] c;\n'
        f"qubit[{WIDTH}] q;\nrx(p0) q[0];\nc = measure q;\n"
    )
    return JobPayload(circuits=(CircuitPayload(text, [[0.1 * i] for i in range(rows)]),))


def _plain(counts: Any) -> dict[str, int]:
    return {key: value for key, value in counts.items() if value}


def _cpu(func: Callable[[], Any]) -> float:
    start = time.process_time()
    func()
    return time.process_time() - start


def run(server: Any = None, quick: bool = False) -> list[dict[str, Any]]:
    """Ours, before and plain on the same results, alternating, ``REPEATS`` times each."""
    from qpi.counts import _general, drop_zero_counts, normalise_counts
    from qpi.result import parse_results

    rows = 200 if quick else ROWS
    results, payload = _results(rows), _payload(rows)
    entries = results["circuit_results"]
    ways: dict[str, Callable[[], list[dict[str, int]]]] = {
        "ours": lambda: [
            normalise_counts(e["counts"]) for e in drop_zero_counts(results)["circuit_results"]
        ],
        "before": lambda: [_general(e["counts"], None) for e in entries],
        "plain": lambda: [_plain(e["counts"]) for e in entries],
    }
    expected = ways["before"]()
    assert all(way() == expected for way in ways.values())
    times: dict[str, list[float]] = {name: [] for name in ways}
    for _ in range(2 if quick else REPEATS):
        for name, way in ways.items():
            times[name].append(_cpu(way))
    ours, before, plain = (median(times[name]) for name in ("ours", "before", "plain"))
    # The whole arrival path of ours: zeros dropped, then every experiment mapped back.
    mapped = median(
        [
            _cpu(lambda: parse_results(payload, drop_zero_counts(results)))
            for _ in range(2 if quick else REPEATS)
        ]
    )
    label = f"{rows} rows x {WIDTH} qubits, all 2^{WIDTH} keys: counts normalisation CPU"
    return [
        row(label + " (vs before)", ours, before, "before: per-key parse and format", unit="s",
            target=f"under 1/{TARGET:g} of before", passed=before >= TARGET * ours),
        row(label + " (vs plain)", ours, plain, "plain: drop zeros, no validation", unit="s"),
        row(f"{rows} rows: whole arrival path (drop zeros + parse_results), ours", mapped,
            None, "-", unit="s"),
    ]  # fmt: skip


if __name__ == "__main__":
    for item in run():
        print(item)
