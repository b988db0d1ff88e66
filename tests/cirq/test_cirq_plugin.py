"""The entry-point module stays import-light, and answers only for Cirq objects."""

from __future__ import annotations

import subprocess
import sys

import cirq
from qpi_cirq import plugin

from qpi.hooks import TranslatedCircuit
from qpi.payload import CircuitPayload
from qpi.result import ExperimentResult


def test_creating_a_client_does_not_import_cirq():
    code = (
        "import sys\n"
        "from qpi import QPIClient\n"
        "client = QPIClient('http://127.0.0.1:9', cache=False)\n"
        "assert client.plugins.get_plugin('cirq') is not None, 'plugin not registered'\n"
        "assert 'cirq' not in sys.modules, 'cirq was imported'\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True, timeout=60)


def test_hooks_ignore_what_is_not_cirq():
    assert (
        plugin.qpi_translate_circuit(obj="OPENQASM 3.0;", parameter_values=None, options={}) is None
    )
    other = TranslatedCircuit(CircuitPayload("OPENQASM 3.0;"), plugin="qiskit")
    assert plugin.qpi_native_result(experiments=[], translated=other) is None


def test_the_hooks_translate_frozen_circuits_and_read_their_results_back():
    q = cirq.LineQubit(0)
    frozen = cirq.FrozenCircuit(cirq.X(q), cirq.measure(q, key="m"))
    translated = plugin.qpi_translate_circuit(obj=frozen, parameter_values=None, options={})
    assert translated.plugin == "cirq"
    assert translated.payload.circuit.startswith("OPENQASM 3.0;")
    experiment = ExperimentResult(circuit=0, row=0, shots=3, counts={"1": 3})
    (result,) = plugin.qpi_native_result(experiments=[experiment], translated=translated)
    assert isinstance(result, cirq.ResultDict)
    assert result.measurements["m"].tolist() == [[1], [1], [1]]
