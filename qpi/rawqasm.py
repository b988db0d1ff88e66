"""OpenQASM text given as is (``client.run(text)``), made safe for a real QPI driver.

The real driver (reference: ``qpi-driver/py``, v0.1.2) fails programs that ``qpi serve``
runs: more than one classical register (it reads Qiskit's space-separated memory strings bit
by bit) and OpenQASM 2 gates outside ``qelib1.inc`` (it loads OpenQASM 2 strictly). Such text
is rewritten into a form the driver runs where that keeps its meaning, and refused before
sending otherwise, with the reason and the fix. A circuit without classical bits is sent with
a warning: it has nothing to count (the driver's ``mock`` returns no counts, its
``qiskit_aer`` fails it), but it is a valid program. Our own writers already emit the safe
form.
"""

from __future__ import annotations

import dataclasses
import re
import warnings

from qpi.errors import ValidationError

__all__ = ["QELIB1_GATES", "prepare_raw"]

#: The gates of the original ``qelib1.inc`` that Qiskit's strict OpenQASM 2 loader knows
#: (plus the built-in ``U`` and ``CX``), checked against ``qiskit.qasm2.loads(strict=True)``.
QELIB1_GATES = frozenset(
    {
        "U", "CX", "u3", "u2", "u1", "cx", "id", "x", "y", "z", "h", "s", "sdg", "t", "tdg",
        "rx", "ry", "rz", "cz", "cy", "ch", "ccx", "crz", "cu1", "cu3",
    }
)  # fmt: skip
_VERSION = re.compile(r"OPENQASM\s+([23])(?:\.\d+)?\s*;")
_COMMENTS = re.compile(r"//[^\n]*|/\*.*?\*/", re.S)
_REGISTER3 = re.compile(r"(?:^|;)\s*(?:bit\s*(?:\[[^\]]*\])?\s+[A-Za-z_]\w*|creg\s+\w+)", re.M)
_CREG2 = re.compile(r"(?:^|;)\s*creg\s+\w+", re.M)
_STATEMENT_HEAD = re.compile(r"(?:^|[;{}])\s*([A-Za-z_]\w*)")
_QASM2_WORDS = frozenset(
    ["OPENQASM", "include", "qreg", "creg", "gate", "opaque", "measure", "barrier", "reset", "if"]
)


def prepare_raw(text: str) -> str:
    """``text`` as the real driver can run it: unchanged, rewritten, or refused.

    Args:
        text: An OpenQASM 2 or 3 program.

    Returns:
        The program to send: ``text`` itself, or (several classical registers in OpenQASM 3)
        the same circuit with one register, bits in declaration order, so count keys read as
        the registers side by side, the first register rightmost.

    Raises:
        ValidationError: If a real driver cannot run the program and it cannot be rewritten.

    Warns:
        UserWarning: If the program has no classical bits (nothing to count).
    """
    found = _VERSION.search(text)
    if found is None:
        raise ValidationError(
            "the OpenQASM text has no 'OPENQASM 3.0;' (or 2.0) header, which the QPU driver "
            "needs to load it; start the program with OPENQASM 3.0;"
        )
    code = _COMMENTS.sub("", text)
    if found.group(1) == "2":
        _check_qasm2(code)
        return text
    registers = len(_REGISTER3.findall(code))
    if registers == 0:
        _warn_no_clbits()
    if registers > 1:
        return _merged(text)
    return text


def _warn_no_clbits() -> None:
    warnings.warn(
        "the circuit has no classical bits, so a real QPI driver returns no counts for it (and "
        "its qiskit_aer QPU fails it); declare a bit register and measure into it",
        UserWarning,
        stacklevel=4,
    )


def _check_qasm2(code: str) -> None:
    defined = set(re.findall(r"\b(?:gate|opaque)\s+([A-Za-z_]\w*)", code))
    used = {m.group(1) for m in _STATEMENT_HEAD.finditer(code)}
    unknown = sorted(used - _QASM2_WORDS - QELIB1_GATES - defined)
    if unknown:
        raise ValidationError(
            f"OpenQASM 2 gate(s) {', '.join(unknown)} are not in qelib1.inc, and a real QPI "
            "driver loads OpenQASM 2 strictly (qelib1.inc only), so the job would fail; send "
            "OpenQASM 3 instead (e.g. qiskit.qasm3.dumps(circuit))"
        )
    cregs = len(_CREG2.findall(code))
    if cregs == 0:
        _warn_no_clbits()
    if cregs > 1:
        raise ValidationError(
            f"the OpenQASM 2 program declares {cregs} classical registers, and a real QPI "
            "driver fails every circuit with more than one; declare a single creg, or send "
            "OpenQASM 3, which qpi merges into one register for you"
        )


def _merged(text: str) -> str:
    """The program with its classical registers merged into one (via our parser and writer)."""
    from qpi import qasm3

    try:
        circuit = qasm3.parse(text)
    except qasm3.QasmError as exc:
        raise ValidationError(
            "the program declares several classical registers, which a real QPI driver cannot "
            f"run, and qpi cannot merge them here ({exc}); declare one bit register"
        ) from None
    # Rows bind in the sorted order of the input names: keep that order through the renaming.
    circuit = dataclasses.replace(circuit, parameters=sorted(circuit.input_names()))
    return qasm3.dumps(circuit)
