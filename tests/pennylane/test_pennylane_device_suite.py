"""PennyLane's own device test suite (what ``pl-device-test`` runs) against qpi.remote.

Equivalent to::

    pl-device-test --device qpi.remote --shots 10000 --skip-ops \
        --device-kwargs url=<server url> api_token=<token> cache=False

run here as ``python -m pytest <pennylane/devices/tests> ...`` so that it uses this
interpreter. Every skip and expected failure must have one of the reasons listed in
docs/guides/pennylane.md, mirrored in ``DOCUMENTED`` below.
"""

from __future__ import annotations

import re
import subprocess
import sys

import pytest

from qpi.server import LocalServer

# Reasons (substrings of pytest's report) documented in docs/guides/pennylane.md.
DOCUMENTED = (
    "could not import 'jax'",
    "Device is in non-analytical mode",
    "test should only be run in analytic mode",
    "only works with analytic-mode",
    "SparseHamiltonian only supported in analytic mode",
    "test only works with backprop",
    "test only works with parameter-shift",
    "If shots!=None no error is raised",
    "Some plugins don't update state information when shots is not None",
    "old device interface",
    "old interface specific",
    "operation not supported on the device",  # QubitDensityMatrix: a mixed state
    "QutritBasisState template only works on qutrit devices",
    "Device does not support custom measurement transforms",
    "Beamsplitter",  # continuous-variable (photonic) operations
    "Displacement",
    "Squeezing",
)


@pytest.mark.slow
def test_the_pennylane_device_suite_passes(pl_server: LocalServer, tmp_path) -> None:
    from pennylane.devices.tests import get_device_tests

    command = [
        sys.executable, "-m", "pytest", get_device_tests(),
        "--device=qpi.remote", "--shots=10000", "--skip-ops",
        "--device-kwargs", f"url={pl_server.url}", f"api_token={pl_server.api_token}",
        "cache=False",
        "-p", "no:cacheprovider", "-q", "-rfEsx", "--no-flaky-report", "-W", "ignore",
    ]  # fmt: skip
    done = subprocess.run(
        command, cwd=tmp_path, capture_output=True, text=True, timeout=900, check=False
    )
    report = done.stdout + done.stderr
    assert done.returncode == 0, report[-5000:]
    summary = re.search(r"(\d+) passed", report)
    assert summary is not None and int(summary.group(1)) >= 370, report[-3000:]
    assert " failed" not in report.splitlines()[-1]
    unexplained = [
        line
        for line in report.splitlines()
        if line.startswith(("SKIPPED", "XFAIL")) and not any(r in line for r in DOCUMENTED)
    ]
    assert not unexplained, "\n".join(unexplained)
