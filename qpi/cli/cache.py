"""``qpi cache``: inspect, export, import, clear and prune the result cache.

The cache is the one the other commands (and ``QPIClient()``) use: ``--cache-dir``, else
``$QPI_CACHE_DIR``, else the profile's ``cache_dir``, else the user cache directory.
"""

from __future__ import annotations

import dataclasses
import re
import sys
import time
from pathlib import Path
from types import MappingProxyType

import click

from qpi.cli.context import cache_from, connection_options, emit_json, options_of
from qpi.cli.groups import SuggestingGroup
from qpi.cli.render import table

__all__ = ["cache", "parse_age"]

_UNITS = MappingProxyType({"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800})
_AGE = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([smhdw]?)\s*$", re.IGNORECASE)
_KINDS = ("result", "submitted", "job", "qpu")


def parse_age(text: str) -> float:
    """Seconds in an age such as ``90``, ``90s``, ``15m``, ``12h``, ``30d`` or ``2w``.

    Args:
        text: The age; a bare number is seconds.

    Raises:
        click.BadParameter: If the text is not an age.
    """
    match = _AGE.match(text)
    if match is None:
        raise click.BadParameter(
            f"{text!r} is not an age; write e.g. 3600, 90s, 15m, 12h, 30d or 2w",
            param_hint="--older-than",
        )
    return float(match[1]) * _UNITS[(match[2] or "s").lower()]


def _size(size: float) -> str:
    for unit in ("B", "KiB", "MiB", "GiB"):
        if size < 1024 or unit == "GiB":
            return f"{size:.0f} {unit}" if unit == "B" else f"{size:.1f} {unit}"
        size /= 1024
    return f"{size:.1f} GiB"  # pragma: no cover


@click.group(cls=SuggestingGroup)
@connection_options
def cache() -> None:
    """Inspect, export, import, clear and prune the result cache."""


@cache.command()
@connection_options
@click.pass_context
def info(ctx: click.Context) -> None:
    """Where the cache is, its size, and its entries by kind.

    \b
    Example:
      qpi cache info --json
    """
    data = cache_from(ctx).info()
    if options_of(ctx).json:
        emit_json(data)
        return
    click.echo(f"directory   {data['directory']}")
    click.echo(f"size        {_size(data['size'])} of {_size(data['size_limit'])}")
    counts = ", ".join(f"{n} {kind}" for kind, n in data["counts"].items())
    click.echo(f"entries     {data['count']} ({counts})")


@cache.command("list")
@click.option("--kind", type=click.Choice(_KINDS), default=None, help="Only entries of one kind.")
@connection_options
@click.pass_context
def list_entries(ctx: click.Context, kind: str | None) -> None:
    """List the cached entries: results, submitted jobs, job records and QPUs.

    \b
    Examples:
      qpi cache list --kind result
      qpi cache list --json | jq -r '.[] | select(.kind == "job") | .job_id'
    """
    entries = list(cache_from(ctx).entries(kind))
    if options_of(ctx).json:
        emit_json([dataclasses.asdict(entry) for entry in entries])
        return
    if not entries:
        click.echo("The cache is empty." if kind is None else f"No {kind} entries.")
        return
    rows = [
        [
            e.kind,
            _shown_key(e.kind, e.key),
            e.job_id,
            e.status,
            e.server,
            time.strftime("%Y-%m-%d %H:%M", time.localtime(e.stored)),
            _size(e.size),
        ]
        for e in entries
    ]
    headers = ["KIND", "KEY", "JOB / QPU ID", "STATUS", "SERVER", "STORED", "SIZE"]
    for line in table(headers, rows, align="llllllr"):
        click.echo(line)


def _shown_key(kind: str, key: str) -> str:
    # A QPU looked up by no name is stored under "": the server's default QPU.
    if not key:
        return "(default QPU)" if kind == "qpu" else "(empty)"
    return key[:16] + ("…" if len(key) > 16 else "")


@cache.command("export")
@click.argument("file", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--job", "job_ids", multiple=True, metavar="ID", help="Only this job (repeatable).")
@connection_options
@click.pass_context
def export_cache(ctx: click.Context, file: Path, job_ids: tuple[str, ...]) -> None:
    """Write cached results to one portable file (gzip JSON with a SHA-256 digest).

    Import it on another machine with `qpi cache import`, then replay offline with
    `--cache-mode replay`. Tokens are never in the file.

    \b
    Examples:
      qpi cache export results.qpicache.gz
      qpi cache export one-job.qpicache.gz --job 2lz0ezom69atd4y
    """
    count = cache_from(ctx).export_to(file, job_ids=job_ids or None)
    if options_of(ctx).json:
        emit_json({"file": str(file), "entries": count})
    else:
        click.echo(f"Exported {count} entries to {file}")


@cache.command("import")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@connection_options
@click.pass_context
def import_cache(ctx: click.Context, file: Path) -> None:
    """Add the entries of an export file to the cache.

    The whole file is checked first: a truncated, modified or foreign file is refused
    (exit status 9) and the cache is left as it was.

    \b
    Example:
      qpi cache import results.qpicache.gz && qpi run bell.qasm --cache-mode replay
    """
    count = cache_from(ctx).import_from(file)
    if options_of(ctx).json:
        emit_json({"file": str(file), "entries": count})
    else:
        click.echo(f"Imported {count} entries from {file}")


@cache.command()
@click.option("-y", "--yes", is_flag=True, help="Do not ask for confirmation.")
@connection_options
@click.pass_context
def clear(ctx: click.Context, yes: bool) -> None:
    """Remove every entry of the cache (asks first, unless --yes).

    \b
    Example:
      qpi cache clear --yes
    """
    store = cache_from(ctx)
    if not yes:
        if not sys.stdin.isatty():
            raise click.UsageError("no terminal to ask for confirmation; pass --yes")
        if not click.confirm(f"Remove every entry of the cache at {store.directory}?"):
            click.echo("Nothing removed.")
            return
    before = store.info()["count"]
    store.clear()
    if options_of(ctx).json:
        emit_json({"removed": before})
    else:
        click.echo(f"Removed {before} entries from {store.directory}")


@cache.command()
@click.option(
    "--older-than",
    metavar="AGE",
    default=None,
    help="Also remove entries stored longer ago than AGE (3600, 90s, 15m, 12h, 30d, 2w).",
)
@connection_options
@click.pass_context
def prune(ctx: click.Context, older_than: str | None) -> None:
    """Shrink the cache to its size limit, and drop old or damaged entries.

    \b
    Examples:
      qpi cache prune
      qpi cache prune --older-than 30d
    """
    age = parse_age(older_than) if older_than is not None else None
    removed = cache_from(ctx).prune(age)
    if options_of(ctx).json:
        emit_json({"removed": removed})
    else:
        click.echo(f"Removed {removed} entries")
