"""Run Qiskit circuits on QPI QPUs: a ``BackendV2``, its jobs, ``SamplerV2`` and ``EstimatorV2``.

Example:
    ```python
    from qiskit import QuantumCircuit, transpile
    from qpi.server import LocalServer

    with LocalServer() as server:
        backend = server.client().get_backend("mock")
        bell = QuantumCircuit(2, 2)
        bell.h(0)
        bell.cx(0, 1)
        bell.measure([0, 1], [0, 1])
        print(backend.run(transpile(bell, backend), shots=1000).result().get_counts())
    ```

See the Qiskit guide for options, parameter sweeps bound on the server, registers, memory,
``meas_level=1``, job retrieval, the primitives and transpilation.

The package is imported lazily: ``import qpi_qiskit`` does not import Qiskit until one of its
names is used, because the core client loads this plugin on every ``QPIClient()``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from qpi.lazy import lazy_exports

if TYPE_CHECKING:
    from qpi_qiskit.backend import QPIBackend
    from qpi_qiskit.convert import dumps, to_circuit
    from qpi_qiskit.estimator import EstimatorOptions, QPIEstimator
    from qpi_qiskit.job import QPIJob, QPIJobTimeoutError
    from qpi_qiskit.primitive_job import QPIPrimitiveJob
    from qpi_qiskit.sampler import QPISampler, QPISamplerJob, SamplerOptions

__all__ = [
    "EstimatorOptions",
    "QPIBackend",
    "QPIEstimator",
    "QPIJob",
    "QPIJobTimeoutError",
    "QPIPrimitiveJob",
    "QPISampler",
    "QPISamplerJob",
    "SamplerOptions",
    "dumps",
    "to_circuit",
]

# Where each public name lives; imported on first use.
__getattr__, __dir__ = lazy_exports(
    __name__,
    {
        "EstimatorOptions": "qpi_qiskit.estimator",
        "QPIBackend": "qpi_qiskit.backend",
        "QPIEstimator": "qpi_qiskit.estimator",
        "QPIPrimitiveJob": "qpi_qiskit.primitive_job",
        "QPIJob": "qpi_qiskit.job",
        "QPIJobTimeoutError": "qpi_qiskit.job",
        "QPISampler": "qpi_qiskit.sampler",
        "QPISamplerJob": "qpi_qiskit.sampler",
        "SamplerOptions": "qpi_qiskit.sampler",
        "dumps": "qpi_qiskit.convert",
        "to_circuit": "qpi_qiskit.convert",
    },
    extra="qiskit",
)
