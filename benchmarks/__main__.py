"""Run the benchmarks side by side with what a user would use instead, and print the figures.

    python -m benchmarks                          # everything (about 4 minutes)
    python -m benchmarks --quick                  # smaller, shorter (about 75 seconds)
    python -m benchmarks --only latency sweep     # some of them
    python -m benchmarks --json figures.json      # also write every row as JSON
    python -m benchmarks --markdown               # tables to paste into benchmarks/README.md

One ``LocalServer`` (fixed seed) is started and shared by every benchmark whose ``run``
takes a ``server``; each ``benchmarks/bench_*.py`` module is a benchmark, run in the order
below (unknown ones last, by name). A benchmark that fails is reported and the others still
run; the exit status is then 1.
"""

from __future__ import annotations

import argparse
import importlib
import inspect
import json
import os
import platform
import sys
import time
import traceback
from pathlib import Path
from typing import Any

from benchmarks._common import (
    SEED,
    describe_load,
    format_ratio,
    format_value,
    load_average,
    markdown_table,
    row,
    table,
    verdict,
)

#: Benchmarks in the order they run: (name, module, title). The issue's numbering is kept.
BENCHMARKS: tuple[tuple[str, str, str], ...] = (
    ("latency", "bench_latency", "1. Small-job latency"),
    ("sweep", "bench_sweep", "2. Parameter sweep"),
    ("gradient", "bench_gradient", "3. Gradient"),
    ("cache", "bench_cache", "4. Cache replay"),
    ("serialisation", "bench_qasm3", "5. Serialisation: qpi.qasm3"),
    ("serialisation", "bench_qiskit_dumps", "5b. Serialisation: the Qiskit plugin's path"),
    ("throughput", "bench_throughput", "6. Orchestrator throughput"),
    ("server", "bench_server", "LocalServer start, stop and raw HTTP latency"),
    ("request_path", "bench_request_path", "10. Request path: server CPU per job, throughput"),
    ("completion", "bench_completion", "11. Completion delay by job length"),
)
#: Other spellings accepted by ``--only``.
ALIASES = {"serialization": "serialisation", "qasm3": "bench_qasm3"}


def discover() -> list[tuple[str, str, str]]:
    """Every benchmark: the known ones in order, then any other ``bench_*.py`` by name."""
    known = {module for _, module, _ in BENCHMARKS}
    extra = sorted(
        path.stem for path in Path(__file__).parent.glob("bench_*.py") if path.stem not in known
    )
    return [*BENCHMARKS, *((m.removeprefix("bench_"), m, m) for m in extra)]


def select(only: list[str] | None) -> list[tuple[str, str, str]]:
    """The benchmarks ``--only`` names (by name, module, or module without ``bench_``).

    Raises:
        SystemExit: For a name that matches no benchmark.
    """
    available = discover()
    if not only:
        return available
    chosen = []
    for raw in only:
        key = ALIASES.get(raw, raw)
        matches = [b for b in available if key in (b[0], b[1], b[1].removeprefix("bench_"))]
        if not matches:
            names = sorted({b[0] for b in available})
            raise SystemExit(f"no benchmark named {raw!r}; choose from {', '.join(names)}")
        chosen.extend(m for m in matches if m not in chosen)
    return [b for b in available if b in chosen]


def call_run(module: Any, server: Any, quick: bool) -> list[dict[str, Any]]:
    """Call ``module.run`` with the keywords it takes (``server``, ``quick``)."""
    accepted = inspect.signature(module.run).parameters
    kwargs = {"server": server, "quick": quick}
    return module.run(**{k: v for k, v in kwargs.items() if k in accepted})


def judge(module: str, rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The rows with the issue's targets attached, for modules that do not set their own.

    The gradient module reports its job counts as extra fields; they become a row here.
    """
    out = []
    for r in rows:
        out.append(r)
        if "target" in r:
            continue
        if module == "bench_qasm3" and r["name"].startswith("dumps"):
            r["target"], r["passed"] = ">= 10x", (r["ratio"] or 0) >= 10
        elif module == "bench_gradient":
            r["target"], r["passed"] = "ahead", (r["ratio"] or 0) > 1
            if "qpi_jobs" in r:
                jobs = row(
                    f"{r['name']}: jobs",
                    r["qpi_jobs"],
                    r.get("baseline_jobs"),
                    r["baseline_name"],
                    unit="jobs",
                    target="2 (the forward pass, then every shifted tape)",
                    passed=r["qpi_jobs"] == 2,
                )
                r["name"] = f"{r['name']}: wall time"
                out.append(jobs)
    return out


def needs_server(module: Any) -> bool:
    """Whether ``module.run`` takes a ``server``."""
    return "server" in inspect.signature(module.run).parameters


def machine() -> dict[str, Any]:
    """What the figures were measured on."""
    return {
        "cpus": os.cpu_count(),
        "platform": platform.platform(),
        "processor": platform.processor() or platform.machine(),
        "python": platform.python_version(),
    }


def main(argv: list[str] | None = None) -> int:
    """Run the chosen benchmarks, print a table per benchmark and a summary; 0 if all ran."""
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks", description="Run the benchmarks side by side."
    )
    parser.add_argument("--only", nargs="+", metavar="NAME", help="run only these benchmarks")
    parser.add_argument("--quick", action="store_true", help="smaller and shorter runs")
    parser.add_argument("--json", metavar="PATH", help="write every row, with context, as JSON")
    parser.add_argument("--markdown", action="store_true", help="print Markdown tables too")
    parser.add_argument("--list", action="store_true", help="list the benchmarks and exit")
    args = parser.parse_args(argv)
    chosen = select(args.only)
    if args.list:
        for name, module, title in chosen:
            print(f"{name:<14} {module:<20} {title}")
        return 0

    modules = {module: importlib.import_module(f"benchmarks.{module}") for _, module, _ in chosen}
    command = " ".join(["python -m benchmarks", *(argv if argv is not None else sys.argv[1:])])
    report: dict[str, Any] = {
        "command": command,
        "machine": machine(),
        "started": time.strftime("%Y-%m-%d %H:%M:%S"),
        "quick": args.quick,
        "benchmarks": [],
    }
    print(f"{command}\nmachine: {report['machine']}")
    server = None
    failed = False
    try:
        if any(needs_server(m) for m in modules.values()):
            from qpi.server import LocalServer

            server = LocalServer(seed=SEED).start()
            print(f"LocalServer at {server.url} (seed {SEED})")
        for name, module, title in chosen:
            entry = _run_one(name, module, title, modules[module], server, args)
            failed = failed or "error" in entry
            report["benchmarks"].append(entry)
    finally:
        if server is not None:
            server.stop()
    _summary(report["benchmarks"])
    if args.json:
        Path(args.json).write_text(json.dumps(report, indent=2, default=str) + "\n")
        print(f"\nwrote {args.json}")
    return 1 if failed else 0


def _run_one(
    name: str, module: str, title: str, mod: Any, server: Any, args: argparse.Namespace
) -> dict[str, Any]:
    load_before = load_average()
    began = time.perf_counter()
    entry: dict[str, Any] = {"name": name, "module": module, "title": title}
    try:
        rows = call_run(mod, server if needs_server(mod) else None, args.quick)
    except Exception:
        entry["error"] = traceback.format_exc()
        print(f"\n== {title}: FAILED\n{entry['error']}", file=sys.stderr)
        return entry
    rows = judge(module, rows)
    entry.update(
        rows=rows,
        seconds=time.perf_counter() - began,
        load_before=load_before,
        load_after=load_average(),
    )
    print(
        f"\n== {title}  ({module}, {entry['seconds']:.0f} s; load average "
        f"{describe_load(load_before)} before, {describe_load(entry['load_after'])} after)"
    )
    print(table(rows))
    for r in rows:
        if r.get("note"):
            print(f"  note, {r['name']}: {r['note']}")
    if args.markdown:
        print("\n" + markdown_table(rows))
    return entry


def _summary(entries: list[dict[str, Any]]) -> None:
    """One line per row that has a target, and the failures."""
    lines = [
        (
            e["title"].split(":")[0],
            r["name"],
            r["target"],
            format_value(r["qpi"], r.get("unit", "s")),
            format_value(r["baseline"], r.get("unit", "s")),
            format_ratio(r["ratio"]),
            verdict(r),
        )
        for e in entries
        for r in e.get("rows", [])
        if r.get("target") is not None
    ]
    print(f"\n== Summary (load average now {describe_load(load_average())})")
    header = ("benchmark", "case", "target", "qpi", "competitor", "ratio", "")
    widths = [max(len(str(x[i])) for x in [header, *lines]) for i in range(len(header))]
    for line in [header, *lines]:
        print("  ".join(str(c).ljust(w) for c, w in zip(line, widths, strict=True)).rstrip())
    for e in entries:
        if "error" in e:
            print(f"FAILED: {e['title']} ({e['module']})")


if __name__ == "__main__":
    sys.exit(main())
