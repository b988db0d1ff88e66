"""PocketBase's ``?fields=`` picker: answer only the fields a client asks for.

``fields`` is a comma-separated list of field paths. A path names a root key (``status``),
a nested one with dots (``results.circuit_results``), or every key of a level with ``*``
(``*`` at the root, ``payload.*``). Arrays of objects are picked item by item, so on a list
the paths name the fields of each item, and on the records API's envelope those of each of
its ``items``. A path may end with the ``excerpt(max, ellipsis?)`` modifier
(``description:excerpt(80,true)``): the value as plain text (HTML tags removed, whitespace
collapsed), cut to ``max`` characters. Names that match nothing are ignored; an empty
``fields`` picks everything.

This is the semantics of PocketBase's ``tools/picker`` (the real server answers every
successful JSON response through it), rewritten here; where PocketBase's result depends on
Go's map order (a field asked for both whole and by a nested path) the whole field wins.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from html.parser import HTMLParser
from typing import Any

__all__ = [
    "MAX_FIELDS",
    "MAX_FIELDS_LENGTH",
    "Excerpt",
    "FieldsError",
    "Selection",
    "parse_fields",
    "pick",
]

#: Longest ``fields`` value accepted, in characters.
MAX_FIELDS_LENGTH = 2000
#: Most paths one ``fields`` value may list.
MAX_FIELDS = 100


class FieldsError(ValueError):
    """A ``fields`` value the server cannot apply; the message says why."""


@dataclass(frozen=True)
class Excerpt:
    """The ``excerpt(max, ellipsis?)`` modifier: plain text of at most ``max`` characters.

    Attributes:
        max_length: The longest excerpt, in characters (before the ellipsis).
        ellipsis: Append ``...`` when the text was cut.
    """

    max_length: int
    ellipsis: bool = False

    def apply(self, value: Any) -> Any:
        """The excerpt of a string value; other values are returned unchanged."""
        if not isinstance(value, str):
            return value
        text = _plain_text(value, self.max_length)
        if len(text) > self.max_length:
            text = text[: self.max_length].strip() + ("..." if self.ellipsis else "")
        return text


@dataclass(frozen=True)
class Selection:
    """A parsed ``fields`` value: each path (dot-separated) and its modifier.

    Attributes:
        paths: ``{"status": None, "results.counts": None, "title": Excerpt(...)}``.
    """

    paths: Mapping[str, Excerpt | None]

    def roots(self) -> frozenset[str] | None:
        """The root keys the selection can keep; ``None`` when a root ``*`` keeps them all."""
        if "*" in self.paths:
            return None
        return frozenset(path.split(".", 1)[0] for path in self.paths)

    def is_flat(self) -> bool:
        """Whether every path is a root key (or ``*``) without a modifier: values kept whole."""
        return all("." not in p and m is None for p, m in self.paths.items())


def _split_top(text: str) -> list[str]:
    """Split on commas outside parentheses (a modifier's arguments hold commas)."""
    parts, depth, start = [], 0, 0
    for index, char in enumerate(text):
        if char == "(":
            depth += 1
        elif char == ")":
            depth = max(0, depth - 1)
        elif char == "," and depth == 0:
            parts.append(text[start:index])
            start = index + 1
    parts.append(text[start:])
    return [part.strip() for part in parts if part.strip()]


_MODIFIER = re.compile(r"^\s*([A-Za-z_]\w*)\s*(?:\((.*)\))?\s*$", re.DOTALL)
_TRUE = frozenset({"1", "t", "true"})
_FALSE = frozenset({"0", "f", "false", ""})


def _modifier(text: str) -> Excerpt:
    match = _MODIFIER.match(text)
    if match is None or match.group(1) != "excerpt":
        raise FieldsError(f'unknown field modifier "{text.strip()}"; the only one is excerpt(max)')
    args = [a.strip() for a in (match.group(2) or "").split(",")] if match.group(2) else []
    if not 1 <= len(args) <= 2:
        raise FieldsError("excerpt takes (max) or (max, ellipsis), e.g. excerpt(100,true)")
    try:
        max_length = int(args[0])
    except ValueError:
        raise FieldsError(f'excerpt max must be a whole number, not "{args[0]}"') from None
    if max_length <= 0:
        raise FieldsError("excerpt max must be greater than 0")
    flag = args[1].lower() if len(args) == 2 else ""
    if flag not in _TRUE | _FALSE:
        raise FieldsError(f'excerpt ellipsis must be true or false, not "{args[1]}"')
    return Excerpt(max_length, flag in _TRUE)


def parse_fields(text: str | None) -> Selection | None:
    """Parse a ``fields`` query value; ``None`` for an absent or blank one (pick everything).

    Raises:
        FieldsError: For a value too long, too many paths, or a bad modifier.
    """
    if text is None or not text.strip():
        return None
    if len(text) > MAX_FIELDS_LENGTH:
        raise FieldsError(f"fields is longer than {MAX_FIELDS_LENGTH} characters")
    parts = _split_top(text)
    if len(parts) > MAX_FIELDS:
        raise FieldsError(f"fields lists more than {MAX_FIELDS} paths")
    paths: dict[str, Excerpt | None] = {}
    for part in parts:
        path, _, modifier = part.partition(":")
        path = path.strip()
        if not path:
            raise FieldsError(f'"{part}" names no field')
        paths[path] = _modifier(modifier) if modifier else None
    return Selection(paths)


def pick(value: Any, selection: Selection | None) -> Any:
    """``value`` with only the selected fields (a new object; ``value`` is not changed).

    Objects keep the selected keys; arrays of objects are picked item by item; anything else
    is returned as it is.
    """
    if selection is None:
        return value
    return _pick(value, dict(selection.paths))


def _pick(value: Any, paths: dict[str, Excerpt | None]) -> Any:
    if isinstance(value, dict):
        return _pick_object(value, paths)
    if isinstance(value, list) and value and isinstance(value[0], dict):
        return [_pick_object(item, paths) if isinstance(item, dict) else item for item in value]
    return value


def _pick_object(data: dict[str, Any], paths: dict[str, Excerpt | None]) -> dict[str, Any]:
    if not paths:
        return data
    picked: dict[str, Any] = {}
    wildcard = "*" in paths
    for key, item in data.items():
        whole = key in paths
        nested = {
            path[len(key) + 1 :]: m for path, m in paths.items() if path.startswith(key + ".")
        }
        if whole:
            modifier = paths[key]
            picked[key] = modifier.apply(item) if modifier is not None else item
        elif nested:
            picked[key] = _pick(item, nested)
        elif wildcard:
            modifier = paths["*"]
            picked[key] = modifier.apply(item) if modifier is not None else item
    return picked


# -- the excerpt's HTML-to-text ------------------------------------------------------------------

#: Elements whose content is not text a reader sees.
_SKIPPED = frozenset(
    {"head", "style", "script", "iframe", "embed", "applet", "object", "svg", "img", "picture",
     "dialog", "template", "button", "form", "textarea", "input", "select", "option"}
)  # fmt: skip
#: Elements inside a line of text (everything else separates words like a block).
_INLINE = frozenset(
    {"a", "abbr", "acronym", "b", "bdo", "big", "br", "button", "cite", "code", "em", "i",
     "label", "q", "small", "span", "strong", "strike", "sub", "sup", "time"}
)  # fmt: skip
_SPACES = re.compile(r"\s+")


class _TextCollector(HTMLParser):
    def __init__(self, limit: int) -> None:
        super().__init__(convert_charrefs=True)
        self.limit = limit
        self.parts: list[str] = []
        self.size = 0
        self.skipping = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in _SKIPPED:
            self.skipping += 1
        elif tag not in _INLINE:
            self._add(" ")

    def handle_endtag(self, tag: str) -> None:
        if tag in _SKIPPED:
            self.skipping = max(0, self.skipping - 1)
        elif tag not in _INLINE:
            self._add(" ")

    def handle_data(self, data: str) -> None:
        if not self.skipping:
            self._add(data)

    def _add(self, text: str) -> None:
        text = _SPACES.sub(" ", text)
        if text and self.size <= self.limit + 2:  # past the excerpt's end nothing more counts
            self.parts.append(text)
            self.size += len(text)

    @property
    def full(self) -> bool:
        return self.size > self.limit + 2


def _plain_text(html: str, limit: int) -> str:
    collector = _TextCollector(limit)
    # Fed in slices, so a long value stops being parsed once the excerpt is complete.
    for start in range(0, len(html), 4096):
        collector.feed(html[start : start + 4096])
        if collector.full:
            break
    collector.close()
    return _SPACES.sub(" ", "".join(collector.parts)).strip()
