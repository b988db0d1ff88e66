"""The transpiler ``Target`` of a QPI QPU: what ``transpile`` may emit for it.

A QPI QPU runs OpenQASM 3 ``stdgates.inc`` gates, ``measure``, ``reset`` and ``barrier`` on
any qubits (the QPU driver routes for its own hardware), so the Target lists exactly those,
all-to-all, with no durations or error rates (a QPU record carries none). ``delay`` is not
listed: the wire format carries no timing.

``for_loop`` is listed everywhere: the converter unrolls it, so any QPU runs it. The other
control-flow instructions (``if_else``, ``while_loop``, ``switch_case``, ``break_loop``,
``continue_loop``) travel as OpenQASM 3 ``if``/``while`` and are listed only for QPUs whose
executor runs feed-forward: the QPI driver's ``qiskit_aer`` executor does (it loads the text
with ``qiskit.qasm3.loads`` and runs it on Aer), its ``mock`` executor (``BasicSimulator``)
does not, and a QPU record does not say which executor it has. So the Target has them when
the QPU is named like an executor that runs them (``CONTROL_FLOW_QPUS``), or when
``control_flow=True`` is given to the backend.
"""

from __future__ import annotations

from qiskit import QuantumCircuit
from qiskit.circuit import (
    Barrier,
    BreakLoopOp,
    ContinueLoopOp,
    ForLoopOp,
    IfElseOp,
    Measure,
    Parameter,
    Reset,
    SwitchCaseOp,
    WhileLoopOp,
)
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

__all__ = ["CONTROL_FLOW_QPUS", "FEED_FORWARD", "build_target", "flow_ops"]

#: Names of QPUs whose executor runs classical control flow (the QPI driver's executors).
CONTROL_FLOW_QPUS: tuple[str, ...] = ("qiskit_aer",)
#: Control-flow instructions only a QPU that runs feed-forward can take (``for_loop`` is
#: unrolled before sending, so it is not among them).
FEED_FORWARD: frozenset[str] = frozenset(
    {"if_else", "while_loop", "switch_case", "break_loop", "continue_loop"}
)


def build_target(
    num_qubits: int | None, description: str | None = None, *, control_flow: bool = False
) -> Target:
    """Build the Target of a QPU with ``num_qubits`` all-to-all qubits.

    Args:
        num_qubits: The QPU's qubit count; ``None`` when it is not known (the Target then
            fits any circuit and transpiling keeps the circuit's own width).
        description: A description for the Target (e.g. the QPU's name).
        control_flow: Whether the QPU runs feed-forward (``if_else``, ``while_loop``,
            ``switch_case``, ``break_loop``, ``continue_loop``).

    Returns:
        A Target with every ``stdgates.inc`` gate (``u1``/``u2``/``u3``, ``phase`` and
        ``cphase`` are aliases and left out), ``measure``, ``reset``, ``barrier``,
        ``for_loop``, and the feed-forward instructions when ``control_flow`` is set.
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
    target.add_instruction(ForLoopOp, name="for_loop")
    if control_flow:
        for op, name in (
            (IfElseOp, "if_else"),
            (WhileLoopOp, "while_loop"),
            (SwitchCaseOp, "switch_case"),
            (BreakLoopOp, "break_loop"),
            (ContinueLoopOp, "continue_loop"),
        ):
            target.add_instruction(op, name=name)
    return target


def flow_ops(circuit: QuantumCircuit) -> set[str]:
    """The control-flow instructions ``circuit`` uses, inside blocks as well."""
    found: set[str] = set()
    for inst in circuit.data:
        op = inst.operation
        if op.name in FEED_FORWARD or op.name == "for_loop":
            found.add(op.name)
        for block in getattr(op, "blocks", ()):
            found |= flow_ops(block)
    return found
