"""``qpi demo``: one circuit on three frameworks, answered by the server, the cache, and offline.

1. Start an embedded local orchestrator (temporary data and cache directories, so the user's
   own cache and server are never touched).
2. Run a Bell (or GHZ) circuit written natively in Qiskit, PennyLane and Cirq, one job each,
   and show the counts side by side.
3. Run the same again in a new session (what rerunning the script does): the cache answers,
   and the server's job count shows no new job.
4. Stop the server and replay all three with ``cache_mode="replay"``: identical counts with
   no network at all.

A framework that is not installed is skipped with a note saying how to install it.
"""

from __future__ import annotations

import shutil
import tempfile
import time
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from qpi.cli.context import emit_json, json_option, local_server_class, options_of
from qpi.cli.exitcodes import ExitCode, exit_code_for
from qpi.cli.render import comparison_chart, format_seconds, table
from qpi.hooks import hookimpl

if TYPE_CHECKING:
    from qpi.cli.frameworks import Framework
    from qpi.client import QPIClient

__all__ = ["Outcome", "SubmissionRecorder", "demo"]


@dataclass
class Outcome:
    """What one framework's run gave.

    Attributes:
        framework: The framework's name.
        counts: ``{bitstring: count}``, or ``None`` if the run failed.
        job_ids: The jobs that answered (one, as each framework sends one job).
        from_cache: Whether the cache answered every job with no request.
        seconds: Wall time of the run.
        error: The error that stopped the run, if any.
        exit_code: The exit status that error maps to (0 without an error).
    """

    framework: str
    counts: dict[str, int] | None
    job_ids: list[str]
    from_cache: bool
    seconds: float
    error: str | None = None
    exit_code: int = 0


class SubmissionRecorder:
    """A plugin noting which job answered each submission, and whether the cache did.

    Registered on a client, it sees every submission whatever framework made it: a result
    the cache returned (no request), a job re-attached to, or a job the server accepted.

    Attributes:
        events: ``(job_id, from_cache)`` per submission, oldest first.
    """

    def __init__(self) -> None:
        self.events: list[tuple[str, bool]] = []

    @hookimpl
    def qpi_job_started(self, job_id: str, fingerprint: str, from_cache: bool) -> None:
        """Note a job that started, or the job whose stored result the cache answered with."""
        self.events.append((job_id, from_cache))


class _Printer:
    """Text output of the demo (silent with ``--json``)."""

    def __init__(self, enabled: bool) -> None:
        self.enabled = enabled

    def __call__(self, text: str = "", *, nl: bool = True) -> None:
        if self.enabled:
            click.echo(text, nl=nl)

    def lines(self, lines: Sequence[str]) -> None:
        for line in lines:
            self(line)


def _load(
    frameworks: Sequence[Framework],
) -> tuple[list[Framework], list[str], dict[str, str]]:
    """Import the frameworks: ``(ready, "Name version" of each, {skipped name: why})``."""
    ready, loaded, skipped = [], [], {}
    for framework in frameworks:
        reason = framework.missing()
        if reason is None:
            try:
                loaded.append(f"{framework.name} {framework.load()}")
                ready.append(framework)
                continue
            except Exception as exc:  # noqa: BLE001 - a broken install is skipped too
                reason = f"it failed to import ({type(exc).__name__}: {exc})"
        skipped[framework.name] = reason
    return ready, loaded, skipped


def _run_all(
    frameworks: Sequence[Framework],
    client: QPIClient,
    recorder: SubmissionRecorder,
    qubits: int,
    shots: int,
) -> list[Outcome]:
    outcomes = []
    for framework in frameworks:
        recorder.events.clear()
        start = time.perf_counter()
        counts: dict[str, int] | None = None
        error, code = None, 0
        try:
            counts = framework.run(client, qubits, shots)
        except Exception as exc:  # noqa: BLE001 - one framework's failure must not end the demo
            error, code = f"{type(exc).__name__}: {exc}", int(exit_code_for(exc))
        seconds = time.perf_counter() - start
        events = list(recorder.events)
        outcomes.append(
            Outcome(
                framework=framework.name,
                counts=counts,
                job_ids=[job_id for job_id, _ in events],
                from_cache=bool(events) and all(cached for _, cached in events),
                seconds=seconds,
                error=error,
                exit_code=code,
            )
        )
    return outcomes


def _compact(counts: dict[str, int] | None) -> str:
    if counts is None:
        return "-"
    return "  ".join(f"{key}:{value}" for key, value in sorted(counts.items()))


def _outcome_table(outcomes: Sequence[Outcome], *, compare: Sequence[Outcome] = ()) -> list[str]:
    reference = {o.framework: o.counts for o in compare}
    rows = []
    for o in outcomes:
        source = "cache" if o.from_cache else "server"
        last = _compact(o.counts)
        if compare:
            same = o.counts is not None and o.counts == reference.get(o.framework)
            last = "identical ✓" if same else "DIFFERENT ✗"
        if o.error:
            source, last = "failed", o.error
        rows.append(
            [o.framework, ", ".join(o.job_ids) or "-", source, format_seconds(o.seconds), last]
        )
    headers = ["FRAMEWORK", "JOB", "ANSWERED BY", "TIME", "COUNTS" if not compare else "VS RUN 1"]
    return table(headers, rows, indent="  ", align="lllr")


def _summary(qubits: int, shots: int, ran: Sequence[str]) -> list[str]:
    state = "Bell" if qubits == 2 else f"{qubits}-qubit GHZ"
    names = " and ".join([", ".join(ran[:-1]), ran[-1]] if len(ran) > 1 else ran) or "No framework"
    return [
        "What just happened",
        f"  • {names} each built the {state} circuit natively; their qpi plugins turned it",
        "    into OpenQASM 3 and sent ONE job each to a QPI orchestrator running in this",
        "    process (the REST API of a real QPI installation; `qpi serve` runs one on its own).",
        "  • Every result went into a content-addressed disk cache, keyed by a SHA-256",
        f"    fingerprint of the exact payload (program, {shots} shots, QPU) and the server.",
        "  • Run 2 sent the same payloads: the cache answered at once and the server saw no",
        "    new job. Change one gate or one shot, and it is a new job.",
        "  • With the server stopped, cache_mode='replay' rebuilt the same native results",
        "    offline. `qpi cache export` packs them into one file to replay on any machine.",
        "",
        "Next: `qpi serve` in another terminal, then `qpi run FILE.qasm`, `qpi jobs list`,",
        "`qpi cache info`; or point QPIClient / the plugins at a real QPI with `qpi login`.",
    ]


@click.command()
@click.option(
    "--shots", type=click.IntRange(1, 1_000_000), default=1000, show_default=True, help="Shots."
)
@click.option(
    "--qubits",
    type=click.IntRange(2, 16),
    default=2,
    show_default=True,
    help="2 runs a Bell state; more, a GHZ state.",
)
@click.option("--seed", type=int, default=7, show_default=True, help="The server's sampling seed.")
@click.option(
    "--keep-cache",
    is_flag=True,
    help="Keep the demo's cache directory (its path is printed) instead of deleting it.",
)
@json_option
@click.pass_context
def demo(ctx: click.Context, shots: int, qubits: int, seed: int, keep_cache: bool) -> None:
    """Run a Bell circuit on Qiskit, PennyLane and Cirq, cached and replayed.

    Starts an embedded local orchestrator, runs the circuit written natively in each
    framework, runs it again to show the cache answering with no request, then stops the
    server and replays all three offline. Needs no account, and never touches your own
    cache or config. Frameworks that are not installed are skipped.

    \b
    Examples:
      qpi demo
      qpi demo --qubits 3 --shots 4000
      qpi demo --keep-cache && qpi cache list --cache-dir <printed path>
    """
    from qpi.cli.frameworks import FRAMEWORKS
    from qpi.client import QPIClient

    LocalServer = local_server_class()

    started = time.perf_counter()
    as_json = options_of(ctx).json
    say = _Printer(not as_json)
    state = "a Bell state" if qubits == 2 else f"a {qubits}-qubit GHZ state"
    say(f"qpi demo · {state} on Qiskit, PennyLane and Cirq · {shots} shots each")
    say("")

    work = Path(tempfile.mkdtemp(prefix="qpi-demo-"))
    cache_dir = work / "cache"
    report: dict[str, Any] = {"qubits": qubits, "shots": shots, "seed": seed}
    failed: Outcome | None = None
    server = None
    try:
        say("▸ Starting an embedded local orchestrator … ", nl=False)
        t = time.perf_counter()
        server = LocalServer(data_dir=work / "server", seed=seed).start()
        url, token = server.url, server.api_token
        say(f"{url} ({format_seconds(time.perf_counter() - t)})")
        say(f"  data and cache in {work} (your own cache is not touched)")

        say("▸ Loading the frameworks … ", nl=False)
        t = time.perf_counter()
        ready, loaded, skipped = _load(FRAMEWORKS)
        say(f"{' · '.join(loaded) or 'none'} ({format_seconds(time.perf_counter() - t)})")
        for name, reason in skipped.items():
            say(f"  {name} skipped: {reason}")
        report["skipped"] = skipped
        report["server_url"] = url

        client_options = {"cache": str(cache_dir), "profile": False}
        with QPIClient(url, token, cache_mode="reuse", **client_options) as client:
            recorder = SubmissionRecorder()
            client.plugins.register(recorder, name="qpi-demo-recorder")

            say("")
            say("1 · Each framework sends its circuit to the server")
            if not ready:
                say("  No framework is installed: pip install 'qpi-sdk[all]'")
            first = _run_all(ready, client, recorder, qubits, shots)
            say.lines(_outcome_table(first))
            columns = {o.framework: o.counts for o in first if o.counts is not None}
            if columns:
                say("")
                say.lines(comparison_chart(columns))

            before = len(client.list_jobs())
        # A new client is a rerun of the script: the k-th run gets the k-th stored result.
        # (Repeated runs inside one client are fresh samples, as estimators expect.)
        with QPIClient(url, token, cache_mode="reuse", **client_options) as client:
            recorder = SubmissionRecorder()
            client.plugins.register(recorder, name="qpi-demo-recorder")
            say("")
            say("2 · The same script again (a new session): the cache answers")
            second = _run_all(ready, client, recorder, qubits, shots)
            after = len(client.list_jobs())
            say.lines(_outcome_table(second, compare=first))
            new = after - before
            verdict = "run 2 submitted nothing" if new == 0 else f"run 2 submitted {new} job(s)"
            say(f"  jobs on the server: {before} before run 2, {after} after: {verdict}")
            report["server_jobs"] = {"before": before, "after": after}

        say("")
        say("3 · Server stopped; replaying offline (cache_mode='replay')")
        server.stop()
        with QPIClient(url, token, cache_mode="replay", **client_options) as offline:
            recorder = SubmissionRecorder()
            offline.plugins.register(recorder, name="qpi-demo-recorder")
            third = _run_all(ready, offline, recorder, qubits, shots)
        say.lines(_outcome_table(third, compare=first))
        say("  no request was made: replay mode refuses to touch the network")

        report["runs"] = {
            "server": [asdict(o) for o in first],
            "cache": [asdict(o) for o in second],
            "replay": [asdict(o) for o in third],
        }
        report["replay_identical"] = all(
            a.counts is not None and a.counts == b.counts for a, b in zip(first, third)
        )
        failed = next((o for o in (*first, *second, *third) if o.error), None)
        say("")
        say.lines(_summary(qubits, shots, [f.name for f in ready]))
    finally:
        if server is not None:
            server.stop()
        if keep_cache:
            shutil.rmtree(work / "server", ignore_errors=True)
        else:
            shutil.rmtree(work, ignore_errors=True)

    total = time.perf_counter() - started
    report["seconds"] = round(total, 3)
    report["cache_dir"] = str(cache_dir) if keep_cache else None
    if as_json:
        emit_json(report)
    else:
        if keep_cache:
            say("")
            say(f"The demo's cache is kept in {cache_dir}; look inside with")
            say(f"  qpi cache list --cache-dir {cache_dir}")
        say("")
        say(f"Done in {format_seconds(total)}.")
    if failed is not None:
        click.echo(f"Error: {failed.framework} failed: {failed.error}", err=True)
        ctx.exit(failed.exit_code or ExitCode.OTHER)
