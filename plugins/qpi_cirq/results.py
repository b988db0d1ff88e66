"""Build ``cirq.ResultDict``s from the counts a QPI job returns.

The QPU driver returns, per circuit and parameter row, counts over the single classical
register (binary keys, clbit 0 rightmost) and no per-shot data. A ``cirq.Result`` holds
per-shot *records*, so they are rebuilt here:

* each outcome is repeated as often as it was counted, and the shots are then shuffled with
  a random generator seeded from the counts themselves (and the sampler's ``seed``). The
  per-shot *order* is therefore synthesised, not observed: every statistic over shots is
  exact, correlations between keys within a shot are real, but the order of shots carries
  no information. The same counts always give the same records, so a result replayed from
  the cache is identical to the first one;
* when the server does return per-shot bitstrings (a ``memory`` list), they are used as they
  are, in their order;
* the register is split back into measurement keys with the layout recorded at conversion
  (``Circuit.metadata["cirq"]``), invert masks are applied, and each key becomes an array of
  shape ``(repetitions, instances, qubits)`` of ``int8`` bits, like ``cirq.Simulator``'s (so
  ``1 - 2 * bits`` is ``-1``, not ``255``).

Results are [`QPIResult`][qpi_cirq.results.QPIResult]s: ``cirq.ResultDict``s that also carry
the id of the job they came from. The counts of an experiment are parsed in one pass (the keys
joined and read as one byte buffer), so a sweep of many rows costs numpy calls per row, not
Python work per outcome.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

import cirq
import numpy as np

from qpi.errors import ServerError, ValidationError
from qpi_cirq.convert import METADATA_KEY

if TYPE_CHECKING:
    from qpi.result import ExperimentResult, JobResult

__all__ = [
    "QPIResult",
    "empty_results",
    "layout_of",
    "resolvers_for_rows",
    "results_from_job",
    "shot_bits",
    "to_results",
]


class QPIResult(cirq.ResultDict):
    """A ``cirq.ResultDict`` that knows the QPI job it came from.

    Equal to a ``cirq.ResultDict`` with the same ``params`` and records (the job id is not
    part of equality).

    Args:
        params: The sweep point the records were taken at.
        records: ``{key: int8 array of shape (repetitions, instances, qubits)}``.
        job_id: The id of the job, ``None`` for a result no job produced (no repetitions).
    """

    def __init__(
        self,
        *,
        params: cirq.ParamResolverOrSimilarType = None,
        records: Mapping[str, np.ndarray] | None = None,
        job_id: str | None = None,
    ) -> None:
        super().__init__(params=params, records=records)
        self._job_id = job_id

    @property
    def job_id(self) -> str | None:
        """The id of the QPI job these records came from."""
        return self._job_id


def to_results(
    experiments: Sequence[ExperimentResult],
    layout: Mapping[str, Any],
    resolvers: Sequence[cirq.ParamResolver],
    seed: int | None = None,
    job_id: str | None = None,
) -> list[QPIResult]:
    """One result per experiment of a circuit.

    Args:
        experiments: The circuit's experiments, one per parameter row, in row order.
        layout: The circuit's ``metadata["cirq"]`` (see [`to_circuit`][qpi_cirq.to_circuit]).
        resolvers: The resolver each experiment ran with (its ``params``).
        seed: Mixed into the seed that orders the synthesised shots.
        job_id: The job the experiments belong to.

    Raises:
        ServerError: If the server's results do not fit the circuit's register.
    """
    if len(experiments) != len(resolvers):
        raise ServerError(
            f"{len(experiments)} experiment(s) came back for {len(resolvers)} sweep point(s)"
        )
    return [
        _to_result(exp, layout, resolver, seed, job_id)
        for exp, resolver in zip(experiments, resolvers, strict=True)
    ]


def empty_results(
    layout: Mapping[str, Any], resolvers: Sequence[cirq.ParamResolver]
) -> list[QPIResult]:
    """Results of zero repetitions: every key with no rows, as ``cirq.Simulator`` gives them."""
    empty = np.zeros((0, _width(layout)), dtype=np.int8)
    return [QPIResult(params=resolver, records=_records(empty, layout)) for resolver in resolvers]


def shot_bits(experiment: ExperimentResult, num_clbits: int, seed: int | None = None) -> np.ndarray:
    """Per-shot register values of one experiment, shape ``(shots, num_clbits)``.

    Column ``j`` holds clbit ``j``. Uses the server's per-shot ``memory`` when it sent one,
    else expands the counts and shuffles the shots deterministically (see the module notes).

    Raises:
        ServerError: If a bitstring is wider than the register or not binary.
    """
    memory = experiment.memory
    if isinstance(memory, list) and memory and all(isinstance(m, str) for m in memory):
        return _bits_of(memory, num_clbits, experiment)
    counts = experiment.counts or {}
    keys = sorted(key for key, n in counts.items() if n)
    bits = _bits_of(keys, num_clbits, experiment)
    repeats = np.fromiter((counts[k] for k in keys), dtype=np.int64, count=len(keys))
    shots = np.repeat(bits, repeats, axis=0)
    rng = np.random.default_rng(_shuffle_seed(seed, experiment, keys, repeats))
    return shots[rng.permutation(len(shots))]


def results_from_job(result: JobResult, seed: int | None = None) -> list[list[QPIResult]]:
    """Rebuild the Cirq results of a whole job from its payload alone.

    Works for any job this plugin submitted, including one read back by id or from the
    cache: the key layout and symbol names travel in each program's ``// qpi:meta``
    comment, and each row of input values becomes the result's ``params``.

    Raises:
        ValidationError: If a circuit of the job was not written by this plugin.
    """
    from qpi import qasm3

    out = []
    for index, (entry, experiments) in enumerate(
        zip(result.payload.circuits, result.by_circuit(), strict=True)
    ):
        layout = layout_of(qasm3.parse(entry.circuit).metadata, f"circuit {index}")
        resolvers = resolvers_for_rows(layout["symbols"], entry.parameter_values, len(experiments))
        out.append(to_results(experiments, layout, resolvers, seed, result.job_id))
    return out


def layout_of(metadata: Mapping[str, Any] | None, where: str = "circuit") -> Mapping[str, Any]:
    """The Cirq layout from a circuit's metadata.

    Raises:
        ValidationError: If the metadata holds no Cirq layout.
    """
    layout = (metadata or {}).get(METADATA_KEY)
    if not isinstance(layout, Mapping) or "measurements" not in layout:
        raise ValidationError(
            f"{where} was not written by the Cirq plugin (its program has no Cirq layout); "
            "read its counts with job.result() instead"
        )
    return layout


def resolvers_for_rows(
    symbols: Sequence[str], rows: Sequence[Sequence[float]] | None, count: int
) -> list[cirq.ParamResolver]:
    """Resolvers mapping ``symbols`` to each row's values (empty ones when there are no rows)."""
    if not rows or not symbols:
        return [cirq.ParamResolver({}) for _ in range(count)]
    return [cirq.ParamResolver(dict(zip(symbols, row, strict=True))) for row in rows]


# -- helpers --------------------------------------------------------------------------------------


def _to_result(
    experiment: ExperimentResult,
    layout: Mapping[str, Any],
    resolver: cirq.ParamResolver,
    seed: int | None,
    job_id: str | None,
) -> QPIResult:
    bits = shot_bits(experiment, _width(layout), seed)
    return QPIResult(params=resolver, records=_records(bits, layout), job_id=job_id)


def _width(layout: Mapping[str, Any]) -> int:
    return sum(len(m["clbits"]) for m in layout["measurements"])


def _records(bits: np.ndarray, layout: Mapping[str, Any]) -> dict[str, np.ndarray]:
    """Per key, ``(repetitions, instances, qubits)`` bits with the invert masks applied."""
    instances: dict[str, list[np.ndarray]] = {}
    for entry in layout["measurements"]:
        invert = np.array(entry["invert"], dtype=np.int8)
        instances.setdefault(entry["key"], []).append(bits[:, entry["clbits"]] ^ invert)
    return {key: np.stack(arrays, axis=1) for key, arrays in instances.items()}


def _bits_of(strings: Sequence[str], width: int, experiment: ExperimentResult) -> np.ndarray:
    """Binary (or ``0x`` hex) strings as ``int8`` rows of bits, clbit ``j`` in column ``j``."""
    size = len(strings[0]) if strings else 0
    if 0 < size <= width and all(len(text) == size for text in strings):
        # The usual case, binary keys of one length: one buffer for all of them.
        raw = np.frombuffer("".join(strings).encode("ascii", "replace"), dtype=np.uint8)
        if len(raw) == size * len(strings):
            digits = raw.reshape(len(strings), size) - ord("0")
            if not (digits > 1).any():
                out = np.zeros((len(strings), width), dtype=np.int8)
                out[:, :size] = digits[:, ::-1]  # clbit 0 is the rightmost character
                return out
    out = np.zeros((len(strings), width), dtype=np.int8)
    for row, text in enumerate(strings):
        clean = text.replace(" ", "")
        if clean[:2].lower() == "0x":
            clean = format(int(clean, 16), f"0{width}b")
        if len(clean) > width or set(clean) - {"0", "1"}:
            raise ServerError(
                f"circuit {experiment.circuit}, row {experiment.row}: outcome {text!r} does "
                f"not fit the circuit's {width}-bit register"
            )
        digits = np.frombuffer(clean[::-1].encode("ascii"), dtype=np.uint8) - ord("0")
        out[row, : len(digits)] = digits
    return out


def _shuffle_seed(
    seed: int | None, experiment: ExperimentResult, keys: Sequence[str], repeats: np.ndarray
) -> int:
    """A seed fixed by the counts (and the caller's seed), so replays give the same records."""
    digest = hashlib.sha256(json.dumps([seed, experiment.circuit, experiment.row]).encode())
    digest.update("\n".join(keys).encode())
    digest.update(repeats.astype("<i8").tobytes())
    return int.from_bytes(digest.digest()[:8], "big")
