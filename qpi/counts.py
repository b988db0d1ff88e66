"""Counts as they arrive from a QPU driver: normalised keys, zero counts dropped.

The real driver sends every one of the 2^n outcomes of an n-clbit circuit, zeros included, so
a 20-clbit job carries a million keys per experiment. They are dropped as soon as a job record
arrives ([`drop_zero_counts`][qpi.counts.drop_zero_counts]), before it is cached or parsed.

[`normalise_counts`][qpi.counts.normalise_counts] checks keys in bulk: the usual answer
(binary keys of one width, integer counts) is validated with a few passes that run in C
(``str.join``, ``set``, ``map``) and copied, instead of parsing and re-formatting every key in
Python; other shapes (hex or integer keys, spaces between registers, mixed widths) take the
general path.
"""

from __future__ import annotations

from collections.abc import Mapping
from itertools import compress
from typing import Any

__all__ = ["drop_zero_counts", "normalise_counts"]

_BINARY = frozenset("01")


def normalise_counts(counts: Mapping[Any, Any], width: int | None = None) -> dict[str, int]:
    """Turn counts with binary, hex (``"0x3"``) or integer keys into binary keys.

    Keys are zero-padded to ``width`` (or to the longest binary key), and zero counts are
    dropped so results compare equal whether or not the server padded them in.
    """
    fast = _uniform_binary(counts, width)
    if fast is not None:
        return fast
    return _general(counts, width)


def _uniform_binary(counts: Mapping[Any, Any], width: int | None) -> dict[str, int] | None:
    """The counts, zeros dropped, when every key is binary text of one width; else ``None``."""
    if not counts:
        return {}
    keys = list(counts)
    values = list(counts.values())
    if set(map(type, keys)) != {str} or set(map(type, values)) != {int}:
        return None
    lengths = set(map(len, keys))
    if len(lengths) != 1:
        return None
    length = lengths.pop()
    if length == 0 or (width is not None and width != length):
        return None
    if not set("".join(keys)) <= _BINARY or min(values) < 0:
        return None
    if 0 not in values:
        return dict(zip(keys, values, strict=True))
    mask = [value != 0 for value in values]
    return dict(zip(compress(keys, mask), compress(values, mask), strict=True))


def _general(counts: Mapping[Any, Any], width: int | None) -> dict[str, int]:
    parsed: list[tuple[int, int, int]] = []  # (value, binary length or 0, count)
    for key, count in counts.items():
        n = int(count)
        if isinstance(key, int):
            parsed.append((key, 0, n))
            continue
        text = str(key).strip().replace(" ", "")
        if text[:2].lower() == "0x":
            parsed.append((int(text, 16), 0, n))
        else:
            parsed.append((int(text, 2), len(text), n))
    if width is None:
        width = max((max(length, value.bit_length()) for value, length, _ in parsed), default=0)
    out: dict[str, int] = {}
    for value, _, n in parsed:
        if n:
            key = format(value, f"0{width}b") if width else "0"
            out[key] = out.get(key, 0) + n
    return out


def drop_zero_counts(results: Any) -> Any:
    """``results`` (a job record's) with zero counts removed from every ``counts`` dict.

    Anything that is not a results object is returned as it is; the input is not modified.
    """
    if not isinstance(results, Mapping):
        return results
    out = dict(results)
    if isinstance(out.get("counts"), Mapping):
        out["counts"] = _nonzero(out["counts"])
    entries = out.get("circuit_results")
    if isinstance(entries, list):
        out["circuit_results"] = [
            {**entry, "counts": _nonzero(entry["counts"])}
            if isinstance(entry, Mapping) and isinstance(entry.get("counts"), Mapping)
            else entry
            for entry in entries
        ]
    return out


def _nonzero(counts: Mapping[Any, Any]) -> dict[Any, Any]:
    values = list(counts.values())
    if 0 not in values:
        return dict(counts)
    mask = [value != 0 for value in values]
    return dict(zip(compress(list(counts), mask), compress(values, mask), strict=True))
