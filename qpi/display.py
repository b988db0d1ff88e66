"""How qpi's objects show themselves: short reprs, and rich displays in Jupyter.

A cell that ends in a result prints its repr; a 200-row sweep must not print 300,000
characters, so every repr here is bounded: counts show their most frequent outcomes and say
how many more there are. In Jupyter, [`JobResult`][qpi.jobs.JobResult],
[`Job`][qpi.jobs.Job] and [`QPIClient`][qpi.client.QPIClient] render as small HTML tables,
counts as an inline SVG histogram, and a wait shows its progress in the cell's output.

The classes keep only one-line hooks (``__repr__``, ``_repr_html_``) that call the functions
here, so the rendering lives in one place and needs nothing beyond the standard library.
"""

from __future__ import annotations

import html
import sys
import time
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any, Protocol

if TYPE_CHECKING:
    from qpi.circuit import Circuit
    from qpi.client import QPIClient
    from qpi.job import Job
    from qpi.payload import CircuitPayload, JobPayload
    from qpi.result import ExperimentResult, JobResult

__all__ = [
    "DisplayHandle",
    "NotebookProgress",
    "circuit_payload_repr",
    "circuit_repr",
    "client_html",
    "counts_histogram",
    "counts_summary",
    "experiment_repr",
    "job_html",
    "job_repr",
    "notebook_progress",
    "payload_repr",
    "result_html",
    "result_repr",
    "top_counts",
]

#: Outcomes a repr lists before it says how many more there are.
REPR_OUTCOMES = 4
#: Bars a histogram draws (the most frequent outcomes).
HISTOGRAM_BARS = 16
#: Experiments a result's HTML shows one histogram for.
HTML_EXPERIMENTS = 4


def top_counts(counts: Mapping[str, int], limit: int) -> list[tuple[str, int]]:
    """The ``limit`` most frequent outcomes, most frequent first (ties in key order)."""
    return sorted(counts.items(), key=lambda item: (-item[1], item[0]))[: max(limit, 0)]


def counts_summary(counts: Mapping[str, int] | None, limit: int = REPR_OUTCOMES) -> str:
    """``{'11': 502, '00': 498}``, or the ``limit`` most frequent and ``+N more``."""
    if counts is None:
        return "None"
    shown = ", ".join(f"{key!r}: {n}" for key, n in top_counts(counts, limit))
    more = len(counts) - limit
    return "{" + shown + (f", ... +{more} more" if more > 0 else "") + "}"


def _clip(text: str, limit: int = 60) -> str:
    return text if len(text) <= limit else text[: limit - 3] + "..."


# -- short reprs --------------------------------------------------------------------------------


def experiment_repr(exp: ExperimentResult) -> str:
    """``ExperimentResult(circuit=0, row=3, shots=1000, counts={...})``, bounded."""
    data = f"counts={counts_summary(exp.counts)}"
    if exp.counts is None and exp.memory is not None:
        data = f"memory=<{len(exp.memory)} shot(s)>"
    params = ""
    if exp.parameter_values is not None:
        params = f", parameter_values={_clip(repr(exp.parameter_values), 40)}"
    return (
        f"ExperimentResult(circuit={exp.circuit}, row={exp.row}, shots={exp.shots}{params}, {data})"
    )


def _shape(payload: JobPayload) -> str:
    rows = sum(len(c.parameter_values or ()) or 1 for c in payload.circuits)
    return f"{len(payload.circuits)} circuit(s), {rows} experiment(s)"


def result_repr(result: JobResult) -> str:
    """``<JobResult abc123: completed, 1 circuit(s), 200 experiment(s), from cache>``."""
    status = result.metadata.get("status", "completed")
    backend = result.metadata.get("backend")
    parts = [str(status), _shape(result.payload)]
    if backend:
        parts.append(f"on {backend}")
    if len(result.experiments) == 1 and result.experiments[0].counts is not None:
        parts.append(f"counts={counts_summary(result.experiments[0].counts)}")
    if result.from_cache:
        parts.append("from cache")
    return f"<JobResult {result.job_id}: {', '.join(parts)}>"


def job_repr(job: Job, result: JobResult | None) -> str:
    """``<qpi.Job abc123: 1 circuit(s), 3 experiment(s)>``, with ``done`` once ``result`` is known.

    It makes no request: a repr must be cheap and must not fail.
    """
    known = ", done" if result is not None else ""
    return f"<qpi.Job {job.id}: {_shape(job.payload)}{known}>"


def payload_repr(payload: JobPayload) -> str:
    """``JobPayload(2 circuit(s), 201 experiment(s), shots=1000, meas_level=2, qpu_target=...)``."""
    return (
        f"JobPayload({_shape(payload)}, shots={payload.shots}, meas_level={payload.meas_level}, "
        f"qpu_target={payload.qpu_target!r})"
    )


def circuit_payload_repr(entry: CircuitPayload) -> str:
    """``CircuitPayload('OPENQASM 3.0; ...' (412 chars), 200 row(s), shots=None)``."""
    text = " ".join(entry.circuit.split())
    rows = len(entry.parameter_values) if entry.parameter_values is not None else None
    return (
        f"CircuitPayload({_clip(text, 48)!r} ({len(entry.circuit)} chars), "
        f"rows={rows}, shots={entry.shots})"
    )


def circuit_repr(circuit: Circuit) -> str:
    """``Circuit(num_qubits=2, num_clbits=2, 4 instruction(s), parameters=['a'])``."""
    params = (
        "" if not circuit.parameters else f", parameters={_clip(repr(list(circuit.parameters)))}"
    )
    name = "" if circuit.name is None else f", name={_clip(circuit.name, 30)!r}"
    return (
        f"Circuit(num_qubits={circuit.num_qubits}, num_clbits={circuit.num_clbits}, "
        f"{len(circuit.instructions)} instruction(s){params}{name})"
    )


# -- HTML for Jupyter ---------------------------------------------------------------------------


def counts_histogram(counts: Mapping[str, int], limit: int = HISTOGRAM_BARS) -> str:
    """An inline SVG bar chart of the ``limit`` most frequent outcomes (no script, no asset).

    Args:
        counts: ``{bitstring: count}``.
        limit: The most bars drawn; the caption says how many outcomes were left out.

    Returns:
        An ``<svg>`` element, or a short note for empty counts.
    """
    top = top_counts(counts, limit)
    if not top:
        return "<em>no counts</em>"
    total = sum(counts.values()) or 1
    peak = top[0][1] or 1
    bar, gap, label_w, chart_w = 14, 3, 12 + 7 * max(len(k) for k, _ in top), 220
    height = len(top) * (bar + gap)
    rows = []
    for i, (key, n) in enumerate(top):
        y = i * (bar + gap)
        width = max(1, round(chart_w * n / peak))
        rows.append(
            f'<text x="{label_w - 6}" y="{y + bar - 3}" text-anchor="end">{html.escape(key)}</text>'
            f'<rect x="{label_w}" y="{y}" width="{width}" height="{bar}" fill="#4f6bd8">'
            f"<title>{html.escape(key)}: {n}</title></rect>"
            f'<text x="{label_w + width + 4}" y="{y + bar - 3}">{n} ({n / total:.1%})</text>'
        )
    svg = (
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{label_w + chart_w + 110}" '
        f'height="{height}" style="font: 11px monospace">{"".join(rows)}</svg>'
    )
    left = len(counts) - len(top)
    note = f"<div><small>{left} less frequent outcome(s) not shown</small></div>" if left else ""
    return svg + note


def _table(rows: Sequence[tuple[str, Any]]) -> str:
    cells = "".join(
        f'<tr><th style="text-align:left">{html.escape(k)}</th>'
        f'<td style="text-align:left">{html.escape(str(v))}</td></tr>'
        for k, v in rows
    )
    return f"<table>{cells}</table>"


def result_html(result: JobResult) -> str:
    """A result as HTML: job, status, shape, cache marker, and histograms of its first counts."""
    meta = result.metadata
    rows: list[tuple[str, Any]] = [
        ("job", result.job_id),
        ("status", meta.get("status", "completed")),
        ("experiments", _shape(result.payload)),
    ]
    if meta.get("backend"):
        rows.append(("backend", meta["backend"]))
    if result.from_cache:
        rows.append(("from cache", "yes: no request was made for this result"))
    charts = []
    for exp in result.experiments[:HTML_EXPERIMENTS]:
        if exp.counts is not None:
            charts.append(
                f"<div><small>circuit {exp.circuit}, row {exp.row}, {exp.shots} shots</small>"
                f"{counts_histogram(exp.counts)}</div>"
            )
    more = len(result.experiments) - HTML_EXPERIMENTS
    if more > 0:
        charts.append(f"<div><small>... and {more} more experiment(s)</small></div>")
    return f"<div><strong>JobResult</strong>{_table(rows)}{''.join(charts)}</div>"


def job_html(job: Job, result: JobResult | None) -> str:
    """A job as HTML: its id, shape, status (one request unless ``result`` is known), counts."""
    from qpi.errors import QPIError

    try:
        status = job.status()
    except QPIError as exc:  # a display never raises: say what went wrong instead
        status = f"unknown ({_clip(str(exc), 80)})"
    rows = [("job", job.id), ("status", status), ("experiments", _shape(job.payload))]
    body = _table(rows)
    if result is not None:
        body += result_html(result)
    return f"<div><strong>qpi.Job</strong>{body}</div>"


def client_html(client: QPIClient, has_token: bool) -> str:
    """A client as HTML: server, whether a token is set, cache mode (no request)."""
    rows = [
        ("server", client.base_url),
        ("API token", "set" if has_token else "not set"),
        ("cache mode", client.cache_mode),
    ]
    return f"<div><strong>QPIClient</strong>{_table(rows)}</div>"


# -- progress in a notebook ---------------------------------------------------------------------


class DisplayHandle(Protocol):
    """What IPython's ``display(..., display_id=True)`` returns: a cell output to update."""

    def update(self, obj: Any) -> None:
        """Replace the output with ``obj``."""


class NotebookProgress:
    """A job's status and the time waited, in one cell output that updates while it waits.

    Pass [`update`][qpi.display.NotebookProgress.update] as the wait's ``callback``.

    Args:
        job_id: The job waited on.
        handle: The output to update (IPython's display handle).
    """

    def __init__(self, job_id: str, handle: DisplayHandle) -> None:
        self.job_id = job_id
        self.handle = handle
        self.status = "submitted"
        self.elapsed = 0.0
        self.start = time.monotonic()

    def update(self, record: Mapping[str, Any], elapsed: float) -> None:
        """The wait's callback: show the record's status and the time waited."""
        self.status = str(record.get("status") or self.status)
        self.elapsed = elapsed
        self.handle.update(self)

    def finish(self) -> None:
        """Show the final time waited."""
        self.elapsed = time.monotonic() - self.start
        self.handle.update(self)

    def _repr_html_(self) -> str:
        return (
            f"<div><code>job {html.escape(self.job_id)}</code> "
            f"<strong>{html.escape(self.status)}</strong> {self.elapsed:.1f} s</div>"
        )

    def __repr__(self) -> str:
        return f"job {self.job_id}  {self.status}  {self.elapsed:.1f} s"


def _in_notebook() -> bool:
    ipython = sys.modules.get("IPython")
    shell = ipython.get_ipython() if ipython is not None else None  # type: ignore[attr-defined]
    return shell is not None and type(shell).__name__ == "ZMQInteractiveShell"


@contextmanager
def notebook_progress(job_id: str) -> Iterator[NotebookProgress | None]:
    """A [`NotebookProgress`][qpi.display.NotebookProgress] while the body waits, in Jupyter.

    Yields ``None`` outside a Jupyter kernel (scripts, the command line, plain IPython), so
    nothing is printed there.
    """
    if not _in_notebook():
        yield None
        return
    from IPython.display import display

    progress = NotebookProgress(job_id, _NoHandle())
    progress.handle = display(progress, display_id=True) or _NoHandle()
    try:
        yield progress
    finally:
        progress.finish()


class _NoHandle:
    def update(self, obj: Any) -> None:
        """Nothing to update."""
