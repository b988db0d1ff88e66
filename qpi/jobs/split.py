"""Jobs larger than one request: split a payload into the fewest that fit, merge the results.

A payload is cut between circuits and, inside a circuit, between parameter rows, keeping the
wire order, so the parts' results laid end to end are the whole payload's results. Each part
repeats the circuit text of every circuit it holds rows of; everything else is sent once.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace

from qpi import errors
from qpi.jobs.results import ExperimentResult
from qpi.payload import CircuitPayload, JobPayload, canonical_json

__all__ = ["Part", "merge_experiments", "split_payload"]

#: Bytes kept free in every part for the submission tag and the top-level fields.
HEADROOM = 512

#: Results one job may bring back: a real server stores at most 1 MiB of results per job (a
#: PocketBase JSON field), and `qpi serve` caps them the same way by default.
MAX_RESULT_BYTES = 1024 * 1024

#: Bytes of one count entry beyond its key: quotes, colon, comma, space and the count.
_COUNT_ENTRY = 14
#: Bytes of one experiment's result beyond its counts.
_EXPERIMENT = 64
_BIT_DECLARATION = re.compile(
    r"^\s*(?:bit\s*\[\s*(\d+)\s*\]|bit\b|creg\s+\w+\s*\[\s*(\d+)\s*\])", re.M
)


@dataclass(frozen=True)
class Part:
    """One job of a split payload.

    Attributes:
        payload: What this job sends.
        origin: Per circuit of ``payload``: ``(circuit index in the whole payload, first row)``.
    """

    payload: JobPayload
    origin: tuple[tuple[int, int], ...]


def split_payload(
    payload: JobPayload, max_bytes: int, max_result_bytes: int = MAX_RESULT_BYTES
) -> list[Part]:
    """The fewest parts of ``payload`` that each fit in ``max_bytes``, in wire order.

    Each part also keeps the results it can bring back under ``max_result_bytes``, counting
    the most counts an experiment can have (one key per outcome, at most one per shot), so a
    sweep whose results would pass the server's cap is spread over more jobs instead of
    failing. One experiment that alone exceeds the cap still goes in a part of its own.

    Raises:
        ValidationError: If one circuit with one row is already larger than ``max_bytes``.
    """
    if payload.size + HEADROOM <= max_bytes and _results_bound(payload) <= max_result_bytes:
        return [Part(payload, tuple((i, 0) for i in range(len(payload.circuits))))]
    budget = max_bytes - HEADROOM
    parts: list[Part] = []
    entries: list[CircuitPayload] = []
    origin: list[tuple[int, int]] = []
    used = results = 0

    def flush() -> None:
        nonlocal entries, origin, used, results
        if entries:
            parts.append(Part(replace(payload, circuits=tuple(entries)), tuple(origin)))
        entries, origin, used, results = [], [], 0, 0

    def full(size: int, result: int) -> bool:
        return bool(entries) and (used + size > budget or results + result > max_result_bytes)

    for index, circuit in enumerate(payload.circuits):
        rows = circuit.parameter_values
        base = len(circuit.to_json().encode()) - (len(canonical_json(rows)) if rows else 0) + 24
        each = _experiment_bound(circuit, payload.shots)
        if not rows:
            if full(base, each):
                flush()
            _check_fits(base, budget, index)
            entries.append(circuit)
            origin.append((index, 0))
            used, results = used + base + 1, results + each
            continue
        start = 0
        while start < len(rows):
            if full(base + _row_size(rows[start]), each):
                flush()
            _check_fits(base + _row_size(rows[start]), budget, index)
            stop, size, bound = start + 1, used + base + _row_size(rows[start]), results + each
            while (
                stop < len(rows)
                and size + _row_size(rows[stop]) <= budget
                and bound + each <= max_result_bytes
            ):
                size, bound, stop = size + _row_size(rows[stop]), bound + each, stop + 1
            entries.append(CircuitPayload(circuit.circuit, rows[start:stop], circuit.shots))
            origin.append((index, start))
            used, results, start = size + 1, bound, stop
    flush()
    return parts


def _results_bound(payload: JobPayload) -> int:
    return sum(
        _experiment_bound(c, payload.shots) * (len(c.parameter_values or ()) or 1)
        for c in payload.circuits
    )


def _experiment_bound(circuit: CircuitPayload, job_shots: int) -> int:
    """The most bytes one experiment's result of ``circuit`` can take."""
    bits = _classical_bits(circuit.circuit)
    shots = circuit.shots if circuit.shots is not None else job_shots
    keys = min(max(int(shots or 0), 1), 1 << min(bits, 62))
    return _EXPERIMENT + keys * (bits + _COUNT_ENTRY)


def _classical_bits(text: str) -> int:
    """Classical bits a program declares (``bit[n]``, ``bit``, OpenQASM 2 ``creg``)."""
    total = 0
    for match in _BIT_DECLARATION.finditer(text):
        size = match.group(1) or match.group(2)
        total += int(size) if size else 1
    return total


def _row_size(row: tuple[float, ...]) -> int:
    return len(canonical_json(row)) + 1


def _check_fits(size: int, budget: int, index: int) -> None:
    if size > budget:
        raise errors.ValidationError(
            f"circuit {index} with one parameter row is {size:,} bytes, but one job carries at "
            f"most {budget:,}; it cannot be split further: shorten the program"
        )


def merge_experiments(
    payload: JobPayload, parts: list[tuple[Part, list[ExperimentResult]]]
) -> list[ExperimentResult]:
    """The experiments of the parts, renumbered onto the circuits and rows of ``payload``."""
    merged: list[ExperimentResult] = []
    for part, experiments in parts:
        for exp in experiments:
            circuit, first_row = part.origin[exp.circuit]
            row = first_row + exp.row
            rows = payload.circuits[circuit].parameter_values
            merged.append(
                replace(
                    exp,
                    circuit=circuit,
                    row=row,
                    parameter_values=rows[row] if rows else None,
                )
            )
    return merged
