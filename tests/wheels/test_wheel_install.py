"""The built wheel, installed into fresh virtual environments one extra at a time.

Each environment gets the wheel with one extra alone (no system site-packages, nothing from
this checkout), proves that a part whose extra is missing names the extra to install, then
adds what the guide's install line adds and runs the guide's first example as written.
Installs go through the machine's ordinary pip configuration and its one shared pip cache, so
the downloads of one run are reused by the next.
"""

from __future__ import annotations

import os
import subprocess
import sys
import venv
from pathlib import Path

import pytest

from tests.docs.test_examples import python_blocks

ROOT = Path(__file__).resolve().parents[2]
STEP_TIMEOUT = 600  # seconds for one pip install or one example

pytestmark = [pytest.mark.slow, pytest.mark.timeout(3 * STEP_TIMEOUT)]

#: extra -> (the page whose first example it runs, what the page's install line adds).
CASES = {
    "core": ("docs/guides/core.md", "server"),
    "server": ("docs/guides/core.md", None),
    "qiskit": ("docs/guides/qiskit.md", "server"),
    "pennylane": ("docs/guides/pennylane.md", "server"),
    "cirq": ("docs/guides/cirq.md", "server"),
}


def run(args: list[str], cwd: Path) -> subprocess.CompletedProcess[str]:
    # Nothing of this checkout may leak in: the environment must stand on the wheel alone.
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "VIRTUAL_ENV")}
    return subprocess.run(
        args, cwd=cwd, env=env, capture_output=True, text=True, timeout=STEP_TIMEOUT, check=False
    )


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("wheel")
    built = run([sys.executable, "-m", "pip", "wheel", "--no-deps", "-w", str(out), str(ROOT)], out)
    assert built.returncode == 0, built.stderr[-3000:]
    (path,) = out.glob("qpi_sdk-*.whl")
    return path


def test_the_wheel_carries_its_license_and_type_marker(wheel: Path) -> None:
    import zipfile

    names = zipfile.ZipFile(wheel).namelist()
    assert "qpi/py.typed" in names and "qpi_qiskit/py.typed" in names
    assert "qpi/server/dashboard/index.html" in names
    assert any(name.endswith(".dist-info/licenses/LICENSE") for name in names), names
    metadata = (
        zipfile.ZipFile(wheel)
        .read(next(n for n in names if n.endswith(".dist-info/METADATA")))
        .decode()
    )
    assert "Project-URL: Source, https://" in metadata
    assert "Requires-Dist: qiskit-aer" in metadata and "extra == 'aer'" in metadata
    assert "rich" not in metadata.split("Provides-Extra")[0]  # not a core dependency


def first_example(page: str) -> str:
    blocks = [code for _, code, skipped in python_blocks((ROOT / page).read_text()) if not skipped]
    code = blocks[0]
    if "LocalServer" not in code:  # the page opens with a real-server sketch: take the next
        code = blocks[1]
    return code + "\ntry:\n    server.stop()\nexcept NameError:\n    pass\n"


LIGHT_SERVER = """
import importlib.util
from qpi.server import LocalServer
assert importlib.util.find_spec("qiskit") is None
with LocalServer() as server:
    client = server.client(cache=False)
    assert [q["name"] for q in client.list_qpus()] == ["mock"], client.list_qpus()
    bell = 'OPENQASM 3.0; include "stdgates.inc"; qubit[2] q; bit[2] c; h q[0]; cx q[0], q[1];'
    bell += " c = measure q;"
    counts = client.run(bell, shots=100, qpu="mock").result().get_counts()
    assert set(counts) <= {"00", "11"}, counts
"""

MISSING = {
    "core": ("from qpi.server import LocalServer", "pip install 'qpi-sdk[server]'"),
    "server": ("from qpi_qiskit import QPIBackend", "pip install 'qpi-sdk[qiskit]'"),
    "qiskit": ("from qpi.server import LocalServer", "pip install 'qpi-sdk[server]'"),
    "pennylane": ("from qpi_cirq import QPISampler", "pip install 'qpi-sdk[cirq]'"),
    "cirq": ("from qpi_qiskit import QPIBackend", "pip install 'qpi-sdk[qiskit]'"),
}


@pytest.mark.parametrize("extra", list(CASES))
def test_each_extra_alone_then_its_guide(extra: str, wheel: Path, tmp_path: Path) -> None:
    env = tmp_path / "venv"
    venv.EnvBuilder(with_pip=True, system_site_packages=False).create(env)
    python = str(env / "bin" / "python")
    spec = f"{wheel}" if extra == "core" else f"{wheel}[{extra}]"
    installed = run([python, "-m", "pip", "install", "--quiet", "--no-compile", spec], tmp_path)
    assert installed.returncode == 0, installed.stderr[-3000:]

    statement, advice = MISSING[extra]
    missing = run([python, "-c", statement], tmp_path)
    assert missing.returncode == 1
    assert advice in missing.stderr and "MissingDependencyError" in missing.stderr, missing.stderr
    assert run([python, "-m", "qpi.cli", "--help"], tmp_path).returncode == 0
    where = run([python, "-c", "import qpi; print(qpi.__file__)"], tmp_path).stdout
    assert where.startswith(str(env)), where  # the installed wheel, not this checkout

    if extra == "server":  # the light server: no Qiskit, and qiskit_aer offline, not broken
        light = run([python, "-c", LIGHT_SERVER], tmp_path)
        assert light.returncode == 0, light.stderr[-3000:]

    page, adds = CASES[extra]
    if adds:
        added = run(
            [python, "-m", "pip", "install", "--quiet", "--no-compile", f"{wheel}[{extra},{adds}]"],
            tmp_path,
        )
        assert added.returncode == 0, added.stderr[-3000:]
    script = tmp_path / "example.py"
    script.write_text(first_example(page))
    ran = run([python, str(script)], tmp_path)
    assert ran.returncode == 0, f"{page}'s first example:\n{ran.stdout[-2000:]}{ran.stderr[-3000:]}"
