"""The built-in QPUs: what a simulator process does with one job's payload.

[`run_job`][qpi.server.executors.run_job] runs in a worker process of the scheduler's pool and
returns what a QPI
driver would send back (reference §3.7): ``{"shots", "backend", "success", "circuit_results",
"counts"|"memory"}``, results flattened circuit by circuit then row by row, or
``{"error": "<message>"}`` when the job cannot run.

* ``mock`` parses OpenQASM 3 with [`qpi.qasm3.parse`][qpi.qasm3.parse] and samples the exact state
  with
  [`qpi.server.statevector.run_circuit`][qpi.server.statevector.run_circuit]. Programs the parser
  does not cover (OpenQASM 2
  included) fall back to Qiskit's loaders and ``BasicSimulator``.
* ``qiskit_aer`` loads with Qiskit and runs on ``AerSimulator``.

Rows bind positionally in the sorted order of the input names, as the real driver binds them
(Qiskit sorts a loaded circuit's parameters by name). Several classical registers are
flattened into one bitstring, clbit 0 rightmost. Qiskit is imported lazily, here only.
"""

from __future__ import annotations

import contextlib
import dataclasses
import os
import re
import signal
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import numpy as np

from qpi import qasm3
from qpi.server import statevector
from qpi.server.statevector import iq_memory

__all__ = [
    "MAX_MEMORY_VALUES",
    "PRELOAD",
    "build_result",
    "init_worker",
    "run_job",
    "warm_up",
]

#: Modules the worker processes import once, in the fork server, before any job.
PRELOAD: tuple[str, ...] = (
    "numpy",
    "qpi.circuit",
    "qpi.qasm3",
    "qpi.server.statevector",
    "qpi.server.executors",
    "qiskit",
    "qiskit.qasm2",
    "qiskit.qasm3",
    "qiskit.providers.basic_provider",
)
#: Largest number of IQ pairs a job may return at meas_level 1 (keeps results loadable).
MAX_MEMORY_VALUES = 1 << 20

_VERSION = re.compile(r"OPENQASM\s+([23])(?:\.\d+)?\s*;")
_NO_VERSION = (
    "Failed to parse QASM circuit: missing or unrecognized OPENQASM version header, "
    "expected 'OPENQASM 2.0;' or 'OPENQASM 3.0;'"
)


@dataclasses.dataclass(frozen=True)
class _Limits:
    max_qubits: int
    max_shots: int


@dataclasses.dataclass(frozen=True)
class _Experiment:
    """One circuit of the payload, checked and ready to run."""

    index: int
    text: str
    version: int
    rows: list[list[float]] | None
    shots: int
    meas_level: int
    meas_return: str


def init_worker() -> None:
    """Set up a worker process: Ctrl-C is for the server, which ends its workers itself."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)


def warm_up() -> int:
    """Import what jobs need, so the first job does not pay for it. Returns the worker pid."""
    for name in PRELOAD[:5]:
        # A missing native module is fine: the Qiskit path covers it.
        with contextlib.suppress(ImportError):
            __import__(name)
    return os.getpid()


def run_job(
    payload: Mapping[str, Any],
    *,
    executor_type: str,
    backend_name: str,
    seed: int,
    max_qubits: int,
    max_shots: int,
) -> dict[str, Any]:
    """Run one job's payload; never raises.

    Args:
        payload: The stored job payload (reference §6.2).
        executor_type: ``"mock"`` or ``"qiskit_aer"``.
        backend_name: The ``backend`` reported in the result.
        seed: Seed of the job's random generator.
        max_qubits: Largest circuit the QPU accepts.
        max_shots: Largest shot count per circuit.

    Returns:
        The driver-shaped result, or ``{"error": message}``.
    """
    try:
        limits = _Limits(max_qubits, max_shots)
        experiments = _experiments(payload, limits)
        rng = np.random.default_rng(seed)
        run = _run_mock if executor_type == "mock" else _run_aer
        entries: list[dict[str, Any]] = []
        for experiment in experiments:
            entries.extend(run(experiment, rng, limits))
    except ValueError as exc:
        return {"error": str(exc)}
    except MemoryError:
        return {"error": "The simulator ran out of memory; use fewer qubits or shots."}
    except Exception as exc:  # a worker must answer, whatever a circuit does to a library
        return {"error": f"{type(exc).__name__}: {exc}"}
    return build_result(entries, backend_name)


def build_result(entries: list[dict[str, Any]], backend_name: str) -> dict[str, Any]:
    """Wrap per-experiment entries in the driver's job result shape."""
    first = entries[0]
    result: dict[str, Any] = {
        "shots": first.get("shots", 0),
        "backend": backend_name.replace("-", "_"),
        "success": True,
        "circuit_results": entries,
    }
    for key in ("counts", "memory"):
        if key in first:
            result[key] = first[key]
            break
    return result


# -- the payload ------------------------------------------------------------------------------


def _experiments(payload: Mapping[str, Any], limits: _Limits) -> list[_Experiment]:
    circuits = payload.get("circuits")
    if not isinstance(circuits, list) or not circuits:
        raise ValueError("The job has no circuits.")
    meas_level = payload.get("meas_level", 2)
    meas_return = payload.get("meas_return", "single")
    if meas_level not in (0, 1, 2):
        raise ValueError(f"meas_level must be 0, 1, or 2, got {meas_level}")
    if meas_level == 0:
        raise ValueError(
            "meas_level 0 (raw traces) needs hardware; the simulators support 1 and 2."
        )
    if meas_return not in ("single", "avg"):
        raise ValueError(f"meas_return must be 'single' or 'avg', got {meas_return!r}")
    job_shots = payload.get("shots") or 1024
    return [
        _experiment(index, item, job_shots, meas_level, meas_return, limits)
        for index, item in enumerate(circuits)
    ]


def _experiment(
    index: int,
    item: Any,
    job_shots: int,
    meas_level: int,
    meas_return: str,
    limits: _Limits,
) -> _Experiment:
    text = item.get("circuit") if isinstance(item, Mapping) else None
    if not isinstance(text, str) or not text.strip():
        raise ValueError(f"Circuit at index {index} has an empty circuit string.")
    match = _VERSION.search(text)
    if match is None:
        raise ValueError(_NO_VERSION)
    shots = item.get("shots") or job_shots
    if shots > limits.max_shots:
        raise ValueError(
            f"Circuit at index {index} asks for {shots} shots; the local simulators run at "
            f"most {limits.max_shots} shots per circuit."
        )
    rows = item.get("parameter_values") or None
    return _Experiment(index, text, int(match.group(1)), rows, shots, meas_level, meas_return)


def _check_rows(experiment: _Experiment, names: Sequence[str]) -> list[list[float]]:
    """The rows to run: one per binding set, checked against the circuit's inputs."""
    where = f"Circuit at index {experiment.index}"
    if not names:
        # Like the driver: a circuit without inputs still runs once per row it was sent.
        return [[] for _ in experiment.rows or [None]]
    if not experiment.rows:
        raise ValueError(
            f"{where} has parameters ({', '.join(names)}) but no parameter_values; send one "
            f"row of {len(names)} values per binding."
        )
    for number, row in enumerate(experiment.rows):
        if len(row) != len(names):
            raise ValueError(
                f"{where}: parameter row {number} has {len(row)} values but the circuit has "
                f"{len(names)} parameters ({', '.join(names)}), bound in this (sorted) order."
            )
    return [list(map(float, row)) for row in experiment.rows]


def _check_qubits(experiment: _Experiment, num_qubits: int, limits: _Limits) -> None:
    if num_qubits > limits.max_qubits:
        raise ValueError(
            f"Circuit at index {experiment.index} uses {num_qubits} qubits; this QPU "
            f"simulates at most {limits.max_qubits}."
        )


def _check_memory(experiment: _Experiment, num_clbits: int, rows: int) -> None:
    if experiment.meas_level != 1 or experiment.meas_return == "avg":
        return
    if experiment.shots * max(num_clbits, 1) * rows > MAX_MEMORY_VALUES:
        raise ValueError(
            f"Circuit at index {experiment.index}: meas_level 1 with meas_return 'single' "
            f"would return {experiment.shots * num_clbits * rows} IQ points; the limit is "
            f"{MAX_MEMORY_VALUES}. Use fewer shots or meas_return 'avg'."
        )


# -- mock: our parser and statevector, Qiskit's BasicSimulator for the rest --------------------


def _run_mock(
    experiment: _Experiment, rng: np.random.Generator, limits: _Limits
) -> list[dict[str, Any]]:
    if experiment.version != 3:
        return _run_qiskit(experiment, rng, limits, _basic_simulator)
    try:
        entries = _run_native(experiment, rng, limits)
    except _NativeSyntaxError as exc:
        # Our parser is the stricter one: let Qiskit have a go before failing the job, and
        # report our message (it has the line and column) if Qiskit refuses it too.
        try:
            return _run_qiskit(experiment, rng, limits, _basic_simulator)
        except _LoadError:
            raise ValueError(f"Failed to parse QASM circuit: {exc}") from None
    if entries is not None:
        return entries
    return _run_qiskit(experiment, rng, limits, _basic_simulator)


class _NativeSyntaxError(Exception):
    """Our parser found the program malformed."""


class _LoadError(ValueError):
    """Qiskit could not load the program (the message is the job's error)."""


def _run_native(
    experiment: _Experiment, rng: np.random.Generator, limits: _Limits
) -> list[dict[str, Any]] | None:
    """Run with our parser and statevector; ``None`` when they do not cover the program."""
    try:
        circuit = qasm3.parse(experiment.text)
    except qasm3.QasmUnsupportedError:
        return None
    except qasm3.QasmError as exc:
        raise _NativeSyntaxError(str(exc)) from None
    _check_qubits(experiment, circuit.num_qubits, limits)
    names = sorted(circuit.input_names())
    rows = _check_rows(experiment, names)
    _check_memory(experiment, circuit.num_clbits, len(rows))
    # Rows are in sorted-name order (the driver's order), so the circuit is told so.
    circuit = dataclasses.replace(circuit, parameters=names)
    return statevector.run_circuit(
        circuit,
        rows,
        experiment.shots,
        meas_level=experiment.meas_level,
        meas_return=experiment.meas_return,
        rng=rng,
    )


# -- Qiskit ------------------------------------------------------------------------------------


def _basic_simulator(seed: int) -> Any:
    from qiskit.providers.basic_provider import BasicSimulator

    return BasicSimulator()


def _aer_simulator(seed: int) -> Any:
    try:
        from qiskit_aer import AerSimulator
    except ImportError:
        raise ValueError(
            "The qiskit_aer QPU needs the qiskit-aer package: pip install 'qpi-sdk[aer]'."
        ) from None
    return AerSimulator(seed_simulator=seed)


def _run_aer(
    experiment: _Experiment, rng: np.random.Generator, limits: _Limits
) -> list[dict[str, Any]]:
    return _run_qiskit(experiment, rng, limits, _aer_simulator)


def _load_qiskit(experiment: _Experiment) -> Any:
    try:
        if experiment.version == 3:
            from qiskit import qasm3

            return qasm3.loads(experiment.text)
        from qiskit import qasm2

        # The legacy instructions let qasm2.dumps output (sx, rzz, ...) load as well.
        return qasm2.loads(experiment.text, custom_instructions=qasm2.LEGACY_CUSTOM_INSTRUCTIONS)
    except Exception as exc:  # each loader has its own error types
        raise _LoadError(f"Failed to parse QASM circuit: {exc}") from None


def _run_qiskit(
    experiment: _Experiment,
    rng: np.random.Generator,
    limits: _Limits,
    make_backend: Callable[[int], Any],
) -> list[dict[str, Any]]:
    try:
        from qiskit import transpile
    except ImportError:
        raise _LoadError(
            "Running this program needs Qiskit on the server (OpenQASM 2, or what the built-in "
            "simulator does not cover): pip install 'qpi-sdk[aer]'"
        ) from None

    circuit = _load_qiskit(experiment)
    _check_qubits(experiment, circuit.num_qubits, limits)
    parameters = list(circuit.parameters)  # Qiskit's order: sorted by name
    rows = _check_rows(experiment, [p.name for p in parameters])
    _check_memory(experiment, circuit.num_clbits, len(rows))
    entries = []
    for row in rows:
        bound = circuit.assign_parameters(row) if parameters else circuit
        seed = int(rng.integers(2**31))
        backend = make_backend(seed)
        compiled = transpile(bound, backend, optimization_level=0, seed_transpiler=seed)
        result = backend.run(
            compiled,
            shots=experiment.shots,
            seed_simulator=seed,
            memory=experiment.meas_level == 1,
        ).result()
        entries.append(_qiskit_entry(experiment, result, circuit.num_clbits, rng))
    return entries


def _qiskit_entry(
    experiment: _Experiment, result: Any, num_clbits: int, rng: np.random.Generator
) -> dict[str, Any]:
    if num_clbits == 0:
        return {"counts": {}, "shots": experiment.shots}
    if experiment.meas_level == 2:
        counts: dict[str, int] = {}
        for key, value in result.get_counts(0).items():
            flat = key.replace(" ", "")  # registers flattened, clbit 0 stays rightmost
            counts[flat] = counts.get(flat, 0) + int(value)
        return {"counts": counts, "shots": experiment.shots}
    shots = [key.replace(" ", "") for key in result.get_memory(0)]
    bits = np.array([[int(s[-1 - i]) for i in range(num_clbits)] for s in shots], dtype=np.intp)
    return {"memory": iq_memory(bits, experiment.meas_return, rng), "shots": experiment.shots}
