"""Docstrings use Markdown cross-references, never reST roles (mkdocstrings renders Markdown).

A reST role such as ``:class:`~qpi.transport.Timeouts``` shows up raw in the API reference;
write [`Timeouts`][qpi.transport.Timeouts] instead.
"""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
ROLE = re.compile(r":(?:py:)?(?:class|meth|func|mod|attr|exc|data|obj|const|ref|doc):`")


def test_no_rest_roles_in_the_sources() -> None:
    found = []
    for path in sorted(
        [*ROOT.joinpath("qpi").rglob("*.py"), *ROOT.joinpath("plugins").rglob("*.py")]
    ):
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            if ROLE.search(line):
                found.append(f"{path.relative_to(ROOT)}:{number}: {line.strip()}")
    assert not found, "reST roles; write [`Name`][full.path.Name] instead:\n" + "\n".join(found)


def test_the_pattern_catches_roles() -> None:
    assert ROLE.search("see :class:`~qpi.transport.Timeouts`")
    assert ROLE.search(":py:meth:`x`") and ROLE.search(":exc:`ValueError`")
    assert not ROLE.search("[`Timeouts`][qpi.transport.Timeouts] and ``a:b``")
