"""The documentation's table of differences names, for every row, tests that exist."""

from __future__ import annotations

import ast
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
DOC = ROOT / "docs" / "local-orchestrator.md"
SECTION = "## Differences between the real server and the two modes"


def _rows() -> list[str]:
    text = DOC.read_text(encoding="utf-8").split(SECTION, 1)[1].split("\n## ", 1)[0]
    return [line for line in text.splitlines() if line.startswith("| ") and "---" not in line]


def _tests(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    return {node.name for node in tree.body if isinstance(node, ast.FunctionDef)}


def test_every_difference_is_checked_by_an_existing_test():
    rows = _rows()[1:]  # past the header
    assert len(rows) >= 30
    for row in rows:
        cells = [cell.strip() for cell in row.strip("|").split(" | ")]
        assert len(cells) == 5, row
        named = re.findall(r"`(tests/[\w/]+\.py)::(\w+)`", cells[4])
        assert named, f"no test named for: {cells[0]}"
        for path, name in named:
            assert name in _tests(ROOT / path), f"{path}::{name} does not exist ({cells[0]})"
