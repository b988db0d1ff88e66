"""``qpi jobs``: list, show, wait for and cancel jobs."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import click

from qpi.cli.context import client_from, connection_options, emit_json, options_of
from qpi.cli.groups import SuggestingGroup
from qpi.cli.progress import job_progress, still_running_on_interrupt
from qpi.cli.render import table
from qpi.cli.views import echo_experiments, echo_job, job_summary, qpu_name, record_experiments
from qpi.jobs.status import JobStatus

if TYPE_CHECKING:
    from qpi.client import QPIClient

__all__ = ["jobs"]

_STATUSES = tuple(status.value for status in JobStatus)


@click.group(cls=SuggestingGroup)
@connection_options
def jobs() -> None:
    """List, show, wait for and cancel jobs."""


@jobs.command("list")
@click.option(
    "-n", "--limit", type=click.IntRange(1), default=20, show_default=True, help="Jobs shown."
)
@click.option(
    "--status",
    type=click.Choice(_STATUSES),
    multiple=True,
    help="Only jobs with this status (repeatable).",
)
@connection_options
@click.pass_context
def list_jobs(ctx: click.Context, limit: int, status: tuple[str, ...]) -> None:
    """List your most recent jobs, newest first.

    \b
    Examples:
      qpi jobs list
      qpi jobs list --status pending --status running
      qpi jobs list -n 5 --json | jq -r '.[].id'
    """
    client = client_from(ctx)
    if status:
        records = [r for r in client.list_jobs() if r.get("status") in status][:limit]
    else:
        records = client.list_jobs(limit=limit)
    names = {str(q.get("id")): q.get("name") for q in client.list_qpus()} if records else {}
    summaries = [job_summary(r, qpu=names.get(str(r.get("qpu_target")))) for r in records]
    if options_of(ctx).json:
        for item in summaries:
            item.pop("experiments", None)
            item.pop("error", None)
        emit_json(summaries)
        return
    if not summaries:
        click.echo("No jobs.")
        return
    rows = [
        [
            s["id"],
            s["status"],
            s["qpu"] or s["qpu_target"],
            s["circuits"],
            s["shots"],
            s["created"],
        ]
        for s in summaries
    ]
    for line in table(["ID", "STATUS", "QPU", "CIRCUITS", "SHOTS", "CREATED"], rows, align="lllrr"):
        click.echo(line)


@jobs.command()
@click.argument("job_id")
@connection_options
@click.pass_context
def show(ctx: click.Context, job_id: str) -> None:
    """Show a job, and its counts as bar charts once it has completed.

    \b
    Examples:
      qpi jobs show 2lz0ezom69atd4y
      qpi jobs show 2lz0ezom69atd4y --json | jq '.experiments[0].counts'
    """
    client = client_from(ctx)
    record = client.get_job(job_id)
    _echo_record(ctx, client, record)


@jobs.command()
@click.argument("job_id")
@click.option(
    "--timeout", type=click.FloatRange(0), default=None, help="Give up after this many seconds."
)
@connection_options
@click.pass_context
def wait(ctx: click.Context, job_id: str, timeout: float | None) -> None:
    """Wait until a job finishes, then show it like `qpi jobs show`.

    Exits with 1 if the job failed, 7 if it was cancelled and 6 on --timeout (the job keeps
    running; wait again to collect it).

    \b
    Examples:
      qpi jobs wait 2lz0ezom69atd4y
      qpi jobs wait 2lz0ezom69atd4y --timeout 600 --json
    """
    client = client_from(ctx)
    with still_running_on_interrupt(job_id), job_progress(job_id) as progress:
        record = client.wait_for_job(job_id, timeout, callback=progress)
    _echo_record(ctx, client, record)


@jobs.command()
@click.argument("job_id")
@connection_options
@click.pass_context
def cancel(ctx: click.Context, job_id: str) -> None:
    """Cancel a pending or running job.

    A job that already finished cannot be cancelled (exit status 3, as the server answers
    404).

    \b
    Example:
      qpi jobs cancel 2lz0ezom69atd4y
    """
    record = client_from(ctx).cancel_job(job_id)
    status = record.get("status", "cancelled")
    if options_of(ctx).json:
        emit_json({"id": job_id, "status": status})
    else:
        click.echo(f"job {job_id}  {status}")


def _echo_record(ctx: click.Context, client: QPIClient, record: dict[str, Any]) -> None:
    experiments = record_experiments(record)
    name = qpu_name(client, record.get("qpu_target"))
    if options_of(ctx).json:
        emit_json(job_summary(record, qpu=name, experiments=experiments))
        return
    echo_job(record, qpu=name)
    if experiments:
        from qpi.payload import JobPayload

        click.echo("")
        echo_experiments(experiments, JobPayload.from_dict(record["payload"]))
