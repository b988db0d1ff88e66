"""What the submit route refuses at once: jobs that could never run on their QPU.

Every circuit is counted with [`check_bounds`][qpi.qasm3.check_bounds] (no expansion, linear
in the text) against the QPU's limits: the qubits that fit in the simulators' memory limit,
and the operations a circuit may expand to. A job over them is answered with 400 and the
numbers, instead of being stored and failing later (or, worse, holding a worker). Text that is
not even valid OpenQASM is left to the worker, which fails the job with the parse error, as
the real driver does.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from qpi.qasm3 import QasmError, QasmLimitError, check_bounds
from qpi.server.config import ServerConfig
from qpi.server.errors import ErrorResponse, field_error
from qpi.server.store import Store

__all__ = ["admit", "qpu_qubits"]


def qpu_qubits(qpu: Mapping[str, Any] | None, config: ServerConfig) -> int:
    """The widest circuit a QPU runs here: its own size, within what memory holds."""
    own = (qpu or {}).get("num_qubits") or config.max_qubits
    return min(own, config.max_qubits)


def _target(store: Store, qpu_target: str | None) -> dict[str, Any] | None:
    if qpu_target:
        return store.get("qpus", qpu_target)
    # No target: the scheduler routes the job to the first QPU taking jobs.
    rows = store.query(
        "SELECT * FROM qpus WHERE enabled = 1 AND status = 'online' ORDER BY created, rowid LIMIT 1"
    )
    return rows[0] if rows else None


def admit(store: Store, config: ServerConfig, payload: Mapping[str, Any]) -> None:
    """Refuse a stored-to-be payload that its QPU could never run.

    Raises:
        ErrorResponse: 400, naming the circuit, what is too large and the limits.
    """
    qpu = _target(store, payload.get("qpu_target"))
    qubits = qpu_qubits(qpu, config)
    limits = config.parse_limits(qubits)
    for index, item in enumerate(payload.get("circuits") or ()):
        try:
            check_bounds(item["circuit"], limits)
        except QasmLimitError as exc:
            name = (qpu or {}).get("name", "the default QPU")
            why = (
                f" (what the simulators' memory limit of "
                f"{(config.memory_limit or 0) / 2**30:.1f} GiB holds)"
                if qubits == config.max_qubits
                else ""
            )
            message = (
                f"Circuit at index {index} is too large for QPU {name!r}: {exc}. It runs at "
                f"most {qubits} qubits{why} and {config.max_instructions} operations per "
                "circuit."
            )
            raise ErrorResponse(
                400, message, {"circuits": field_error("validation_too_large", message)}
            ) from None
        except QasmError:
            continue  # malformed: the job fails with the parser's message when it runs
