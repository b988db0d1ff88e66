"""One experiment's counts as arrays, so every measurement of a tape is a few numpy calls.

A QPU returns ``{bitstring: count}`` per experiment (clbit 0 rightmost). PennyLane's own
``process_counts`` walks that dict once per measurement, in Python; a Hamiltonian split into
its terms measures dozens of terms from the same counts, for every row of a sweep. Here the
keys are parsed once per experiment into a matrix of bits (one row per observed outcome, the
first measured wire first) and a vector of frequencies; each measurement then selects its
columns.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from qpi.errors import ServerError

__all__ = ["Outcomes"]

#: Above this many measured wires a dense vector over all outcomes is not built.
MAX_DENSE_WIRES = 24


@dataclass(frozen=True)
class Outcomes:
    """The distinct outcomes of one experiment and how often each was seen.

    Attributes:
        bits: ``uint8`` array of shape ``(outcomes, wires)``: row ``i`` is outcome ``i``,
            column ``j`` the bit of the ``j``-th measured wire. Rows are in ascending order
            of the wire-order bitstring; no outcome appears twice.
        freq: ``int64`` array: how many shots gave each row (all positive).
    """

    bits: np.ndarray
    freq: np.ndarray

    @property
    def shots(self) -> int:
        """Shots of the experiment (the sum of the frequencies)."""
        return int(self.freq.sum())

    @classmethod
    def from_qpu(cls, counts: Mapping[str, int], num_wires: int) -> Outcomes:
        """Parse QPU counts (binary keys, clbit 0 rightmost) over ``num_wires`` clbits.

        Zero counts are dropped; keys shorter than ``num_wires`` are zero-padded on the left
        (the high clbits), as a QPU that trims leading zeros means.

        Raises:
            ServerError: If a key is wider than ``num_wires`` or not binary.
        """
        keys = [key for key, n in counts.items() if n]
        freq = np.fromiter((counts[key] for key in keys), dtype=np.int64, count=len(keys))
        if not keys:
            return cls(np.zeros((0, num_wires), dtype=np.uint8), freq)
        if any(len(key) != num_wires for key in keys):
            wide = [key for key in keys if len(key) > num_wires]
            if wide:
                raise ServerError(_bad_key(wide[0], num_wires))
            keys = [key.zfill(num_wires) for key in keys]
        text = "".join(keys).encode("ascii", "replace")
        raw = np.frombuffer(text, dtype=np.uint8).reshape(len(keys), num_wires) - ord("0")
        if (raw > 1).any():  # not binary (uint8 wraps whatever is below "0")
            raise ServerError(_bad_key(keys[int(np.argmax((raw > 1).any(axis=1)))], num_wires))
        return cls._sorted(raw[:, ::-1], freq)

    @classmethod
    def from_wire_order(cls, counts: Mapping[str, int], num_wires: int) -> Outcomes:
        """Parse counts keyed in wire order (the first measured wire leftmost)."""
        reversed_keys = {key[::-1]: n for key, n in counts.items()}
        return cls.from_qpu(reversed_keys, num_wires)

    @classmethod
    def _sorted(cls, bits: np.ndarray, freq: np.ndarray) -> Outcomes:
        if bits.shape[1]:
            order = np.lexsort(bits.T[::-1])  # the first wire is the primary key
            bits, freq = bits[order], freq[order]
        return cls(np.ascontiguousarray(bits, dtype=np.uint8), freq)

    def to_counts(self) -> dict[str, int]:
        """``{bitstring: count}`` in wire order, ascending, zero counts left out."""
        chars = (self.bits + ord("0")).astype(np.uint8)
        width = chars.shape[1]
        text = chars.tobytes().decode("ascii")
        keys = [text[i * width : (i + 1) * width] for i in range(len(self.freq))]
        return dict(zip(keys, self.freq.tolist(), strict=True))

    def select(self, positions: Sequence[int]) -> np.ndarray:
        """The bits of the wires at ``positions`` (columns), one row per outcome."""
        return self.bits[:, list(positions)]

    def index(self, positions: Sequence[int]) -> np.ndarray:
        """Each outcome's basis-state index over the wires at ``positions`` (first = MSB)."""
        sub = self.select(positions).astype(np.int64)
        weights = 1 << np.arange(len(positions) - 1, -1, -1, dtype=np.int64)
        return sub @ weights

    def parity(self, positions: Sequence[int]) -> np.ndarray:
        """``+1``/``-1`` per outcome: the eigenvalue of ``Z`` on each wire at ``positions``."""
        if not len(positions):
            return np.ones(len(self.freq))
        odd = self.select(positions).sum(axis=1, dtype=np.int64) & 1
        return 1.0 - 2.0 * odd

    def histogram(self, positions: Sequence[int]) -> np.ndarray:
        """Counts of every basis state over the wires at ``positions`` (length ``2**k``)."""
        return np.bincount(self.index(positions), weights=self.freq, minlength=2 ** len(positions))

    def marginal(self, positions: Sequence[int]) -> Outcomes:
        """The outcomes over the wires at ``positions`` alone, equal outcomes merged."""
        if not len(self.freq) or not len(positions):
            bits = np.zeros((min(len(self.freq), 1), len(positions)), dtype=np.uint8)
            return Outcomes(bits, self.freq.sum(keepdims=True)[: len(bits)])
        rows, inverse = np.unique(self.select(positions), axis=0, return_inverse=True)
        freq = np.bincount(inverse.ravel(), weights=self.freq, minlength=len(rows))
        return Outcomes(np.ascontiguousarray(rows), freq.astype(np.int64))

    def samples(self, rng: np.random.Generator) -> np.ndarray:
        """One ``int64`` row of bits per shot, in an order drawn from ``rng``."""
        samples = np.repeat(self.bits.astype(np.int64), self.freq, axis=0)
        rng.shuffle(samples, axis=0)
        return samples


def _bad_key(key: str, num_wires: int) -> str:
    return (
        f"the QPU returned the outcome {key[:80]!r}, which is not a {num_wires}-bit binary "
        "string; the counts cannot be read"
    )


def outcome_values(outcomes: Outcomes, positions: Sequence[int], eigvals: Any) -> np.ndarray:
    """The eigenvalue each outcome gives, from eigenvalues in basis order over ``positions``."""
    return np.asarray(eigvals)[outcomes.index(positions)]
