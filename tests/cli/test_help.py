"""`qpi --help`: every command listed, exit statuses documented, nothing heavy imported."""

from __future__ import annotations

import subprocess
import sys

import pytest

from qpi.cli import COMMANDS

SUBCOMMANDS = [
    ["jobs", "list"],
    ["jobs", "show"],
    ["jobs", "wait"],
    ["jobs", "cancel"],
    ["cache", "info"],
    ["cache", "list"],
    ["cache", "export"],
    ["cache", "import"],
    ["cache", "clear"],
    ["cache", "prune"],
]


def test_help_lists_commands_and_exit_codes(qpi) -> None:
    result = qpi("--help")
    assert result.exit_code == 0
    for name in COMMANDS:
        assert f"  {name} " in result.stdout
    assert "Exit status:" in result.stdout
    assert "8  cache miss in replay mode" in result.stdout
    assert "--cache-mode" in result.stdout


@pytest.mark.parametrize("command", [[name] for name in COMMANDS] + SUBCOMMANDS)
def test_every_command_has_help(qpi, command) -> None:
    result = qpi(*command, "--help")
    assert result.exit_code == 0, result.stderr
    assert "Usage: " in result.stdout


def test_version(qpi) -> None:
    assert qpi("--version").stdout.startswith("qpi, version ")


def test_help_imports_no_framework() -> None:
    code = (
        "import sys\n"
        "from qpi.cli import main\n"
        "try:\n"
        "    main(['--help'])\n"
        "except SystemExit:\n"
        "    pass\n"
        "heavy = ('qiskit', 'pennylane', 'cirq', 'fastapi', 'uvicorn', 'rich', 'numpy')\n"
        "print([m for m in heavy if m in sys.modules])\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=60
    ).stdout
    assert out.strip().splitlines()[-1] == "[]"
