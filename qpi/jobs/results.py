"""Framework-neutral job results: the server's flattened ``circuit_results`` mapped back.

The QPU driver returns one entry per circuit and parameter row, flattened circuit by circuit
then row by row, with nothing saying which is which. [`parse_results`][qpi.jobs.parse_results]
rebuilds that
mapping from the submitted [`JobPayload`][qpi.payload.JobPayload], so no plugin repeats it.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from qpi import display
from qpi.counts import normalise_counts
from qpi.errors import ServerError
from qpi.payload import JobPayload

__all__ = [
    "METADATA_FIELDS",
    "ExperimentResult",
    "JobResult",
    "normalise_counts",
    "parse_results",
    "result_from_record",
]

#: Job-record fields copied into a result's metadata.
METADATA_FIELDS: tuple[str, ...] = (
    "status",
    "qpu_target",
    "duration",
    "finished_at",
    "created",
    "updated",
)


@dataclass(frozen=True)
class ExperimentResult:
    """The outcome of one circuit run with one parameter row.

    Attributes:
        circuit: Index of the circuit in the payload.
        row: Index of the parameter row (0 for a circuit without rows).
        shots: Shots this experiment ran.
        counts: ``{bitstring: count}`` with binary keys, clbit 0 rightmost, zero counts
            dropped (meas_level 2); ``None`` otherwise.
        memory: IQ memory for meas_level 1 (``[[[I, Q] per clbit] per shot]``, or a single
            averaged shot for ``meas_return="avg"``); ``None`` otherwise.
        parameter_values: The row of input values this experiment was bound with, if any.
        raw: The server's entry for this experiment, as received.
    """

    circuit: int
    row: int
    shots: int
    counts: dict[str, int] | None = None
    memory: list[Any] | None = None
    parameter_values: tuple[float, ...] | None = None
    raw: Mapping[str, Any] = field(default_factory=dict, repr=False, compare=False)

    def __repr__(self) -> str:
        return display.experiment_repr(self)


@dataclass
class JobResult:
    """All experiments of one job, with where they came from.

    Attributes:
        job_id: The server's job id.
        payload: The payload that was submitted.
        experiments: One [`ExperimentResult`][qpi.jobs.ExperimentResult] per circuit and row, in
            wire order.
        metadata: ``job_id``, ``fingerprint``, ``from_cache`` (True when the cache answered
            and no job was submitted for this result), ``job_ids`` (every job of a payload
            that was split over several), ``status``, ``backend``, ``qpu_target``, ``duration``,
            ``finished_at`` and ``created`` as far as the server reported them.
    """

    job_id: str
    payload: JobPayload
    experiments: list[ExperimentResult]
    metadata: dict[str, Any] = field(default_factory=dict)

    def __repr__(self) -> str:
        return display.result_repr(self)

    def _repr_html_(self) -> str:
        return display.result_html(self)

    @property
    def from_cache(self) -> bool:
        """Whether this result was served from the local cache rather than the server."""
        return bool(self.metadata.get("from_cache"))

    def experiment(self, circuit: int = 0, row: int = 0) -> ExperimentResult:
        """The experiment of circuit ``circuit`` bound with row ``row``.

        Raises:
            IndexError: If there is no such circuit or row.
        """
        for exp in self.experiments:
            if exp.circuit == circuit and exp.row == row:
                return exp
        raise IndexError(f"no experiment for circuit {circuit}, row {row} in job {self.job_id}")

    def get_counts(self, circuit: int = 0, row: int = 0) -> dict[str, int]:
        """Counts of one experiment (binary keys, clbit 0 rightmost)."""
        counts = self.experiment(circuit, row).counts
        if counts is None:
            raise ValueError(
                f"job {self.job_id} ran at meas_level {self.payload.meas_level}; it has IQ "
                "memory, not counts (use .experiment(...).memory)"
            )
        return counts

    def by_circuit(self) -> list[list[ExperimentResult]]:
        """Experiments grouped per circuit, each list in row order."""
        grouped: list[list[ExperimentResult]] = [[] for _ in self.payload.circuits]
        for exp in self.experiments:
            grouped[exp.circuit].append(exp)
        return grouped


def _entries(results: Any, job_id: str) -> list[Mapping[str, Any]]:
    if isinstance(results, str | bytes):
        try:
            results = json.loads(results)
        except ValueError:
            raise ServerError(f"job {job_id}: the server's results are not JSON") from None
    if isinstance(results, list):
        return results
    if not isinstance(results, Mapping):
        raise ServerError(f"job {job_id}: unreadable results of type {type(results).__name__}")
    if results.get("circuit_results"):
        return list(results["circuit_results"])
    if "counts" in results or "memory" in results or "hex_counts" in results:
        return [results]  # the legacy single-circuit shape
    if "circuits" in results or "meas_return" in results:
        raise ServerError(
            f"job {job_id}: the server returned the job's payload where its results belong "
            "(the QPI v0.1.2 bug) and the job was not read through the records route; log in "
            "with client.auth_with_password(...) and read the job again"
        )
    raise ServerError(f"job {job_id}: the results hold no circuit_results")


def parse_results(payload: JobPayload, results: Any, *, job_id: str = "") -> list[ExperimentResult]:
    """Map the server's ``results`` back onto the circuits and rows of ``payload``.

    Args:
        payload: The payload the job was submitted with.
        results: The job record's ``results`` (a dict, a list of entries, or a JSON string).
        job_id: Used in error messages.

    Returns:
        One [`ExperimentResult`][qpi.jobs.ExperimentResult] per experiment, in the server's
        flattened order.

    Raises:
        ServerError: If the results cannot be read or do not match the payload's shape.
    """
    entries = _entries(results, job_id)
    index = payload.experiment_index()
    if len(entries) != len(index):
        raise ServerError(
            f"job {job_id}: the server returned {len(entries)} result(s) but the payload "
            f"asks for {len(index)} (circuits x parameter rows)"
        )
    out = []
    for (ci, ri), entry in zip(index, entries, strict=True):
        if not isinstance(entry, Mapping):
            raise ServerError(f"job {job_id}: result {len(out)} is not an object")
        rows = payload.circuits[ci].parameter_values
        raw_counts = entry.get("counts") or entry.get("hex_counts")
        counts = normalise_counts(raw_counts) if isinstance(raw_counts, Mapping) else None
        if counts is None and payload.meas_level == 2 and entry.get("memory") is None:
            counts = {}
        shots = entry.get("shots")
        if not isinstance(shots, int) or shots <= 0:
            shots = sum(counts.values()) if counts else payload.shots_for(ci)
        out.append(
            ExperimentResult(
                circuit=ci,
                row=ri,
                shots=shots,
                counts=counts,
                memory=entry.get("memory"),
                parameter_values=rows[ri] if rows else None,
                raw=entry,
            )
        )
    return out


def result_from_record(
    payload: JobPayload,
    record: Mapping[str, Any],
    *,
    job_id: str,
    fingerprint: str,
    from_cache: bool,
) -> JobResult:
    """The [`JobResult`][qpi.jobs.JobResult] of a completed job record, with its metadata.

    Args:
        payload: The payload the job was submitted with.
        record: The final job record (from the server or the cache).
        job_id: The job's id.
        fingerprint: The payload's fingerprint.
        from_cache: Whether the cache answered (no job was submitted for this result).

    Raises:
        ServerError: If the results cannot be read or do not fit the payload.
    """
    experiments = parse_results(payload, record.get("results"), job_id=job_id)
    metadata = {key: record[key] for key in METADATA_FIELDS if key in record}
    results = record.get("results")
    if isinstance(results, Mapping) and "backend" in results:
        metadata["backend"] = results["backend"]
    metadata.update(job_id=job_id, fingerprint=fingerprint, from_cache=from_cache)
    return JobResult(job_id, payload, experiments, metadata)
