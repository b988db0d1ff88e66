"""Query-string helpers of the list routes: ``skip``/``limit``, ``sort`` and a small ``filter``.

``sort`` is PocketBase's: comma-separated fields, each optionally prefixed with ``-``
(descending) or ``+``. ``filter`` understands only what clients actually send:
``field = value`` and ``field != value`` comparisons, with a quoted string, a number,
``true``, ``false`` or ``null``, joined by ``&&``. Anything else is refused with a message
that says so, never guessed at.
"""

from __future__ import annotations

import re
from collections.abc import Collection, Iterable
from dataclasses import dataclass
from typing import Any

__all__ = [
    "SQL_INT_MAX",
    "Comparison",
    "ListQueryError",
    "lenient_int",
    "order_by",
    "parse_filter",
    "parse_sort",
]


class ListQueryError(ValueError):
    """A ``sort`` or ``filter`` the server cannot run; the message says why."""


#: The largest integer SQLite stores (a signed 64-bit one).
SQL_INT_MAX = 2**63 - 1
#: Comparisons one filter may join (SQLite refuses expressions nested 1000 deep).
MAX_FILTER_COMPARISONS = 100


def lenient_int(value: str | None, default: int, *, minimum: int = 0) -> int:
    """Parse a query integer; anything unparsable or below ``minimum`` gives ``default``.

    Numbers past what SQLite can bind are capped at [`SQL_INT_MAX`][qpi.server.listing.SQL_INT_MAX]
    (for a limit or an
    offset, that is "everything" or "past the end").
    """
    try:
        number = int(value) if value is not None else default
    except ValueError:
        return default
    return min(number, SQL_INT_MAX) if number >= minimum else default


def parse_sort(text: str | None, allowed: Collection[str], default: str) -> list[tuple[str, bool]]:
    """``[(field, descending), ...]`` from a sort string.

    Raises:
        ListQueryError: On a field that is not in ``allowed``.
    """
    text = text if text and text.strip() else default
    keys = []
    seen = set()
    for part in text.split(","):
        part = part.strip()
        if not part:
            continue
        descending = part.startswith("-")
        name = part.lstrip("+-").strip()
        if name not in allowed:
            raise ListQueryError(
                f'unknown sort field "{name}"; sort by one of {", ".join(sorted(allowed))}'
            )
        if name not in seen:  # a field sorted on again changes nothing (and SQL caps the terms)
            seen.add(name)
            keys.append((name, descending))
    return keys


def order_by(keys: Iterable[tuple[str, bool]], tiebreak: str = "rowid") -> str:
    """An ``ORDER BY`` clause for checked sort keys; ties follow insertion order."""
    keys = list(keys)
    parts = [f"{name} {'DESC' if desc else 'ASC'}" for name, desc in keys]
    last_desc = keys[0][1] if keys else False
    parts.append(f"{tiebreak} {'DESC' if last_desc else 'ASC'}")
    return "ORDER BY " + ", ".join(parts)


@dataclass(frozen=True)
class Comparison:
    """One ``field op value`` of a filter.

    Attributes:
        field: The field name.
        negated: ``True`` for ``!=``.
        value: A string, number, bool or ``None``.
    """

    field: str
    negated: bool
    value: Any


_TOKEN = re.compile(
    r"""\s*(?:
        (?P<and>&&)
      | (?P<op>!=|=)
      | (?P<str>"(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*')
      | (?P<num>-?\d+(?:\.\d+)?(?:[eE][-+]?\d+)?)
      | (?P<word>[A-Za-z_@][A-Za-z0-9_.]*)
    )""",
    re.VERBOSE,
)
_UNSUPPORTED = (
    'unsupported filter {text!r}: this server understands only field = "value" and '
    "field != value comparisons joined by &&"
)


def _tokens(text: str) -> list[tuple[str, str]]:
    tokens, pos = [], 0
    while pos < len(text):
        if text[pos:].strip() == "":
            break
        match = _TOKEN.match(text, pos)
        if match is None:
            raise ListQueryError(_UNSUPPORTED.format(text=text))
        kind = match.lastgroup or ""
        tokens.append((kind, match.group(kind)))
        pos = match.end()
    return tokens


def _literal(kind: str, text: str) -> Any:
    if kind == "str":
        return re.sub(r"\\(.)", r"\1", text[1:-1])
    if kind == "num":
        number = float(text)
        if number.is_integer() and "." not in text and abs(number) <= SQL_INT_MAX:
            return int(number)
        return number  # SQLite cannot bind a larger integer; as a float it compares alike
    if kind == "word" and text in ("true", "false"):
        return text == "true"
    if kind == "word" and text == "null":
        return None
    raise ListQueryError(
        f"a filter value must be a quoted string, a number, true, false or null, not {text!r}"
    )


def parse_filter(text: str | None, fields: Collection[str]) -> list[Comparison]:
    """Parse a filter into comparisons (all must hold).

    Raises:
        ListQueryError: On anything outside the supported subset or an unknown field.
    """
    if not text or not text.strip():
        return []
    tokens = _tokens(text)
    if len(tokens) > 4 * MAX_FILTER_COMPARISONS:
        raise ListQueryError(
            f"a filter may join at most {MAX_FILTER_COMPARISONS} comparisons with &&"
        )
    comparisons = []
    for start in range(0, len(tokens), 4):
        group = tokens[start : start + 4]
        if len(group) < 3 or group[0][0] != "word" or group[1][0] != "op":
            raise ListQueryError(_UNSUPPORTED.format(text=text))
        if len(group) == 4 and group[3][0] != "and":
            raise ListQueryError(_UNSUPPORTED.format(text=text))
        if len(group) == 4 and start + 4 == len(tokens):
            raise ListQueryError(_UNSUPPORTED.format(text=text))
        name = group[0][1]
        if name not in fields:
            raise ListQueryError(
                f'unknown filter field "{name}"; filter on one of {", ".join(sorted(fields))}'
            )
        comparisons.append(Comparison(name, group[1][1] == "!=", _literal(*group[2])))
    return comparisons
