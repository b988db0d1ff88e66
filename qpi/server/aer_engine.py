"""Qiskit Aer as an engine: every circuit and row of a job in one ``AerSimulator.run``.

[`run`][qpi.server.aer_engine.run] takes circuits that are already loaded (each parsed and
transpiled once) with their parameter rows,
and runs them all in one call: rows through Aer's ``parameter_binds``
(bound in C++, no Python loop), circuits as one list, so Aer pays its set-up once and can
spread experiments over threads. [`from_circuit`][qpi.server.aer_engine.from_circuit]
builds the Qiskit circuit of a
[`Circuit`][qpi.circuit.Circuit] directly from our parser's output, gate by gate, which is
much faster than Qiskit's OpenQASM 3 loader for wide circuits the ``mock`` QPU hands over.

Aer samples shots from the exact final state when every measurement is terminal (its
"measure sampling"), with gate fusion for wide circuits: exact sampling, as the ``mock`` QPU
promises. Qiskit is imported when these functions run, never at import time.
"""

from __future__ import annotations

import importlib.util
import math
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from qpi.circuit import Circuit, Expr, ParamValue

__all__ = ["Experiment", "available", "from_circuit", "prepare", "run"]

# Our gate names whose Qiskit method has another name, or other arguments.
_RENAMED: Mapping[str, str] = {
    "CX": "cx",
    "U": "u",
    "u3": "u",
    "phase": "p",
    "u1": "p",
    "cphase": "cp",
}


#: Operations Aer runs as they are, besides its target's gates.
_CONTROL_FLOW = frozenset(
    {"if_else", "while_loop", "for_loop", "switch_case", "break_loop", "continue_loop"}
)


def available() -> bool:
    """Whether Qiskit and Aer are installed here (the ``aer`` extra)."""
    return importlib.util.find_spec("qiskit_aer") is not None


class Experiment:
    """A loaded circuit and its parameter rows (one experiment per row).

    Args:
        circuit: A Qiskit ``QuantumCircuit``.
        rows: One row of values per experiment, in the order of ``parameters``. A circuit
            without parameters runs once per row it was given.
        parameters: The circuit's parameters in row order.
    """

    def __init__(
        self, circuit: Any, rows: Sequence[Sequence[float]], parameters: Sequence[Any]
    ) -> None:
        self.circuit = circuit
        self.rows = [list(row) for row in rows] or [[]]
        self.parameters = list(parameters)

    @property
    def experiments(self) -> int:
        """How many results it gives: one per row."""
        return len(self.rows)


def prepare(experiments: Sequence[Experiment], threads: int) -> None:
    """Transpile, once and together, the circuits that use gates Aer does not run as is.

    Circuits of standard gates and control flow (most of them) are left alone: transpiling
    only unrolls gate definitions Aer would not know.
    """
    from qiskit import transpile
    from qiskit_aer import AerSimulator

    known = set(AerSimulator().target.operation_names) | _CONTROL_FLOW
    todo = [e for e in experiments if not set(e.circuit.count_ops()) <= known]
    if not todo:
        return
    compiled = transpile(
        [e.circuit for e in todo], AerSimulator(), optimization_level=0, num_processes=1
    )
    for experiment, circuit in zip(todo, compiled, strict=True):
        by_name = {p.name: p for p in circuit.parameters}
        experiment.parameters = [by_name.get(p.name, p) for p in experiment.parameters]
        experiment.circuit = circuit


def run(
    experiments: Sequence[Experiment],
    shots: int,
    *,
    memory: bool,
    seed: int,
    threads: int,
) -> list[Any]:
    """Run every experiment in one Aer call.

    Args:
        experiments: The loaded circuits and their rows.
        shots: Shots per experiment.
        memory: Whether to return per-shot outcomes (``get_memory``) instead of counts.
        seed: The simulator's seed (experiment ``k`` is seeded from it by Aer).
        threads: CPU threads Aer may use.

    Returns:
        One entry per experiment, circuit by circuit then row by row: a counts dict (keys
        with registers separated by spaces, as Qiskit gives them), or the list of per-shot
        outcome strings when ``memory`` is set.

    Raises:
        ValueError: If Aer fails a circuit (its message is kept).
    """
    from qiskit_aer import AerSimulator

    simulator = AerSimulator(
        method="statevector", seed_simulator=seed, max_parallel_threads=max(threads, 1)
    )
    circuits, binds = [], []
    for experiment in experiments:
        present = set(experiment.circuit.parameters)  # declared inputs may go unused
        columns = list(zip(*experiment.rows, strict=True))
        bind = {
            p: list(column)
            for p, column in zip(experiment.parameters, columns, strict=False)
            if p in present
        }
        if bind:
            circuits.append(experiment.circuit)
            binds.append(bind)
        else:  # like the driver: once per row it was sent
            circuits.extend([experiment.circuit] * len(experiment.rows))
            binds.extend({} for _ in experiment.rows)
    options: dict[str, Any] = {"shots": shots, "memory": memory}
    if any(binds):
        options["parameter_binds"] = binds
    result = simulator.run(circuits, **options).result()
    if not result.success:
        statuses = {str(getattr(r, "status", "")) for r in result.results if not r.success}
        raise ValueError(f"The simulator failed the circuit: {'; '.join(sorted(statuses))}")
    read: Callable[[int], Any] = result.get_memory if memory else result.get_counts
    return [read(index) for index in range(len(result.results))]


def from_circuit(circuit: Circuit) -> tuple[Any, list[Any]]:
    """The Qiskit circuit of one of ours: same qubits, clbits, gates and named inputs.

    Args:
        circuit: A circuit from [`parse`][qpi.qasm3.parse] (gates of ``stdgates.inc``,
            measurements, resets, barriers).

    Returns:
        A ``QuantumCircuit`` whose parameters are named like the circuit's inputs, and its
        parameters in the order of ``circuit.input_names()``.
    """
    from qiskit import QuantumCircuit
    from qiskit.circuit import Parameter

    names = circuit.input_names()
    parameters = {name: Parameter(name) for name in names}
    out = QuantumCircuit(circuit.num_qubits, circuit.num_clbits)
    for inst in circuit.instructions:
        name = inst.name
        if name == "measure":
            out.measure(inst.qubits[0], inst.clbits[0])
        elif name in ("reset", "barrier"):
            getattr(out, name)(*inst.qubits)
        else:
            params = [_parameter(p, parameters) for p in inst.params]
            if name == "u2":  # u2(φ, λ) = U(π/2, φ, λ)
                name, params = "u", [math.pi / 2, *params]
            getattr(out, _RENAMED.get(name, name))(*params, *inst.qubits)
    return out, [parameters[name] for name in names]


def _parameter(value: ParamValue, parameters: Mapping[str, Any]) -> Any:
    """A gate argument: a float, or a Qiskit parameter expression of the inputs."""
    if not isinstance(value, Expr):
        return float(value)
    if value.op == "param":
        return parameters[value.args[0]]  # type: ignore[index]
    args = [_parameter(arg, parameters) for arg in value.args]  # type: ignore[arg-type]
    if value.op == "neg":
        return -args[0]
    if value.op == "+":
        return args[0] + args[1]
    if value.op == "-":
        return args[0] - args[1]
    if value.op == "*":
        return args[0] * args[1]
    return args[0] / args[1]
