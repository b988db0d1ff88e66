"""Every Python example of the documentation runs as written, page by page, in page order.

The ```python blocks of each page (and of the README) share one namespace, as a reader who
pastes them one after the other into one session would; they start their own
[`LocalServer`][qpi.server.LocalServer] where they need one. A block that cannot run here (it
needs a real QPI installation, or shows a signature) is preceded by the line
``<!-- docs-test: skip (why) -->``, which the rendered page does not show; keep those rare.

The pages about profiles assume the reader ran `qpi login` for a profile ``lab`` (the default)
and one named ``local``; each page runs with a config file holding those two, and nothing
else of the user's.
"""

from __future__ import annotations

import contextlib
import io
import os
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PAGES = sorted([ROOT / "README.md", *(ROOT / "docs").rglob("*.md")])
SKIP = re.compile(r"<!--\s*docs-test:\s*skip\b.*?-->")
PROFILES = """default_profile = "lab"

[profiles.lab]
url = "https://qpi.lab.example"
api_token = "qpi_docs_example_token"

[profiles.local]
url = "http://127.0.0.1:8090"
cache_mode = "replay"
"""
FENCE = re.compile(r"^(?P<indent>[ \t]*)```(?P<lang>[\w+-]*)[^\n]*$")


def python_blocks(text: str) -> list[tuple[int, str, bool]]:
    """``(line, code, skipped)`` for each ```python block of a Markdown page."""
    blocks = []
    lines = text.splitlines()
    i = 0
    while i < len(lines):
        match = FENCE.match(lines[i])
        if not match:
            i += 1
            continue
        indent, lang, start = match["indent"], match["lang"], i
        body = []
        i += 1
        while i < len(lines) and lines[i].strip() != "```":
            body.append(lines[i][len(indent) :] if lines[i].startswith(indent) else lines[i])
            i += 1
        i += 1
        if lang in ("python", "py"):
            before = next((line for line in reversed(lines[:start]) if line.strip()), "")
            blocks.append((start + 1, "\n".join(body) + "\n", bool(SKIP.search(before))))
    return blocks


def _pages_with_examples() -> list[Path]:
    return [page for page in PAGES if python_blocks(page.read_text(encoding="utf-8"))]


def test_the_block_reader_finds_fences_and_skip_marks() -> None:
    text = "x\n```python\na = 1\n```\n<!-- docs-test: skip (needs a lab) -->\n```python\nb\n```\n"
    assert python_blocks(text) == [(2, "a = 1\n", False), (6, "b\n", True)]


@pytest.mark.slow
@pytest.mark.timeout(600)
@pytest.mark.parametrize("page", _pages_with_examples(), ids=lambda p: str(p.relative_to(ROOT)))
def test_examples_run(page: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)  # examples that write files write them here
    config = tmp_path / "config.toml"
    config.write_text(PROFILES)
    monkeypatch.setenv("QPI_CONFIG", str(config))
    namespace: dict[str, object] = {"__name__": "__docs__"}
    try:
        for line, code, skipped in python_blocks(page.read_text(encoding="utf-8")):
            if skipped:
                continue
            where = f"{page.relative_to(ROOT)}:{line}"
            with contextlib.redirect_stdout(io.StringIO()):
                try:
                    exec(compile(code, where, "exec"), namespace)  # noqa: S102 - the docs' own code
                except Exception as exc:
                    raise AssertionError(f"the example at {where} fails: {exc!r}") from exc
    finally:
        _stop_servers(namespace)


def _stop_servers(namespace: dict[str, object]) -> None:
    """Stop what the page started and left running (servers, clients)."""
    from qpi.server import LocalServer

    for value in list(namespace.values()):
        if isinstance(value, LocalServer):
            value.stop()
    os.environ.pop("QPI_URL", None)
    os.environ.pop("QPI_API_TOKEN", None)
