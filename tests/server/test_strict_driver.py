"""The strict driver in-process: the real QPI driver's loading rules and result quirks.

Expected messages are the real driver's (``qpi-driver/py/qpi_driver``: ``executors/utils/
qiskit.py`` loads QASM, ``builtins/qpu.py`` sanitises errors other than ``ValueError``).
"""

from __future__ import annotations

import pytest

from qpi.server.strict.driver import run_job
from qpi.server.strict.limits import is_oversized

OPTIONS = {"backend_name": "mock", "seed": 1, "max_qubits": 24, "max_shots": 1_000_000}
IF_ELSE = (
    'OPENQASM 3.0;\ninclude "stdgates.inc";\nbit[1] c;\nqubit[1] q;\nh q[0];\n'
    "c[0] = measure q[0];\nif (c[0]) { x q[0]; }\nc[0] = measure q[0];\n"
)


def _run(circuit: str, executor: str = "mock", **payload) -> dict:
    body = {"circuits": [{"circuit": circuit}], "shots": 10, "meas_level": 2, **payload}
    return run_job(body, executor_type=executor, **OPTIONS)


def test_control_flow_fails_on_mock():
    pytest.importorskip("qiskit")
    assert _run(IF_ELSE)["error"] == (
        "TranspilerError: job execution failed, see driver logs for details"
    )


def test_meas_level_0_and_missing_header():
    assert _run(IF_ELSE, meas_level=0)["error"].startswith("NotImplementedError: ")
    assert "missing or unrecognized OPENQASM version header" in _run("qubit q;")["error"]


def test_rows_must_match_the_parameters():
    text = (
        'OPENQASM 3.0;\ninclude "stdgates.inc";\ninput float[64] theta;\nbit[1] c;\nqubit[1] q;\n'
        "rx(theta) q[0];\nc[0] = measure q[0];\n"
    )
    assert _run(text)["error"].startswith("TypeError: ")
    body = {"circuits": [{"circuit": text, "parameter_values": [[1.0, 2.0]]}], "shots": 5}
    assert run_job(body, executor_type="mock", **OPTIONS)["error"].startswith("Mismatching")


def test_results_too_big_to_save_are_marked():
    wide = 'OPENQASM 3.0;\ninclude "stdgates.inc";\nbit[20] c;\nqubit[20] q;\nc = measure q;\n'
    assert is_oversized(_run(wide))
