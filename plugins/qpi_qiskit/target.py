"""The transpiler ``Target`` of a QPI QPU: what ``transpile`` may emit for it.

A QPI QPU runs OpenQASM 3 ``stdgates.inc`` gates, ``measure``, ``reset`` and ``barrier`` on
any qubits (the QPU driver routes for its own hardware), so the Target lists exactly those,
all-to-all, with no durations or error rates (a QPU record carries none). ``delay`` is not
listed: the wire format carries no timing.
"""

from __future__ import annotations

from qiskit.circuit import Barrier, Measure, Parameter, Reset
from qiskit.circuit.library import (
    CCXGate,
    CHGate,
    CPhaseGate,
    CRXGate,
    CRYGate,
    CRZGate,
    CSwapGate,
    CUGate,
    CXGate,
    CYGate,
    CZGate,
    HGate,
    IGate,
    PhaseGate,
    RXGate,
    RYGate,
    RZGate,
    SdgGate,
    SGate,
    SwapGate,
    SXGate,
    TdgGate,
    TGate,
    UGate,
    XGate,
    YGate,
    ZGate,
)
from qiskit.transpiler import Target

__all__ = ["build_target"]


def build_target(num_qubits: int | None, description: str | None = None) -> Target:
    """Build the Target of a QPU with ``num_qubits`` all-to-all qubits.

    Args:
        num_qubits: The QPU's qubit count; ``None`` when it is not known (the Target then
            fits any circuit and transpiling keeps the circuit's own width).
        description: A description for the Target (e.g. the QPU's name).

    Returns:
        A Target with every ``stdgates.inc`` gate (``u1``/``u2``/``u3``, ``phase`` and
        ``cphase`` are aliases and left out), ``measure``, ``reset`` and ``barrier``.
    """
    theta, phi, lam, gamma = (Parameter(n) for n in ("θ", "φ", "λ", "γ"))
    target = Target(description=description, num_qubits=num_qubits)
    gates = (
        IGate(), XGate(), YGate(), ZGate(), HGate(), SGate(), SdgGate(), TGate(), TdgGate(),
        SXGate(), PhaseGate(theta), RXGate(theta), RYGate(theta), RZGate(theta),
        UGate(theta, phi, lam), CXGate(), CYGate(), CZGate(), CHGate(), SwapGate(),
        CPhaseGate(theta), CRXGate(theta), CRYGate(theta), CRZGate(theta),
        CUGate(theta, phi, lam, gamma), CCXGate(), CSwapGate(), Measure(), Reset(),
    )  # fmt: skip
    for gate in gates:
        target.add_instruction(gate)  # no properties: ideal, on any qubits
    target.add_instruction(Barrier, name="barrier")
    return target
