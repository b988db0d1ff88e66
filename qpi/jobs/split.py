"""Jobs larger than one request: split a payload into the fewest that fit, merge the results.

A payload is cut between circuits and, inside a circuit, between parameter rows, keeping the
wire order, so the parts' results laid end to end are the whole payload's results. Each part
repeats the circuit text of every circuit it holds rows of; everything else is sent once.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from qpi import errors
from qpi.jobs.results import ExperimentResult
from qpi.payload import CircuitPayload, JobPayload, canonical_json

__all__ = ["Part", "merge_experiments", "split_payload"]

#: Bytes kept free in every part for the submission tag and the top-level fields.
HEADROOM = 512


@dataclass(frozen=True)
class Part:
    """One job of a split payload.

    Attributes:
        payload: What this job sends.
        origin: Per circuit of ``payload``: ``(circuit index in the whole payload, first row)``.
    """

    payload: JobPayload
    origin: tuple[tuple[int, int], ...]


def split_payload(payload: JobPayload, max_bytes: int) -> list[Part]:
    """The fewest parts of ``payload`` that each fit in ``max_bytes``, in wire order.

    Raises:
        ValidationError: If one circuit with one row is already larger than ``max_bytes``.
    """
    if payload.size + HEADROOM <= max_bytes:
        return [Part(payload, tuple((i, 0) for i in range(len(payload.circuits))))]
    budget = max_bytes - HEADROOM
    parts: list[Part] = []
    entries: list[CircuitPayload] = []
    origin: list[tuple[int, int]] = []
    used = 0

    def flush() -> None:
        nonlocal entries, origin, used
        if entries:
            parts.append(Part(replace(payload, circuits=tuple(entries)), tuple(origin)))
        entries, origin, used = [], [], 0

    for index, circuit in enumerate(payload.circuits):
        rows = circuit.parameter_values
        base = len(circuit.to_json().encode()) - (len(canonical_json(rows)) if rows else 0) + 24
        if not rows:
            if used + base > budget:
                flush()
            _check_fits(base, budget, index)
            entries.append(circuit)
            origin.append((index, 0))
            used += base + 1
            continue
        start = 0
        while start < len(rows):
            if used + base + _row_size(rows[start]) > budget:
                flush()
            _check_fits(base + _row_size(rows[start]), budget, index)
            stop, size = start, used + base
            while stop < len(rows) and size + _row_size(rows[stop]) <= budget:
                size += _row_size(rows[stop])
                stop += 1
            entries.append(CircuitPayload(circuit.circuit, rows[start:stop], circuit.shots))
            origin.append((index, start))
            used = size + 1
            start = stop
    flush()
    return parts


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
