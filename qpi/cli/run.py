"""``qpi run FILE.qasm``: run an OpenQASM 3 program as one job and print its counts."""

from __future__ import annotations

import math
import re
import time
from collections.abc import Sequence
from typing import IO

import click

from qpi.cli.context import client_from, connection_options, emit_json, options_of
from qpi.cli.progress import job_progress, still_running_on_interrupt
from qpi.cli.render import format_seconds
from qpi.cli.views import declared_inputs, echo_experiments, experiments_json, qpu_name

__all__ = ["input_names", "parse_rows", "run"]

# A number, optionally times pi and over a divisor: 0.5, -1e-3, pi, -pi/2, 2*pi, 3pi/4.
_VALUE = re.compile(
    r"^(?P<sign>[+-]?)(?P<num>(?:\d+\.?\d*|\.\d+)(?:e[+-]?\d+)?)?\s*\*?\s*(?P<pi>pi|π)?"
    r"(?:\s*/\s*(?P<div>(?:\d+\.?\d*|\.\d+)))?$",
    re.IGNORECASE,
)


_UNKNOWN_GATE = re.compile(r"^(\d+:\d+): gate '(\w+)' is not in stdgates\.inc")


def input_names(text: str) -> list[str]:
    """The program's ``input`` names in sorted order, the order rows are bound in.

    Read with [`qpi.qasm3.parse`][qpi.qasm3.parse]; a program outside its subset falls back to the
    ``input`` declarations found by a regular expression.

    Args:
        text: The OpenQASM 3 program.

    Raises:
        QasmSyntaxError: If the program is not valid OpenQASM or uses a gate it never defines
            (line and column named).
    """
    from qpi import qasm3

    try:
        return sorted(qasm3.parse(text).input_names())
    except qasm3.QasmUnsupportedError as exc:
        undefined = _UNKNOWN_GATE.search(str(exc))
        if undefined and not re.search(rf"\b(gate|defcal|opaque)\s+{undefined[2]}\b", text):
            # No QPU driver runs a gate that is neither standard nor defined: a parse error
            # now (exit status 9) rather than a failed job.
            raise qasm3.QasmSyntaxError(
                f"{undefined[1]}: gate {undefined[2]!r} is not defined (neither in "
                "stdgates.inc nor by a `gate` declaration)"
            ) from None
        return declared_inputs(text)


def _number(text: str, where: str) -> float:
    value = text.strip()
    try:
        number = float(value)
    except ValueError:
        match = _VALUE.match(value)
        if match is None or not (match["num"] or match["pi"]):
            raise click.BadParameter(
                f"{where}: {value!r} is not a number (write 0.5, -1e-3, pi/2, 2*pi, ...)",
                param_hint="--param",
            ) from None
        number = float(match["num"] or 1.0) * (math.pi if match["pi"] else 1.0)
        number = -number if match["sign"] == "-" else number
        if match["div"]:
            number /= float(match["div"])
    if not math.isfinite(number):
        raise click.BadParameter(f"{where}: {value!r} is not finite", param_hint="--param")
    return number


def parse_rows(params: Sequence[str], names: Sequence[str]) -> list[list[float]]:
    """Turn ``--param`` values into parameter rows, in the program's sorted input order.

    Each value is one row: comma-separated numbers in sorted input-name order
    (``0.1,0.2``), or ``name=value`` pairs in any order (``theta=0.1,phi=0.2``).

    Args:
        params: The ``--param`` values, one row each.
        names: The program's input names, sorted.

    Returns:
        The rows; ``[]`` when no ``--param`` was given.

    Raises:
        click.BadParameter: If a row is malformed or does not match the inputs.
        click.UsageError: If the program has inputs and no row was given.
    """
    rows = []
    expected = ", ".join(names)
    for number, text in enumerate(params, 1):
        where = f"row {number}"
        items = [item.strip() for item in text.split(",") if item.strip()]
        named = ["=" in item for item in items]
        if any(named) and not all(named):
            raise click.BadParameter(
                f"{where}: mix of name=value and plain values in {text!r}; use one form",
                param_hint="--param",
            )
        if not names:
            raise click.BadParameter(
                "the program declares no inputs, so it takes no --param", param_hint="--param"
            )
        if items and all(named):
            values = {}
            for item in items:
                key, _, raw = item.partition("=")
                values[key.strip()] = _number(raw, f"{where}, {key.strip()}")
            missing = sorted(set(names) - set(values))
            unknown = sorted(set(values) - set(names))
            if missing or unknown:
                raise click.BadParameter(
                    f"{where}: "
                    + (f"missing {', '.join(missing)}" if missing else "")
                    + ("; " if missing and unknown else "")
                    + (f"unknown {', '.join(unknown)}" if unknown else "")
                    + f"; the program's inputs are {expected}",
                    param_hint="--param",
                )
            rows.append([values[name] for name in names])
            continue
        row = [_number(item, where) for item in items]
        if len(row) != len(names):
            raise click.BadParameter(
                f"{where} has {len(row)} value(s) but the program has {len(names)} input(s) "
                f"({expected}, in this order)",
                param_hint="--param",
            )
        rows.append(row)
    if names and not rows:
        example = ",".join(f"{name}=0.5" for name in names)
        raise click.UsageError(
            f"the program declares input(s) {expected}: give one --param per row of values, "
            f"e.g. --param {example}"
        )
    return rows


@click.command()
@click.argument("file", type=click.File("r", encoding="utf-8"))
@click.option(
    "-s", "--shots", type=click.IntRange(1), default=1024, show_default=True, help="Shots per row."
)
@click.option(
    "--qpu",
    metavar="NAME",
    help="QPU name or id [default: $QPI_QPU, the profile's qpu, the server's default QPU, "
    "or the only online one].",
)
@click.option(
    "-p",
    "--param",
    "params",
    multiple=True,
    metavar="ROW",
    help="One row of input values: 0.1,0.2 (sorted input order) or theta=0.1,phi=0.2. "
    "Repeat for more rows; all rows run in one job.",
)
@click.option(
    "--wait/--no-wait",
    default=True,
    help="Wait for the counts (default), or print the job id and return.",
)
@click.option(
    "--timeout", type=click.FloatRange(0), default=None, help="Give up waiting after S seconds."
)
@connection_options
@click.pass_context
def run(
    ctx: click.Context,
    file: IO[str],
    shots: int,
    qpu: str | None,
    params: tuple[str, ...],
    wait: bool,
    timeout: float | None,
) -> None:
    """Run an OpenQASM 3 file (or - for stdin) as one job and print its counts.

    Rows given with --param bind positionally in the sorted order of the program's `input`
    names, as the QPU driver binds them. An identical run is answered from the cache.

    \b
    Examples:
      qpi run bell.qasm --shots 1000
      qpi run rx.qasm -p theta=0 -p theta=pi/2 -p theta=pi
      qpi run bell.qasm --qpu qiskit_aer --json | jq '.experiments[0].counts'
      JOB=$(qpi run big.qasm --no-wait) && qpi jobs wait "$JOB"
    """
    from qpi.qasm3 import QasmSyntaxError

    text = file.read()
    try:
        names = input_names(text)
    except QasmSyntaxError as exc:
        where = "<stdin>" if file.name == "<stdin>" else file.name
        raise QasmSyntaxError(f"{where}:{exc} (not valid OpenQASM 3)") from None
    rows = parse_rows(params, names)
    client = client_from(ctx)
    start = time.monotonic()
    job = client.run(text, shots=shots, parameter_values=rows or None, qpu=qpu)
    as_json = options_of(ctx).json
    if not wait:
        if as_json:
            emit_json({"job_id": job.id})
        else:
            click.echo(job.id)
        return
    with still_running_on_interrupt(job.id), job_progress(job.id) as progress:
        result = job.result(timeout, callback=progress)
    seconds = time.monotonic() - start
    target = job.payload.qpu_target
    name = qpu or qpu_name(client, target)
    if as_json:
        emit_json(
            {
                "job_id": job.id,
                "status": "completed",
                "from_cache": result.from_cache,
                "qpu": name,
                "qpu_target": target,
                "seconds": round(seconds, 6),
                "experiments": experiments_json(result.experiments),
            }
        )
        return
    source = "from the cache" if result.from_cache else "on the server"
    click.echo(f"job {job.id}  completed {source} in {format_seconds(seconds)}  (QPU {name})")
    echo_experiments(result.experiments, job.payload)
