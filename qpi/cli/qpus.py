"""``qpi qpus``: the QPUs that take jobs."""

from __future__ import annotations

import click

from qpi.cli.context import client_from, connection_options, emit_json, options_of
from qpi.cli.render import table

__all__ = ["qpus"]


@click.command()
@connection_options
@click.pass_context
def qpus(ctx: click.Context) -> None:
    """List the QPUs that are online.

    Pass a QPU's name (or id) to `qpi run --qpu`.

    \b
    Examples:
      qpi qpus
      qpi qpus --json | jq -r '.[].name'
    """
    records = client_from(ctx).list_qpus()
    if options_of(ctx).json:
        emit_json(records)
        return
    if not records:
        click.echo("No QPU is online.")
        return
    rows = [
        [
            q.get("name"),
            q.get("id"),
            q.get("status"),
            q.get("num_qubits"),
            "yes" if q.get("enabled", True) else "no",
        ]
        for q in records
    ]
    for line in table(["NAME", "ID", "STATUS", "QUBITS", "ENABLED"], rows, align="lllrl"):
        click.echo(line)
