"""The real QPU driver's behaviour around our simulators (strict mode).

The real Python driver (``qpi-driver/py``, v0.1.2) loads every circuit with Qiskit before
running it, and its result builder has quirks this SDK must survive.
[`run_job`][qpi.server.strict.driver.run_job] runs a job the way it would, then calls the
normal executors for the sampling:

* OpenQASM 2 is loaded with Qiskit's strict loader (only ``qelib1.inc`` gates); OpenQASM 3
  with ``qiskit.qasm3.loads``. Failures read "Failed to parse QASM circuit: ...".
* A circuit with more than one classical register fails with
  "could not convert string to float: ' '" (the driver parses Qiskit's space-separated
  memory strings bit by bit).
* A circuit with no classical bits gives ``{"raw": ..., "shots": 0}`` on ``mock`` and fails on
  ``qiskit_aer`` (Aer keeps no memory for it).
* Control flow fails on ``mock`` (Qiskit's ``BasicSimulator`` has none); ``meas_level`` 0
  fails on both simulators.
* Counts carry all 2^n keys, zero counts included.

Errors of any other type than ``ValueError`` reach the user as
"<Type>: job execution failed, see driver logs for details", as the driver sanitises them.
Results bigger than the real server stores are returned as an
[`OVERSIZED`][qpi.server.strict.limits.OVERSIZED] marker: the strict scheduler then keeps the
job ``running``, as the real server does when saving them fails.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from typing import Any

from qpi.server import executors
from qpi.server.strict.limits import JSON_FIELD_MAX_BYTES, OVERSIZED

__all__ = ["driver_failure", "pad_counts", "run_job"]

_VERSION = re.compile(r"OPENQASM\s+([23])(?:\.\d+)?\s*;")
_NO_VERSION = (
    "Failed to parse QASM circuit: missing or unrecognized OPENQASM version header, "
    "expected 'OPENQASM 2.0;' or 'OPENQASM 3.0;'"
)
_SANITISED = "{}: job execution failed, see driver logs for details"
_REGISTERS = "could not convert string to float: ' '"
_ROW_LENGTH = (
    "Mismatching number of values and parameters. For partial binding please pass a mapping "
    "of {parameter: value} pairs."
)


def run_job(payload: Mapping[str, Any], *, executor_type: str, **options: Any) -> dict[str, Any]:
    """Run one job as the real driver would (arguments as ``executors.run_job``); never raises."""
    try:
        failure = driver_failure(payload, executor_type)
    except Exception as exc:  # the driver turns every exception into a failed job
        failure = str(exc) if isinstance(exc, ValueError) else _SANITISED.format(type(exc).__name__)
    if failure is not None:
        return {"error": failure}
    result = executors.run_job(payload, executor_type=executor_type, **options)
    if "error" in result:
        return result
    return pad_counts(result, payload, executor_type)


def driver_failure(payload: Mapping[str, Any], executor_type: str) -> str | None:
    """Why the real driver fails this payload, or ``None`` when it runs it."""
    meas_level = payload.get("meas_level", 2)
    circuits = payload.get("circuits") or []
    for index, entry in enumerate(circuits):
        text = entry.get("circuit") if isinstance(entry, Mapping) else None
        if not text:
            return f"Circuit at index {index} has an empty circuit string."
    if meas_level == 0:
        return _SANITISED.format("NotImplementedError")
    for entry in circuits:
        failure = _circuit_failure(entry, executor_type)
        if failure is not None:
            return failure
    return None


def _load(text: str) -> Any:
    """Load QASM as the driver's ``load_qasm`` does (strict OpenQASM 2)."""
    found = _VERSION.search(text)
    if found is None:
        raise ValueError(_NO_VERSION)
    version = int(found.group(1))
    try:
        if version == 3:
            from qiskit import qasm3

            return qasm3.loads(text)
        from qiskit import qasm2

        return qasm2.loads(text, strict=True)
    except Exception as exc:
        raise ValueError(f"Failed to parse QASM circuit: {exc}") from None


def _circuit_failure(entry: Mapping[str, Any], executor_type: str) -> str | None:
    circuit = _load(entry["circuit"])
    rows = entry.get("parameter_values") or []
    if circuit.parameters and not rows:
        return _SANITISED.format("TypeError")
    if circuit.parameters and any(len(row) != len(circuit.parameters) for row in rows):
        return _ROW_LENGTH
    if circuit.num_clbits == 0 and executor_type != "mock":
        return _SANITISED.format("QiskitError")
    if executor_type == "mock" and circuit.has_control_flow_op():
        return _SANITISED.format("TranspilerError")
    if len(circuit.cregs) > 1:
        return _REGISTERS
    return None


def pad_counts(
    result: dict[str, Any], payload: Mapping[str, Any], executor_type: str
) -> dict[str, Any]:
    """Give every counts dict all 2^n keys (and clbit-less mock circuits the ``raw`` entry).

    Returns [`OVERSIZED`][qpi.server.strict.limits.OVERSIZED] instead of building results the
    real server could not store (a JSON field holds at most 1 MiB).
    """
    entries = []
    for entry in result["circuit_results"]:
        counts = entry.get("counts")
        if counts is None:
            entries.append(entry)
            continue
        if not counts or next(iter(counts)) == "":  # no classical bits (mock only gets here)
            entries.append({"raw": "<xarray.Dataset> Size: 0B\nDimensions: ()", "shots": 0})
            continue
        width = len(next(iter(counts))) if counts else 0
        if (1 << width) * (width + 6) > 2 * JSON_FIELD_MAX_BYTES:
            return dict(OVERSIZED)
        padded = {format(value, f"0{width}b"): 0 for value in range(1 << width)}
        padded.update(counts)
        entries.append({**entry, "counts": padded})
    out = executors.build_result(entries, result["backend"])
    if len(json.dumps(out, separators=(",", ":"))) > JSON_FIELD_MAX_BYTES:
        return dict(OVERSIZED)
    return out
