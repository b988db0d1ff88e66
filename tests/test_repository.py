"""The repository keeps its promises to a fresh machine."""

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def _readme_commands() -> list[str]:
    text = (ROOT / "README.md").read_text()
    return [
        line.strip() for line in text.splitlines() if line.strip().startswith("python3 -m venv")
    ]


def test_readme_starts_with_the_demo_and_test_commands():
    commands = _readme_commands()
    assert len(commands) >= 2
    assert commands[0].endswith("qpi demo")
    assert "[test]" in commands[1] and commands[1].endswith("pytest")


def test_ci_runs_the_readme_test_command_verbatim():
    ci = (ROOT / ".ci" / "run").read_text()
    assert _readme_commands()[1] in ci.splitlines()


def test_client_reference_lists_every_public_method():
    # docs/reference/client.md orders QPIClient's members by hand (most are inherited from the
    # qpi/_api mixins), so a new public method must be added there to be documented.
    import inspect

    from qpi.client import QPIClient

    page = (ROOT / "docs" / "reference" / "client.md").read_text()
    block = page.split("::: qpi.client.QPIClient\n", 1)[1].split("\n\n", 1)[0]
    listed = re.findall(r"^\s+- (\w+)$", block, flags=re.MULTILINE)
    public = {name for name, _ in inspect.getmembers(QPIClient) if not name.startswith("_")}
    assert len(listed) == len(set(listed))
    assert set(listed) == public
