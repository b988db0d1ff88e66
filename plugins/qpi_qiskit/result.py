"""Qiskit results from a QPI job: ``qiskit.result.Result`` and the Sampler's ``BitArray``.

Each experiment (one circuit bound with one parameter row) becomes one ``ExperimentResult``
whose header carries the circuit's ``name``, ``memory_slots``, ``creg_sizes`` and the row's
``parameter_values``, so ``get_counts()`` shows every clbit, with a space between registers.

The QPU driver returns counts, not shots, at ``meas_level=2``. When ``memory=True`` is asked
for, the per-shot memory is **synthesised from the counts**: each outcome repeated as often as
it was counted, in a shuffled order. The multiset of shots is exact; their order carries no
information (it is a pseudo-random permutation, the same every time the result is rebuilt).
"""

from __future__ import annotations

import zlib
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
from qiskit.primitives import BitArray
from qiskit.result import Result

import qpi
from qpi.result import ExperimentResult, JobResult
from qpi_qiskit.layout import Layout

__all__ = ["bit_arrays", "bit_matrix", "build_result", "shot_order"]


def build_result(
    job_result: JobResult,
    layouts: Sequence[Layout | None],
    *,
    backend_name: str,
    memory: bool = False,
) -> Result:
    """Build a Qiskit ``Result`` with one experiment per circuit and parameter row.

    Args:
        job_result: The job's results, mapped back onto circuits and rows.
        layouts: Per circuit of the payload, its layout (``None``: a plain one is derived
            from the counts).
        backend_name: The ``backend_name`` of the result.
        memory: Include per-shot memory at ``meas_level=2`` (synthesised from counts when the
            server sent none; see the module docs).

    Returns:
        The result; ``result.metadata`` holds the job's metadata (``from_cache``,
        ``fingerprint``, ``qpu_target``, ``duration``, ...).
    """
    payload = job_result.payload
    results = [
        _experiment(
            exp,
            layouts[exp.circuit] or _plain_layout(exp),
            meas_level=payload.meas_level,
            meas_return=payload.meas_return,
            memory=memory,
            seed=_seed(job_result.job_id, exp),
        )
        for exp in job_result.experiments
    ]
    return Result.from_dict(
        {
            "backend_name": backend_name,
            "backend_version": qpi.__version__,
            "job_id": job_result.job_id,
            "success": True,
            "status": "COMPLETED",
            "date": job_result.metadata.get("finished_at"),
            "header": None,
            "results": results,
            "metadata": dict(job_result.metadata),
        }
    )


def shot_order(counts: Mapping[str, int], seed: int) -> tuple[list[str], np.ndarray]:
    """The distinct outcomes and, per shot, the index of its outcome, in shuffled order.

    Args:
        counts: ``{bitstring: count}``.
        seed: Seeds the permutation, so the same result always gives the same shots.

    Returns:
        ``(outcomes, order)`` with ``len(order) == sum(counts.values())``.
    """
    outcomes = list(counts)
    order = np.repeat(np.arange(len(outcomes)), [int(counts[k]) for k in outcomes])
    np.random.default_rng(seed).shuffle(order)
    return outcomes, order


def bit_arrays(
    experiments: Sequence[ExperimentResult],
    layout: Layout,
    shape: tuple[int, ...],
    job_id: str,
) -> dict[str, BitArray]:
    """Per classical register, a ``BitArray`` of shape ``shape`` over the experiments' shots.

    Args:
        experiments: One experiment per binding, in C order of ``shape``; all with the same
            number of shots.
        layout: The circuit's layout (which clbits each register holds).
        shape: The shape of the bindings.
        job_id: Seeds the shot order (see [`shot_order`][qpi_qiskit.result.shot_order]).

    Returns:
        ``{register name: BitArray}``; shots of one experiment line up across registers.
    """
    shots = experiments[0].shots if experiments else 0
    per_register: dict[str, list[np.ndarray]] = {name: [] for name, _ in layout.cregs}
    for exp in experiments:
        outcomes, order = shot_order(exp.counts or {}, _seed(job_id, exp))
        bits = bit_matrix(outcomes, layout.num_clbits)
        for name, indices in layout.cregs:
            per_register[name].append(_packed(bits, indices)[order])
    arrays = {}
    for name, indices in layout.cregs:
        num_bytes = (len(indices) + 7) // 8
        stacked = (
            np.stack(per_register[name])
            if per_register[name]
            else np.zeros((0, shots, num_bytes), dtype=np.uint8)
        )
        arrays[name] = BitArray(stacked.reshape((*shape, shots, num_bytes)), len(indices))
    return arrays


def _experiment(
    exp: ExperimentResult,
    layout: Layout,
    *,
    meas_level: int,
    meas_return: str,
    memory: bool,
    seed: int,
) -> dict[str, Any]:
    data: dict[str, Any] = {}
    if exp.counts is not None:
        data["counts"] = {hex(int(k, 2)): n for k, n in exp.counts.items()}
        if memory:
            data["memory"] = _level2_memory(exp, seed)
    elif exp.memory is not None:
        data["memory"] = _level1_memory(exp.memory, meas_return)
    entry: dict[str, Any] = {
        "shots": exp.shots,
        "success": True,
        "meas_level": meas_level,
        "data": data,
        "header": layout.header(exp.parameter_values),
        "status": "DONE",
    }
    if meas_level < 2:
        entry["meas_return"] = meas_return
    return entry


def _level2_memory(exp: ExperimentResult, seed: int) -> list[str]:
    if isinstance(exp.memory, list) and all(isinstance(s, str) for s in exp.memory):
        # The server sent real per-shot readouts: keep them, in their order.
        return [s if s.startswith("0x") else hex(int(s.replace(" ", ""), 2)) for s in exp.memory]
    outcomes, order = shot_order(exp.counts or {}, seed)
    labels = [hex(int(k, 2)) for k in outcomes]
    return [labels[i] for i in order.tolist()]


def _level1_memory(memory: Any, meas_return: str) -> Any:
    """IQ memory in Qiskit's shapes: ``(shots, clbits, 2)``, or ``(clbits, 2)`` averaged."""
    if meas_return == "avg":
        array = np.asarray(memory)
        if array.ndim == 3 and array.shape[0] == 1:  # the driver's extra outer list
            return array[0].tolist()
    return memory


def _plain_layout(exp: ExperimentResult) -> Layout:
    """A layout for a program nothing is known about: one register as wide as its keys."""
    width = max((len(k) for k in exp.counts or ()), default=0)
    if not width and exp.memory is not None:
        array = np.asarray(exp.memory)
        width = array.shape[-2] if array.ndim >= 2 else 0
    return Layout.plain(f"circuit-{exp.circuit}", 0, width)


def _seed(job_id: str, exp: ExperimentResult) -> int:
    return zlib.crc32(f"{job_id}/{exp.circuit}/{exp.row}".encode())


def bit_matrix(outcomes: Sequence[str], width: int) -> np.ndarray:
    """``bits[k, j]`` = clbit ``j`` of outcome ``k`` (keys are written clbit 0 rightmost)."""
    if not outcomes or not width:
        return np.zeros((len(outcomes), width), dtype=np.uint8)
    text = "".join(k.zfill(width)[-width:] for k in outcomes).encode()
    digits = np.frombuffer(text, dtype=np.uint8).reshape(len(outcomes), width) - ord("0")
    return digits[:, ::-1]


def _packed(bits: np.ndarray, indices: Sequence[int]) -> np.ndarray:
    """Pack the clbits ``indices`` (register bit 0 first) into big-endian bytes per outcome."""
    num_bits = len(indices)
    num_bytes = (num_bits + 7) // 8
    padded = np.zeros((bits.shape[0], num_bytes * 8), dtype=np.uint8)
    if num_bits:
        padded[:, num_bytes * 8 - num_bits :] = bits[:, list(indices)[::-1]]
    return np.packbits(padded, axis=1)
