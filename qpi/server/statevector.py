"""Exact statevector sampling: the ``mock`` QPU of the local orchestrator.

[`run_circuit`][qpi.server.statevector.run_circuit] simulates a [`Circuit`][qpi.circuit.Circuit]
exactly and samples shots from
the exact distribution, returning what a QPI driver returns per experiment (one entry per
parameter row). Qubit 0 is the least significant bit of a basis index (Qiskit's convention),
so in a counts key, printed most significant first, clbit 0 is the rightmost character.

How it stays cheap:

* Rows of one circuit are simulated together, with a leading batch axis: constant gates use
  one shared matrix, parametric gates one matrix per row. Rows are chunked so that a chunk
  holds at most ``2**16`` amplitudes (well under the ``2**22`` memory cap, and cache-sized).
* Every gate of ``stdgates.inc`` is a one-qubit matrix (or a swap) applied where its control
  qubits are 1: an uncontrolled gate is one batched matrix product, a controlled one a few
  in-place array operations on two strided views of the state, an X or a swap an exchange
  of those views, and a diagonal gate a multiplication.
* When every measurement is terminal, the final state is computed once and ``shots`` outcomes
  are drawn with one multinomial per row. Mid-circuit measurements and resets branch: each branch
  carries its state, its share of the shots (split with a binomial draw at each
  measurement) and its clbit values. That is exact sampling, and it costs at most one
  branch per distinct outcome history.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any, NamedTuple

import numpy as np

from qpi.circuit import Circuit, Expr, ParamValue

__all__ = [
    "IQ_CENTRES",
    "IQ_NOISE",
    "MAX_QUBITS",
    "iq_memory",
    "run_circuit",
    "statevector",
    "unitary",
]

#: Largest circuit the mock QPU simulates.
MAX_QUBITS: int = 24
#: Synthetic IQ points of a 0 and a 1 at meas_level 1 (the real driver's values).
IQ_CENTRES: tuple[tuple[float, float], tuple[float, float]] = ((0.1, 0.05), (0.9, 0.85))
#: Standard deviation of the Gaussian noise on I and on Q.
IQ_NOISE: float = 0.05

# Rows (or branches) are simulated in batches of at most this many amplitudes (a row always
# fits: wider states go one at a time). 2**16 amplitudes are 1 MiB, which stays in cache;
# measured on 10 qubits x 1000 rows, that is about 1.5x faster than batches of 2**22.
_BATCH_AMPLITUDES = 1 << 16

Matrix = np.ndarray  # (2, 2) shared by every batch item, or (B, 2, 2) one per item


# -- gate matrices (OpenQASM 3 stdgates.inc) ---------------------------------------------------


def _matrix(m00: Any, m01: Any, m10: Any, m11: Any) -> Matrix:
    """Stack four entries (numbers or arrays of one shape) into ``(..., 2, 2)``."""
    entries = np.broadcast_arrays(*(np.asarray(m, dtype=complex) for m in (m00, m01, m10, m11)))
    return np.stack(entries, axis=-1).reshape(entries[0].shape + (2, 2))


def _u(theta: Any, phi: Any, lam: Any) -> Matrix:
    """``U(θ, φ, λ)`` as OpenQASM 3 defines it (u3 differs by a global phase only)."""
    cos, sin = np.cos(theta / 2), np.sin(theta / 2)
    return _matrix(
        cos, -np.exp(1j * lam) * sin, np.exp(1j * phi) * sin, np.exp(1j * (phi + lam)) * cos
    )


def _u2(phi: Any, lam: Any) -> Matrix:
    return _u(np.pi / 2, phi, lam)


def _cu_target(theta: Any, phi: Any, lam: Any, gamma: Any) -> Matrix:
    """What ``cu`` applies when its control is 1: ``p(γ)`` on the control is a phase here."""
    return np.exp(1j * np.asarray(gamma))[..., None, None] * _u(theta, phi, lam)


def _phase(lam: Any) -> Matrix:
    return _matrix(1, 0, 0, np.exp(1j * lam))


def _rx(theta: Any) -> Matrix:
    cos, sin = np.cos(theta / 2), -1j * np.sin(theta / 2)
    return _matrix(cos, sin, sin, cos)


def _ry(theta: Any) -> Matrix:
    cos, sin = np.cos(theta / 2), np.sin(theta / 2)
    return _matrix(cos, -sin, sin, cos)


def _rz(theta: Any) -> Matrix:
    return _matrix(np.exp(-0.5j * theta), 0, 0, np.exp(0.5j * theta))


_FIXED: Mapping[str, Matrix] = MappingProxyType(
    {
        "id": _matrix(1, 0, 0, 1),
        "x": _matrix(0, 1, 1, 0),
        "y": _matrix(0, -1j, 1j, 0),
        "z": _matrix(1, 0, 0, -1),
        "h": _matrix(1, 1, 1, -1) / math.sqrt(2),
        "s": _matrix(1, 0, 0, 1j),
        "sdg": _matrix(1, 0, 0, -1j),
        "t": _matrix(1, 0, 0, np.exp(0.25j * np.pi)),
        "tdg": _matrix(1, 0, 0, np.exp(-0.25j * np.pi)),
        "sx": _matrix(1 + 1j, 1 - 1j, 1 - 1j, 1 + 1j) / 2,
    }
)

_BUILDERS: Mapping[str, Callable[..., Matrix]] = MappingProxyType(
    {
        "p": _phase,
        "phase": _phase,
        "u1": _phase,
        "rx": _rx,
        "ry": _ry,
        "rz": _rz,
        "u2": _u2,
        "u3": _u,
        "U": _u,
        "cu": _cu_target,
    }
)


class _GateKind(NamedTuple):
    base: str  # the one-qubit gate applied to the target, or "swap"
    controls: int  # how many leading qubit arguments are controls


# Every stdgates.inc gate as (one-qubit base gate or swap, number of controls).
_KINDS: Mapping[str, _GateKind] = MappingProxyType(
    {
        **{name: _GateKind(name, 0) for name in (*_FIXED, *_BUILDERS) if name != "cu"},
        "cx": _GateKind("x", 1),
        "CX": _GateKind("x", 1),
        "cy": _GateKind("y", 1),
        "cz": _GateKind("z", 1),
        "ch": _GateKind("h", 1),
        "cp": _GateKind("p", 1),
        "cphase": _GateKind("p", 1),
        "crx": _GateKind("rx", 1),
        "cry": _GateKind("ry", 1),
        "crz": _GateKind("rz", 1),
        "cu": _GateKind("cu", 1),
        "ccx": _GateKind("x", 2),
        "swap": _GateKind("swap", 0),
        "cswap": _GateKind("swap", 1),
    }
)

_DIAGONAL = frozenset({"id", "z", "s", "sdg", "t", "tdg", "p", "phase", "u1", "rz"})


# -- compiled operations -----------------------------------------------------------------------


@dataclass(frozen=True, eq=False)
class _Gate:
    """A gate ready to apply: the two state views it mixes and its matrix (or how to build it).

    ``view`` reshapes a batch of states ``(B, 2**n)`` so every touched qubit has its own axis;
    ``first``/``second`` index the two halves the gate mixes (target 0 and 1 where all
    controls are 1; for a swap, the ``01`` and ``10`` halves).

    ``mode`` picks the kernel: ``"exchange"`` swaps the halves (swap, x, cx, ccx, cswap),
    ``"diagonal"`` scales them, ``"single"`` is an uncontrolled one-qubit gate (a batched
    matrix product), ``"general"`` mixes the halves of a controlled gate.
    """

    view: tuple[int, ...]
    first: tuple[Any, ...]
    second: tuple[Any, ...]
    mode: str
    matrix: Matrix | None  # constant gates
    build: Callable[..., Matrix] | None = None  # parametric gates
    params: tuple[ParamValue, ...] = ()


@dataclass(frozen=True)
class _Measure:
    qubit: int
    clbit: int  # -1 for a reset
    reset: bool = False


@dataclass
class _Program:
    """A circuit split into a branching part and a terminal part.

    ``branching`` holds gates, measurements and resets up to the last measurement or reset
    that is followed by an operation on its qubit; ``tail`` holds the gates after it, and
    ``terminal`` the (qubit, clbit) of the measurements after it, in program order.
    """

    num_qubits: int
    num_clbits: int
    branching: list[_Gate | _Measure] = field(default_factory=list)
    tail: list[_Gate] = field(default_factory=list)
    terminal: list[tuple[int, int]] = field(default_factory=list)
    measures: bool = False

    @property
    def measured(self) -> list[int]:
        """The qubits the terminal measurements read, ascending."""
        return sorted({qubit for qubit, _ in self.terminal})

    @property
    def sources(self) -> dict[int, int]:
        """For each clbit the terminal part writes: the rank of its qubit in ``measured``.

        Built in program order, so a later measurement into the same clbit wins.
        """
        rank = {qubit: k for k, qubit in enumerate(self.measured)}
        return {clbit: rank[qubit] for qubit, clbit in self.terminal}


def _layout(num_qubits: int, qubits: Sequence[int]) -> tuple[tuple[int, ...], dict[int, int]]:
    """A view shape giving each of ``qubits`` its own axis, and each qubit's axis (batch = 0).

    The flat index is big-endian in the reshape, so qubit ``n-1`` comes first; the untouched
    qubits between touched ones are merged into single axes.
    """
    shape: list[int] = []
    axis: dict[int, int] = {}
    high = num_qubits
    for qubit in sorted(qubits, reverse=True):
        shape.append(1 << (high - 1 - qubit))
        shape.append(2)
        axis[qubit] = len(shape)  # +1 for the batch axis in front
        high = qubit
    shape.append(1 << high)
    return (-1, *shape), axis


def _compile_gate(name: str, qubits: tuple[int, ...], params: tuple, num_qubits: int) -> _Gate:
    kind = _KINDS[name]
    controls, targets = qubits[: kind.controls], qubits[kind.controls :]
    view, axis = _layout(num_qubits, qubits)
    index: list[Any] = [slice(None)] * len(view)
    for control in controls:
        index[axis[control]] = 1
    first, second = list(index), list(index)
    first[axis[targets[0]]], second[axis[targets[0]]] = 0, 1
    if kind.base == "swap":
        first[axis[targets[1]]], second[axis[targets[1]]] = 1, 0
    halves = (view, tuple(first), tuple(second))
    if kind.base in ("swap", "x"):
        return _Gate(*halves, "exchange", None)
    mode = "diagonal" if kind.base in _DIAGONAL else "general" if controls else "single"
    fixed = _FIXED.get(kind.base)
    if fixed is not None:
        return _Gate(*halves, mode, fixed)
    build = _BUILDERS[kind.base]
    if any(isinstance(p, Expr) for p in params):
        return _Gate(*halves, mode, None, build, params)
    return _Gate(*halves, mode, build(*(float(p) for p in params)))


def _compile(circuit: Circuit) -> _Program:
    """Translate the instructions and find where the terminal part starts."""
    n = circuit.num_qubits
    instructions = circuit.instructions
    split = _terminal_start(instructions)
    program = _Program(n, circuit.num_clbits)
    for position, inst in enumerate(instructions):
        name = inst.name
        if name == "barrier" or name == "id":
            continue
        if name in ("measure", "reset"):
            program.measures = program.measures or name == "measure"
            if position >= split:
                program.terminal.append((inst.qubits[0], inst.clbits[0]))
            elif name == "measure":
                program.branching.append(_Measure(inst.qubits[0], inst.clbits[0]))
            else:
                program.branching.append(_Measure(inst.qubits[0], -1, reset=True))
            continue
        gate = _compile_gate(name, inst.qubits, inst.params, n)
        (program.tail if position >= split else program.branching).append(gate)
    return program


def _terminal_start(instructions: Sequence[Any]) -> int:
    """Index after the last measurement or reset that needs branching (0: none needs it).

    Scanning backwards, a measurement is terminal while no later gate or reset touches its
    qubit; the first reset, or non-terminal measurement, ends the terminal part.
    """
    touched: set[int] = set()
    for position in range(len(instructions) - 1, -1, -1):
        inst = instructions[position]
        if inst.name == "barrier":
            continue
        if inst.name == "reset" or (inst.name == "measure" and inst.qubits[0] in touched):
            return position + 1
        if inst.name != "measure":
            touched.update(inst.qubits)
    return 0


# -- parameter evaluation ----------------------------------------------------------------------


def _evaluate(value: ParamValue, columns: Mapping[str, np.ndarray]) -> Any:
    """A gate parameter for every row at once: a float, or an array of shape ``(rows,)``."""
    if not isinstance(value, Expr):
        return float(value)
    if value.op == "param":
        return columns[value.args[0]]  # type: ignore[index]
    args = [_evaluate(arg, columns) for arg in value.args]  # type: ignore[arg-type]
    if value.op == "neg":
        return -args[0]
    if value.op == "+":
        return args[0] + args[1]
    if value.op == "-":
        return args[0] - args[1]
    if value.op == "*":
        return args[0] * args[1]
    return np.divide(args[0], args[1])  # inf rather than ZeroDivisionError for floats


def _gate_matrix(gate: _Gate, columns: Mapping[str, np.ndarray], rows: np.ndarray) -> Matrix | None:
    """The gate's matrix: shared, or one per batch item (``rows`` maps items to rows)."""
    if gate.build is None:  # constant (or a swap, which needs no matrix)
        return gate.matrix
    with np.errstate(all="ignore"):  # non-finite values are reported below, not warned
        args = [np.asarray(_evaluate(p, columns), dtype=float) for p in gate.params]
    if not all(np.isfinite(arg).all() for arg in args):
        raise ValueError(
            "a gate parameter evaluated to a non-finite value (division by zero?) for some "
            "parameter row; check the rows and the circuit's expressions"
        )
    matrices = gate.build(*args)
    if matrices.ndim == 2:  # the expression did not depend on the row after all
        return matrices
    return matrices[rows]


# -- applying operations -----------------------------------------------------------------------


def _apply(states: np.ndarray, gate: _Gate, matrix: Matrix | None) -> np.ndarray:
    """Apply one gate to a batch of states ``(B, 2**n)``; returns the new states.

    Most kernels work in place and return ``states``; a one-qubit gate returns a new array.
    """
    if gate.mode == "exchange":
        view = states.reshape(gate.view)
        a, b = view[gate.first], view[gate.second]
        held = a.copy()
        a[...] = b
        b[...] = held
        return states
    assert matrix is not None
    if gate.mode == "single":
        return _apply_single(states, matrix, gate.view[-1])
    view = states.reshape(gate.view)
    a, b = view[gate.first], view[gate.second]
    if matrix.ndim == 2:
        m00, m01, m10, m11 = matrix[0, 0], matrix[0, 1], matrix[1, 0], matrix[1, 1]
    else:
        shape = (len(matrix),) + (1,) * (a.ndim - 1)
        m00, m01 = matrix[:, 0, 0].reshape(shape), matrix[:, 0, 1].reshape(shape)
        m10, m11 = matrix[:, 1, 0].reshape(shape), matrix[:, 1, 1].reshape(shape)
    if gate.mode == "diagonal":
        if matrix.ndim == 3 or m00 != 1:  # controlled phases leave the first half alone
            a *= m00
        b *= m11
        return states
    new_a = a * m00
    new_a += b * m01
    b *= m11
    b += a * m10
    a[...] = new_a
    return states


def _apply_single(states: np.ndarray, matrix: Matrix, low: int) -> np.ndarray:
    """An uncontrolled one-qubit gate on the qubit above ``low`` amplitudes, as a matmul.

    ``matrix`` is shared ``(2, 2)`` or per item ``(B, 2, 2)``. The product is arranged so the
    long axis stays innermost: a matmul over tiny trailing axes would be slow.
    """
    batch = len(states)
    if low == 1:  # qubit 0: the pair of amplitudes is the last axis
        pairs = states.reshape(batch, -1, 2)
        # A contiguous transposed matrix keeps numpy on its fast (BLAS) matmul path.
        transposed = np.ascontiguousarray(np.swapaxes(matrix, -1, -2))
        return np.matmul(pairs, transposed).reshape(batch, -1)
    if low == 2:  # qubit 1: neither layout suits a matmul; mix the halves directly
        view = states.reshape(batch, -1, 2, 2)
        a, b = view[:, :, 0, :], view[:, :, 1, :]
        m = matrix if matrix.ndim == 2 else matrix[:, None, None]
        new_a = a * m[..., 0, 0]
        new_a += b * m[..., 0, 1]
        b *= m[..., 1, 1]
        b += a * m[..., 1, 0]
        a[...] = new_a
        return states
    columns = states.reshape(batch, -1, 2, low)
    stacked = matrix if matrix.ndim == 2 else matrix[:, None]
    return np.matmul(stacked, columns).reshape(batch, -1)


def _halves(states: np.ndarray, qubit: int, num_qubits: int) -> tuple[np.ndarray, np.ndarray]:
    """Views of the amplitudes with ``qubit`` = 0 and = 1, each ``(B, high, low)``."""
    view = states.reshape(len(states), 1 << (num_qubits - 1 - qubit), 2, 1 << qubit)
    return view[:, :, 0, :], view[:, :, 1, :]


def _weight(amplitudes: np.ndarray) -> np.ndarray:
    """Squared norm per batch item."""
    return np.einsum("bij,bij->b", amplitudes.real, amplitudes.real) + np.einsum(
        "bij,bij->b", amplitudes.imag, amplitudes.imag
    )


@dataclass
class _Batch:
    """Branches simulated together: a state, a source row, shots and clbits per item."""

    states: np.ndarray  # (B, 2**n) complex
    rows: np.ndarray  # (B,) index of the parameter row in the chunk
    shots: np.ndarray  # (B,) int64
    clbits: np.ndarray  # (B, num_clbits) uint8

    def take(self, keep: np.ndarray) -> _Batch:
        return _Batch(self.states[keep], self.rows[keep], self.shots[keep], self.clbits[keep])

    def __len__(self) -> int:
        return len(self.rows)


def _measure(batch: _Batch, op: _Measure, n: int, rng: np.random.Generator) -> _Batch:
    """Split each branch by the outcome of measuring ``op.qubit`` (or resetting it)."""
    zero, one = _halves(batch.states, op.qubit, n)
    weight0, weight1 = _weight(zero), _weight(one)
    total = weight0 + weight1
    p1 = np.clip(np.divide(weight1, total, out=np.zeros_like(total), where=total > 0), 0, 1)
    ones = rng.binomial(batch.shots, p1)
    zeros = batch.shots - ones
    if not ones.any():
        return _collapse(batch, op, n, 0, weight0, zeros)
    if not zeros.any():
        return _collapse(batch, op, n, 1, weight1, ones)
    keep0, keep1 = zeros > 0, ones > 0
    first = _collapse(batch.take(keep0), op, n, 0, weight0[keep0], zeros[keep0])
    second = _collapse(batch.take(keep1), op, n, 1, weight1[keep1], ones[keep1])
    return _Batch(
        np.concatenate([first.states, second.states]),
        np.concatenate([first.rows, second.rows]),
        np.concatenate([first.shots, second.shots]),
        np.concatenate([first.clbits, second.clbits]),
    )


def _collapse(
    batch: _Batch, op: _Measure, n: int, outcome: int, weight: np.ndarray, shots: np.ndarray
) -> _Batch:
    """Project every item onto ``outcome`` in place, renormalise, and record the outcome."""
    halves = _halves(batch.states, op.qubit, n)
    kept, dropped = halves[outcome], halves[1 - outcome]
    scale = 1.0 / np.sqrt(np.where(weight > 0, weight, 1.0))
    kept *= scale[:, None, None]
    if op.reset and outcome == 1:
        halves[0][...] = kept  # flip to |0>
        kept[...] = 0
    else:
        dropped[...] = 0
    if not op.reset:
        batch.clbits[:, op.clbit] = outcome
    batch.shots = shots
    return batch


# -- sampling ----------------------------------------------------------------------------------


@dataclass
class _Outcomes:
    """Sampled results of one chunk: distinct clbit patterns with their counts and rows."""

    rows: list[np.ndarray] = field(default_factory=list)  # (N,) row of each pattern
    clbits: list[np.ndarray] = field(default_factory=list)  # (N, num_clbits)
    counts: list[np.ndarray] = field(default_factory=list)  # (N,)


def _simulate_chunk(
    program: _Program, columns: Mapping[str, np.ndarray], num_rows: int, shots: int,
    rng: np.random.Generator,
) -> _Outcomes:  # fmt: skip
    """Run every branch of a chunk of rows to the end and sample its terminal measurements."""
    n = program.num_qubits
    states = np.zeros((num_rows, 1 << n), dtype=complex)
    states[:, 0] = 1.0
    start = _Batch(
        states,
        np.arange(num_rows),
        np.full(num_rows, shots, dtype=np.int64),
        np.zeros((num_rows, program.num_clbits), dtype=np.uint8),
    )
    outcomes = _Outcomes()
    pending = [(0, start)]  # depth first, so at most a few oversized batches live at once
    limit = max(1, _BATCH_AMPLITUDES >> n)
    while pending:
        first, batch = pending.pop()
        for position in range(first, len(program.branching)):
            op = program.branching[position]
            if isinstance(op, _Measure):
                batch = _measure(batch, op, n, rng)
                if len(batch) > limit:  # branching outgrew memory: finish half later
                    half = len(batch) // 2
                    pending.append((position + 1, batch.take(np.arange(half, len(batch)))))
                    batch = batch.take(np.arange(half))
            else:
                batch.states = _apply(batch.states, op, _gate_matrix(op, columns, batch.rows))
        for gate in program.tail:
            batch.states = _apply(batch.states, gate, _gate_matrix(gate, columns, batch.rows))
        _sample_terminal(program, batch, rng, outcomes)
    return outcomes


def _sample_terminal(
    program: _Program, batch: _Batch, rng: np.random.Generator, outcomes: _Outcomes
) -> None:
    """Draw each branch's terminal measurements from its exact marginal distribution."""
    if not program.terminal:
        outcomes.rows.append(batch.rows)
        outcomes.clbits.append(batch.clbits)
        outcomes.counts.append(batch.shots)
        return
    n = program.num_qubits
    measured = program.measured
    probabilities = (batch.states.real**2 + batch.states.imag**2).reshape((-1,) + (2,) * n)
    unmeasured = tuple(n - q for q in range(n) if q not in measured)
    if unmeasured:
        probabilities = probabilities.sum(axis=unmeasured)
    # The remaining axes are the measured qubits, highest first: bit j is measured[j].
    probabilities = probabilities.reshape(len(batch), -1)
    probabilities /= probabilities.sum(axis=1, keepdims=True)
    items, patterns, counts = _draw(batch.shots, probabilities, rng)
    clbits = batch.clbits[items]
    for clbit, rank in program.sources.items():
        clbits[:, clbit] = (patterns >> rank) & 1
    outcomes.rows.append(batch.rows[items])
    outcomes.clbits.append(clbits)
    outcomes.counts.append(counts)


def _draw(
    shots: np.ndarray, probabilities: np.ndarray, rng: np.random.Generator
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Multinomial draws: ``shots[b]`` outcomes from ``probabilities[b]`` for each item ``b``.

    Returns:
        ``(items, outcomes, counts)`` for every outcome drawn at least once.
    """
    if probabilities.shape[1] <= 4 * int(shots.max()):
        counts = rng.multinomial(shots, probabilities)
        items, patterns = np.nonzero(counts)
        return items, patterns, counts[items, patterns]
    # Far more outcomes than shots (wide registers): drawing each shot through the
    # cumulative distribution is much cheaper than one binomial per outcome, and samples the
    # same distribution exactly.
    items, patterns, counts = [], [], []
    for item, (count, row) in enumerate(zip(shots.tolist(), probabilities)):
        cumulative = np.cumsum(row)
        # side="right" never lands on a zero-probability outcome.
        picks = np.searchsorted(cumulative, rng.random(count) * cumulative[-1], side="right")
        drawn, times = np.unique(np.minimum(picks, len(row) - 1), return_counts=True)
        items.append(np.full(len(drawn), item))
        patterns.append(drawn)
        counts.append(times)
    return np.concatenate(items), np.concatenate(patterns), np.concatenate(counts)


# -- the driver-shaped result ------------------------------------------------------------------


def run_circuit(
    circuit: Circuit,
    rows: Sequence[Sequence[float]] | None,
    shots: int,
    *,
    meas_level: int = 2,
    meas_return: str = "single",
    rng: np.random.Generator,
) -> list[dict]:
    """Simulate a circuit exactly and sample ``shots`` shots per parameter row.

    Args:
        circuit: The circuit (at most [`MAX_QUBITS`][qpi.server.statevector.MAX_QUBITS] qubits).
        rows: Parameter rows, bound positionally to ``circuit.input_names()`` (the sorted
            input names for a circuit from [`qpi.qasm3.parse`][qpi.qasm3.parse]). One experiment per
            row;
            ``None`` or empty gives one experiment. Like the QPU driver, a circuit without
            inputs runs once per row and ignores the values.
        shots: Shots per experiment.
        meas_level: ``2`` for counts, ``1`` for synthetic IQ points.
        meas_return: For meas_level 1: ``"single"`` (every shot) or ``"avg"`` (the mean).
        rng: The source of randomness; the same seed gives the same results.

    Returns:
        One entry per experiment, as the QPU driver shapes them: ``{"counts": {bits: n},
        "shots": shots}`` with binary keys (clbit 0 rightmost, zero counts omitted), or
        ``{"memory": ..., "shots": shots}`` of shape ``(shots, num_clbits, 2)`` for
        ``"single"`` and ``(1, num_clbits, 2)`` for ``"avg"``. A circuit without clbits
        gives ``{"counts": {}, "shots": shots}``.

    Raises:
        ValueError: If the options, the rows or the circuit cannot be run; the message
            says what to change.
    """
    _check_options(shots, meas_level, meas_return)
    circuit.validate()
    if circuit.num_qubits > MAX_QUBITS:
        raise ValueError(
            f"circuit uses {circuit.num_qubits} qubits; the mock QPU simulates at most {MAX_QUBITS}"
        )
    names = circuit.input_names()
    values = _row_values(names, rows)
    if circuit.num_clbits == 0:
        return [{"counts": {}, "shots": shots} for _ in range(len(values))]
    program = _compile(circuit)
    outcomes = _run_rows(program, names, values, shots, rng)
    if meas_level == 2:
        return _counts_entries(outcomes, len(values), shots)
    return _memory_entries(outcomes, len(values), shots, meas_return, rng)


def _check_options(shots: int, meas_level: int, meas_return: str) -> None:
    if isinstance(shots, bool) or not isinstance(shots, int | np.integer) or shots < 1:
        raise ValueError(f"shots must be a positive integer, got {shots!r}")
    if meas_level == 0:
        raise ValueError("meas_level 0 (raw traces) needs hardware; simulators support 1 and 2")
    if meas_level not in (1, 2):
        raise ValueError(f"meas_level must be 1 or 2, got {meas_level!r}")
    if meas_return not in ("single", "avg"):
        raise ValueError(f"meas_return must be 'single' or 'avg', got {meas_return!r}")


def _row_values(names: list[str], rows: Sequence[Sequence[float]] | None) -> np.ndarray:
    """The rows as a ``(rows, inputs)`` float array, checked against the inputs."""
    count = len(rows) if rows is not None else 0
    if not names:
        return np.zeros((max(count, 1), 0))
    if count == 0:
        raise ValueError(
            f"circuit has inputs {names} but no parameter_values were given; send one row "
            f"of {len(names)} value(s) per experiment, in this order"
        )
    for number, row in enumerate(rows):  # type: ignore[arg-type]
        if len(row) != len(names):
            raise ValueError(
                f"parameter row {number} has {len(row)} value(s) but the circuit has "
                f"{len(names)} input(s) {names}, bound in this order"
            )
    values = np.asarray(rows, dtype=float)
    if not np.isfinite(values).all():
        bad = int(np.flatnonzero(~np.isfinite(values).all(axis=1))[0])
        raise ValueError(f"parameter row {bad} has a non-finite value; give finite numbers")
    return values


def _run_rows(
    program: _Program, names: list[str], values: np.ndarray, shots: int,
    rng: np.random.Generator,
) -> _Outcomes:  # fmt: skip
    """Simulate the rows chunk by chunk (all rows share one simulation when possible)."""
    total = len(values)
    if not program.measures:  # nothing is measured: every clbit reads 0 in every shot
        return _Outcomes(
            [np.arange(total)],
            [np.zeros((total, program.num_clbits), dtype=np.uint8)],
            [np.full(total, shots, dtype=np.int64)],
        )
    chunk = max(1, _BATCH_AMPLITUDES >> program.num_qubits)
    merged = _Outcomes()
    for begin in range(0, total, chunk):
        part = values[begin : begin + chunk]
        columns = {name: part[:, k] for k, name in enumerate(names)}
        result = _simulate_chunk(program, columns, len(part), shots, rng)
        merged.rows.extend(rows + begin for rows in result.rows)
        merged.clbits.extend(result.clbits)
        merged.counts.extend(result.counts)
    return merged


def _gates(program: _Program) -> list[_Gate]:
    return [op for op in (*program.branching, *program.tail) if isinstance(op, _Gate)]


def _grouped(outcomes: _Outcomes) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """All sampled patterns, sorted by row: ``(rows, clbits, counts)``."""
    rows = np.concatenate(outcomes.rows)
    order = np.argsort(rows, kind="stable")
    return (
        rows[order],
        np.concatenate(outcomes.clbits)[order],
        np.concatenate(outcomes.counts)[order],
    )


def _keys(clbits: np.ndarray) -> list[str]:
    """Binary keys, clbit 0 rightmost, for a ``(N, num_clbits)`` array of bits."""
    width = clbits.shape[1]
    text = np.where(clbits[:, ::-1] == 1, ord("1"), ord("0")).astype(np.uint8).tobytes().decode()
    return [text[k : k + width] for k in range(0, len(text), width)]


def _counts_entries(outcomes: _Outcomes, num_rows: int, shots: int) -> list[dict]:
    rows, clbits, counts = _grouped(outcomes)
    per_row: list[dict[str, int]] = [{} for _ in range(num_rows)]
    for row, key, count in zip(rows.tolist(), _keys(clbits), counts.tolist()):
        if count:
            table = per_row[row]
            table[key] = table.get(key, 0) + count
    return [{"counts": dict(sorted(table.items())), "shots": shots} for table in per_row]


def _memory_entries(
    outcomes: _Outcomes, num_rows: int, shots: int, meas_return: str, rng: np.random.Generator
) -> list[dict]:
    rows, clbits, counts = _grouped(outcomes)
    bounds = np.searchsorted(rows, np.arange(num_rows + 1))
    entries = []
    for row in range(num_rows):
        part = slice(bounds[row], bounds[row + 1])
        bits = np.repeat(clbits[part], counts[part], axis=0)
        bits = bits[rng.permutation(len(bits))]  # shots come out in a random order
        entries.append({"memory": iq_memory(bits, meas_return, rng), "shots": shots})
    return entries


def iq_memory(bits: np.ndarray, meas_return: str, rng: np.random.Generator) -> list:
    """Synthetic level-1 IQ data for measured bits of shape ``(shots, num_clbits)``.

    A 0 reads near [`IQ_CENTRES`][qpi.server.statevector.IQ_CENTRES] ``[0]`` and a 1 near ``[1]``,
    with Gaussian noise of
    standard deviation [`IQ_NOISE`][qpi.server.statevector.IQ_NOISE] on I and on Q.

    Args:
        bits: The measured bits, one row per shot.
        meas_return: ``"single"`` for every shot, ``"avg"`` for their mean.
        rng: The source of the noise.

    Returns:
        Nested lists of shape ``(shots, num_clbits, 2)``, or ``(1, num_clbits, 2)`` for
        ``"avg"``.
    """
    centres = np.asarray(IQ_CENTRES)[np.asarray(bits, dtype=np.intp)]
    points = centres + rng.normal(0.0, IQ_NOISE, size=centres.shape)
    if meas_return == "avg":
        points = points.mean(axis=0, keepdims=True)
    return points.round(6).tolist()


# -- exact states and unitaries ----------------------------------------------------------------


def statevector(circuit: Circuit, row: Sequence[float] | None = None) -> np.ndarray:
    """The final state of a circuit without measurements or resets, from ``|0...0>``.

    Args:
        circuit: The circuit (at most [`MAX_QUBITS`][qpi.server.statevector.MAX_QUBITS] qubits).
        row: Values of ``circuit.input_names()``, in that order, if it has inputs.

    Returns:
        The ``2**num_qubits`` amplitudes; qubit 0 is the least significant bit of the index.

    Raises:
        ValueError: If the circuit measures or resets, or the row does not fit.
    """
    initial = np.zeros((1, 1 << circuit.num_qubits), dtype=complex)
    initial[0, 0] = 1.0
    return _evolve_unitary(circuit, row, initial)[0]


def unitary(circuit: Circuit, row: Sequence[float] | None = None) -> np.ndarray:
    """The unitary matrix of a circuit without measurements or resets.

    Args:
        circuit: The circuit (at most 12 qubits: the matrix has ``4**num_qubits`` entries).
        row: Values of ``circuit.input_names()``, in that order, if it has inputs.

    Returns:
        The ``(2**n, 2**n)`` matrix in Qiskit's convention (qubit 0 least significant).

    Raises:
        ValueError: If the circuit measures or resets, is too large, or the row does not fit.
    """
    if circuit.num_qubits > 12:
        raise ValueError(f"unitary() handles at most 12 qubits, got {circuit.num_qubits}")
    # Evolving every basis state at once: item b ends as column b of the matrix.
    return _evolve_unitary(circuit, row, np.eye(1 << circuit.num_qubits, dtype=complex)).T


def _evolve_unitary(
    circuit: Circuit, row: Sequence[float] | None, states: np.ndarray
) -> np.ndarray:
    circuit.validate()
    if circuit.num_qubits > MAX_QUBITS:
        raise ValueError(f"circuit uses {circuit.num_qubits} qubits; at most {MAX_QUBITS}")
    if any(inst.name in ("measure", "reset") for inst in circuit.instructions):
        raise ValueError("the circuit measures or resets; sample it with run_circuit instead")
    names = circuit.input_names()
    values = _row_values(names, None if row is None else [row])
    columns = {name: values[:, k] for k, name in enumerate(names)}
    items = np.zeros(len(states), dtype=np.intp)  # every item uses row 0
    for gate in _gates(_compile(circuit)):
        states = _apply(states, gate, _gate_matrix(gate, columns, items))
    return states
