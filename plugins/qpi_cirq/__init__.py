"""Run Cirq circuits on QPI QPUs: a ``cirq.Sampler`` that sends a whole sweep as one job.

Example:
    ```python
    import cirq
    from qpi_cirq import QPISampler

    a, b = cirq.LineQubit.range(2)
    bell = cirq.Circuit(cirq.H(a), cirq.CNOT(a, b), cirq.measure(a, b, key="m"))
    with QPISampler(backend="mock") as sampler:
        print(sampler.run(bell, repetitions=1000).histogram(key="m"))
    ```

See the Cirq guide for sweeps, batches, async use, the gate set and measurement keys.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from qpi.lazy import lazy_exports

if TYPE_CHECKING:
    from qpi_cirq.convert import dumps, to_circuit
    from qpi_cirq.results import QPIResult
    from qpi_cirq.sampler import QPISampler

__all__ = ["QPIResult", "QPISampler", "dumps", "to_circuit"]

# Names are imported on first use: the qpi entry point imports ``qpi_cirq.plugin`` (and so
# this package) whenever a client is created, and that must not import Cirq.
__getattr__, __dir__ = lazy_exports(
    __name__,
    {
        "QPIResult": "qpi_cirq.results",
        "QPISampler": "qpi_cirq.sampler",
        "dumps": "qpi_cirq.convert",
        "to_circuit": "qpi_cirq.convert",
    },
    extra="cirq",
)
