"""What a job may take: qubits from the machine's memory, and a job's estimated cost.

One place for the numbers the scheduler, the submit route and the executors share:

* [`machine_memory`][qpi.server.limits.machine_memory] and
  [`MEMORY_FRACTION`][qpi.server.limits.MEMORY_FRACTION] give the default memory budget of the
  simulators (half the machine: the rest is headroom for the server, the OS and other work).
* [`max_qubits`][qpi.server.limits.max_qubits] is the widest state that budget holds (a
  24 GiB machine: 28 qubits).
* [`estimate`][qpi.server.limits.estimate] counts a payload without expanding it (qubits,
  operations, shots, rows) and says how much memory and work the job needs,
  so the scheduler can send short
  jobs past long ones and the submit route can refuse what can never fit.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from qpi.qasm3 import ParseLimits, QasmError, check_bounds

__all__ = [
    "BYTES_PER_AMPLITUDE",
    "MEMORY_FRACTION",
    "WORKER_BASELINE_BYTES",
    "Estimate",
    "estimate",
    "machine_memory",
    "max_qubits",
    "state_bytes",
]

#: Share of the machine's memory the simulators may use together, by default.
MEMORY_FRACTION = 0.5
#: Peak bytes per amplitude of a simulation: the complex128 state, plus the probabilities and
#: the sampling's working arrays (measured peak of both engines: under 3 states' worth).
BYTES_PER_AMPLITUDE = 48
#: Memory a worker holds before any state: the interpreter, numpy, Qiskit and Aer.
WORKER_BASELINE_BYTES = 256 << 20
#: Assumed when the machine does not say how much memory it has.
_FALLBACK_MEMORY = 8 << 30

_UNLIMITED = ParseLimits(
    max_qubits=1 << 62, max_clbits=1 << 62, max_instructions=1 << 62, max_gate_depth=1 << 62
)


def machine_memory() -> int:
    """Physical memory of this machine in bytes (8 GiB if the OS does not say)."""
    try:
        return os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    except (AttributeError, ValueError, OSError):  # not POSIX
        return _FALLBACK_MEMORY


def state_bytes(num_qubits: int) -> int:
    """Peak memory of simulating ``num_qubits`` qubits (one row at a time)."""
    return BYTES_PER_AMPLITUDE << max(num_qubits, 0)


def max_qubits(memory_limit: int) -> int:
    """The widest circuit a job may simulate within ``memory_limit`` bytes."""
    room = memory_limit - WORKER_BASELINE_BYTES
    qubits = 0
    while state_bytes(qubits + 1) <= room:
        qubits += 1
    return qubits


@dataclass(frozen=True)
class Estimate:
    """What a job will need, read off its payload without parsing the programs.

    Attributes:
        qubits: Qubits of its widest circuit (declared registers).
        memory: Peak bytes of its widest simulation.
        work: A relative amount of work: amplitudes times statements, plus shots, summed over
            circuits and rows. Only comparisons between jobs mean anything.
    """

    qubits: int
    memory: int
    work: float


def estimate(payload: Mapping[str, Any]) -> Estimate:
    """The cost of a stored job payload (reference §6.2); never raises.

    Programs are counted with [`check_bounds`][qpi.qasm3.check_bounds] (no limits: the
    submit route has already refused what is over them); one it cannot read counts as wide.
    """
    widest, work = 0, 0.0
    circuits = payload.get("circuits")
    job_shots = payload.get("shots") or 1024
    for item in circuits if isinstance(circuits, list) else ():
        text = item.get("circuit") if isinstance(item, Mapping) else None
        if not isinstance(text, str):
            continue
        try:
            bounds = check_bounds(text, _UNLIMITED)
            qubits, operations = min(bounds.qubits, 64), bounds.operations
            if bounds.while_loops:  # may run for ever: never short work
                operations = float("inf")
        except QasmError:
            qubits, operations = 30, float(text.count(";") + 1)  # unknown: not short work
        rows = item.get("parameter_values") or [None]
        shots = item.get("shots") or job_shots
        widest = max(widest, qubits)
        work += len(rows) * (float(2**qubits) * max(operations, 1) + float(shots))
    return Estimate(widest, state_bytes(widest) + WORKER_BASELINE_BYTES, work)
