"""Client CPU to turn a big sweep's results into native results (Cirq records, PennyLane values).

One job of a 12-qubit circuit swept over 1,000 rows with 1,000 shots each runs once on a
``LocalServer`` of its own (with a results cap above the 14 MiB of counts); then only the
client's work is timed (``time.process_time``), median of a few repeats, on the same
``JobResult``:

* **Cirq**: the job's counts to one ``cirq.ResultDict`` of per-shot records per row, by
  ``qpi_cirq.results.to_results``, against the previous implementation (one ``frombuffer``
  per outcome key, a JSON dump of the sorted counts per row for the shuffle seed), kept below
  as ``_old_cirq_results`` for this comparison only.
* **PennyLane**: the job's counts to each tape's value of a 24-term Ising Hamiltonian (one
  ``expval`` per term after the device splits it, as a QAOA cost is measured), by
  ``JobPlan.results``, against the previous path (a re-keyed counts dict per experiment and
  PennyLane's own ``process_counts`` once per term), kept below as ``_old_pennylane_results``.

Target (issue 15): ours under a quarter of the old path's CPU, i.e. a ratio of 4 or more.

Run it with ``python -m benchmarks.bench_native_results``.
"""

from __future__ import annotations

import hashlib
import json
import statistics
import time
from collections.abc import Callable
from typing import Any

import numpy as np

from benchmarks._common import row

NUM_QUBITS = 12
ROWS = 1000
SHOTS = 1000
REPEATS = 3
#: The results cap of this benchmark's own server (the default is a real server's 1 MiB).
RESULT_CAP = 64 * 1024 * 1024
TARGET = "ours <= 1/4 of the old path's client CPU"


def _cpu(function: Callable[[], Any]) -> float:
    """Median process CPU seconds of ``function()`` over ``REPEATS`` runs."""
    times = []
    for _ in range(REPEATS):
        began = time.process_time()
        function()
        times.append(time.process_time() - began)
    return statistics.median(times)


# -- Cirq -------------------------------------------------------------------------------------


def _cirq_sweep(server: Any) -> tuple[Any, Any, Any]:
    """Run the sweep once; return the job's result, its layout and its resolvers."""
    import cirq
    import sympy
    from qpi_cirq.sweeps import translate

    from qpi.payload import JobPayload

    qubits = cirq.LineQubit.range(NUM_QUBITS)
    theta = sympy.Symbol("theta")
    circuit = cirq.Circuit(
        cirq.H.on_each(*qubits),
        [cirq.rx(theta * (i + 1) / NUM_QUBITS).on(q) for i, q in enumerate(qubits)],
        cirq.measure(*qubits[:6], key="a"),
        cirq.measure(*qubits[6:], key="b"),
    )
    sweep = cirq.Linspace(theta, 0, np.pi, ROWS)
    entry = translate(circuit, sweep)  # what QPISampler.run_sweep sends
    with server.client(cache=False) as client:
        payload = JobPayload(
            circuits=(entry.payload,), shots=SHOTS, qpu_target=client.resolve_qpu("mock")
        )
        result = client.submit(payload, [entry]).result()
    return result, entry.context["layout"], entry.context["resolvers"]


def _old_cirq_results(experiments: Any, layout: Any, resolvers: Any) -> list[Any]:
    """The previous records construction, for this comparison only (uint8, per-key parsing)."""
    import cirq

    out = []
    width = sum(len(m["clbits"]) for m in layout["measurements"])
    for exp, resolver in zip(experiments, resolvers, strict=True):
        counts = exp.counts or {}
        keys = sorted(counts)
        bits = np.zeros((len(keys), width), dtype=np.uint8)
        for index, text in enumerate(keys):
            digits = np.frombuffer(text[::-1].encode("ascii"), dtype=np.uint8) - ord("0")
            bits[index, : len(digits)] = digits
        repeats = np.array([int(counts[k]) for k in keys], dtype=np.int64)
        shots = np.repeat(bits, repeats, axis=0)
        material = json.dumps([None, exp.circuit, exp.row, sorted(counts.items())])
        seed = int.from_bytes(hashlib.sha256(material.encode()).digest()[:8], "big")
        shots = shots[np.random.default_rng(seed).permutation(len(shots))]
        instances: dict[str, list[np.ndarray]] = {}
        for entry in layout["measurements"]:
            invert = np.array(entry["invert"], dtype=np.uint8)
            instances.setdefault(entry["key"], []).append(shots[:, entry["clbits"]] ^ invert)
        records = {key: np.stack(arrays, axis=1) for key, arrays in instances.items()}
        out.append(cirq.ResultDict(params=resolver, records=records))
    return out


def _cirq_row(server: Any) -> dict[str, Any]:
    from qpi_cirq.results import to_results

    result, layout, resolvers = _cirq_sweep(server)
    experiments = result.by_circuit()[0]
    ours = to_results(experiments, layout, resolvers)
    old = _old_cirq_results(experiments, layout, resolvers)
    for new, previous in zip(ours, old, strict=True):  # the same statistics, row by row
        for key in new.records:
            assert np.array_equal(
                np.sort(new.records[key], axis=0), np.sort(previous.records[key], axis=0)
            )
    qpi = _cpu(lambda: to_results(experiments, layout, resolvers))
    base = _cpu(lambda: _old_cirq_results(experiments, layout, resolvers))
    ratio = base / qpi if qpi else None
    return row(
        f"Cirq records of a {ROWS}-row, {NUM_QUBITS}-qubit sweep ({SHOTS} shots): client CPU",
        qpi,
        base,
        "the previous records construction",
        target=TARGET,
        passed=None if ratio is None else ratio >= 4,
    )


# -- PennyLane --------------------------------------------------------------------------------


def _ising() -> Any:
    import pennylane as qml

    terms = [qml.Z(i) @ qml.Z((i + 1) % NUM_QUBITS) for i in range(NUM_QUBITS)]
    terms += [qml.Z(i) for i in range(NUM_QUBITS)]
    return qml.Hamiltonian(np.linspace(-1, 1, len(terms)), terms)


def _pennylane_sweep(server: Any) -> tuple[Any, Any]:
    """Run the broadcast sweep as one job; return the device's job plan and its result."""
    import pennylane as qml
    from qpi_pennylane import preprocess
    from qpi_pennylane.batch import JobPlan

    device = qml.device(
        "qpi.remote", wires=NUM_QUBITS, url=server.url, api_token=server.api_token, cache=False
    )
    xs = np.linspace(0, np.pi, ROWS)
    ops = [qml.Hadamard(i) for i in range(NUM_QUBITS)]
    ops += [qml.RX(xs * (i + 1) / NUM_QUBITS, wires=i) for i in range(NUM_QUBITS)]
    tape = qml.tape.QuantumScript(ops, [qml.expval(_ising())], shots=SHOTS)
    tapes, _ = preprocess(tape, device)
    plan = JobPlan(tapes, device.wires)
    with server.client(cache=False) as client:
        payload = plan.payload(client.resolve_qpu("mock"))
        result = client.submit(payload).result()
    return plan, result


def _old_pennylane_results(plan: Any, result: Any) -> list[Any]:
    """The previous path, for this comparison only: dict counts and process_counts per term."""
    from pennylane.wires import Wires

    out = []
    for exp in result.experiments:
        tape_index, _ = plan.entries[exp.circuit].slots[exp.row]
        tape = plan.tapes[tape_index]
        counts = exp.counts or {}
        keyed = {k[::-1]: int(n) for k, n in sorted(counts.items(), key=lambda kv: kv[0][::-1])}
        wires = Wires(list(plan.translated[tape_index].measured_wires))
        out.append([mp.process_counts(dict(keyed), wires) for mp in tape.measurements])
    return out


def _pennylane_row(server: Any) -> dict[str, Any]:
    plan, result = _pennylane_sweep(server)
    ours = plan.results(result)
    old = _old_pennylane_results(plan, result)
    np.testing.assert_allclose(np.asarray(ours, float), np.asarray(old, float), atol=1e-12)
    terms = len(plan.tapes[0].measurements)
    qpi = _cpu(lambda: plan.results(result))
    base = _cpu(lambda: _old_pennylane_results(plan, result))
    ratio = base / qpi if qpi else None
    return row(
        f"PennyLane values of a {terms}-term Hamiltonian over a {ROWS}-row, {NUM_QUBITS}-qubit "
        f"sweep ({SHOTS} shots): client CPU",
        qpi,
        base,
        "process_counts per term (the previous path)",
        target=TARGET,
        passed=None if ratio is None else ratio >= 4,
    )


def run(quick: bool = False) -> list[dict[str, Any]]:
    """Both comparisons, on a LocalServer of their own.

    The sweep's counts are about 14 MiB of JSON, over the 1 MiB a real server (and so the
    shared benchmark server) stores per job, so this server is started with a larger cap.
    """
    from qpi.server import LocalServer

    with LocalServer(seed=11, max_result_bytes=RESULT_CAP) as server:
        return [_cirq_row(server), _pennylane_row(server)]


def main() -> None:
    """Print the figures."""
    for item in run():
        print(item["name"])
        print(f"  ours: {item['qpi'] * 1e3:9.1f} ms CPU")
        print(f"  {item['baseline_name']}: {item['baseline'] * 1e3:9.1f} ms CPU")
        print(f"  ratio: {item['ratio']:.1f}x (target: {TARGET})")


if __name__ == "__main__":
    main()
