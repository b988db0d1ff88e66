"""The repository keeps its promises to a fresh machine."""

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
