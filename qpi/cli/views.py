"""How jobs and their results are shown: as text with bar charts, or as JSON.

Shared by ``qpi jobs show``, ``qpi jobs wait`` and ``qpi run``, so a job reads the same
wherever it is printed.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

import click

from qpi.cli.render import bar_chart, format_seconds

if TYPE_CHECKING:
    from qpi.client import QPIClient
    from qpi.payload import JobPayload
    from qpi.result import ExperimentResult

__all__ = [
    "declared_inputs",
    "echo_experiments",
    "echo_job",
    "experiments_json",
    "failure_message",
    "job_summary",
    "qpu_name",
    "record_experiments",
]

# Job-record fields shown (and put in JSON) as they are.
_FIELDS = ("status", "qpu_target", "created", "updated", "duration", "finished_at")
# `input <type>[<size>] <name>;` declarations of an OpenQASM 3 program.
_INPUT = re.compile(r"^\s*input\s+[A-Za-z]+\s*(?:\[[^\]]*\])?\s+([A-Za-z_]\w*)\s*;", re.MULTILINE)


def declared_inputs(text: str) -> list[str]:
    """The ``input`` names an OpenQASM 3 program declares, sorted (the order rows bind in).

    Args:
        text: The program.
    """
    return sorted(set(_INPUT.findall(text)))


def failure_message(record: Mapping[str, Any]) -> str | None:
    """The error a failed job's record carries (``results.error``), if any.

    Args:
        record: A job record.
    """
    results = record.get("results")
    if isinstance(results, str):
        try:
            results = json.loads(results)
        except ValueError:
            return results or None
    if isinstance(results, Mapping) and results.get("error"):
        return str(results["error"])
    return None


def record_experiments(record: Mapping[str, Any]) -> list[ExperimentResult]:
    """The experiments of a completed job record (``[]`` for any other status).

    Args:
        record: A job record with its ``payload`` and ``results``.

    Raises:
        ServerError: If the results do not fit the payload.
    """
    if record.get("status") != "completed":
        return []
    from qpi.payload import JobPayload
    from qpi.result import parse_results

    payload = JobPayload.from_dict(record.get("payload") or {})
    return parse_results(payload, record.get("results"), job_id=str(record.get("id", "")))


def qpu_name(client: QPIClient, qpu_target: Any) -> str | None:
    """The name of the QPU with record id ``qpu_target``, or ``None`` if it cannot be told.

    Args:
        client: The client to ask (its cache answers for QPUs seen before).
        qpu_target: A QPU record id.
    """
    if not qpu_target:
        return None
    from qpi.errors import QPIError

    try:
        return str(client.get_qpu(str(qpu_target)).get("name") or "") or None
    except QPIError:
        return None


def experiments_json(experiments: Sequence[ExperimentResult]) -> list[dict[str, Any]]:
    """The experiments as JSON-ready dicts.

    Args:
        experiments: From a [`JobResult`][qpi.result.JobResult] or
            [`record_experiments`][qpi.cli.views.record_experiments].

    Returns:
        One ``{"circuit", "row", "shots", "parameter_values", "counts"}`` per experiment (and
        ``"memory"`` for ``meas_level`` 1 jobs).
    """
    out = []
    for exp in experiments:
        item: dict[str, Any] = {
            "circuit": exp.circuit,
            "row": exp.row,
            "shots": exp.shots,
            "parameter_values": list(exp.parameter_values) if exp.parameter_values else None,
            "counts": exp.counts,
        }
        if exp.memory is not None:
            item["memory"] = exp.memory
        out.append(item)
    return out


def job_summary(
    record: Mapping[str, Any], *, qpu: str | None = None, experiments: Sequence[Any] = ()
) -> dict[str, Any]:
    """A job record as the commands print it with ``--json``.

    Args:
        record: The job record.
        qpu: The QPU's name, if known.
        experiments: The job's experiments, if it completed.

    Returns:
        ``{"id", "status", "qpu_target", "qpu", "created", ..., "circuits", "shots",
        "error", "experiments"}``.
    """
    payload = record.get("payload") if isinstance(record.get("payload"), Mapping) else {}
    circuits = payload.get("circuits") if isinstance(payload.get("circuits"), list) else []
    out: dict[str, Any] = {"id": record.get("id")}
    out.update({key: record.get(key) for key in _FIELDS})
    out.update(
        qpu=qpu,
        circuits=len(circuits),
        shots=payload.get("shots"),
        error=failure_message(record) if record.get("status") == "failed" else None,
        experiments=experiments_json(experiments),
    )
    return out


def _experiment_title(exp: ExperimentResult, many_circuits: bool, names: Sequence[str]) -> str:
    parts = []
    if many_circuits:
        parts.append(f"circuit {exp.circuit}")
    if exp.parameter_values is not None:
        if len(names) == len(exp.parameter_values):
            values = ", ".join(f"{n}={v:g}" for n, v in zip(names, exp.parameter_values))
        else:
            values = ", ".join(f"{v:g}" for v in exp.parameter_values)
        parts.append(f"row {exp.row} ({values})")
    parts.append(f"{exp.shots} shots")
    return " · ".join(parts)


def echo_experiments(
    experiments: Sequence[ExperimentResult], payload: JobPayload | None = None
) -> None:
    """Print each experiment's counts as a bar chart, under a title line.

    Args:
        experiments: The experiments to show, in order.
        payload: The job's payload, to name the inputs of each parameter row.
    """
    many = len({exp.circuit for exp in experiments}) > 1
    names = [declared_inputs(c.circuit) for c in payload.circuits] if payload else []
    for index, exp in enumerate(experiments):
        if index or many or exp.parameter_values is not None:
            click.echo("")
        inputs = names[exp.circuit] if exp.circuit < len(names) else []
        click.echo(_experiment_title(exp, many, inputs))
        if exp.counts is not None:
            for line in bar_chart(exp.counts):
                click.echo(line)
        elif exp.memory is not None:
            click.echo(f"  IQ memory of {len(exp.memory)} shot(s); see it with --json")


def echo_job(record: Mapping[str, Any], *, qpu: str | None = None) -> None:
    """Print a job's header lines: id, status, QPU, times, size, and the error if it failed.

    Args:
        record: The job record.
        qpu: The QPU's name, if known.
    """
    summary = job_summary(record, qpu=qpu)
    click.echo(f"job {summary['id']}  {summary['status']}")
    target = summary["qpu_target"]
    where = f"{qpu} ({target})" if qpu and target else (qpu or target)
    rows = [
        ("qpu", where),
        ("created", summary["created"]),
        ("finished", summary["finished_at"]),
        ("duration", _duration(summary["duration"])),
        ("circuits", summary["circuits"]),
        ("shots", summary["shots"]),
    ]
    for label, value in rows:
        if value not in (None, ""):
            click.echo(f"  {label:<9} {value}")
    if summary["error"]:
        click.echo(f"  error     {summary['error']}")


def _duration(value: Any) -> str | None:
    if isinstance(value, int | float) and not isinstance(value, bool):
        return format_seconds(float(value))
    return None if value in (None, "") else str(value)
