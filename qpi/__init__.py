"""qpi: a Python SDK for the QPI quantum computing platform.

Run Qiskit, PennyLane and Cirq circuits on QPUs behind a QPI orchestrator, with a disk cache
that survives crashes and replays results offline, and a local orchestrator (``qpi serve``)
for working without one.

Example:
    ```python
    from qpi import QPIClient
    from qpi.server import LocalServer

    with LocalServer() as server:
        client = server.client()
        mock = client.get_qpu("mock")["id"]
        job_id = client.submit_job([{"circuit": BELL_QASM}], qpu_target=mock)
        print(client.wait_for_job(job_id)["results"]["circuit_results"][0]["counts"])
    ```
"""

from __future__ import annotations

from importlib.metadata import PackageNotFoundError, version
from typing import TYPE_CHECKING

from qpi import errors
from qpi.lazy import lazy_exports

if TYPE_CHECKING:
    from qpi.client import QPIClient

try:
    __version__ = version("qpi-sdk")
except PackageNotFoundError:  # running from a source tree that was never installed
    __version__ = "0.0.0"

__all__ = ["QPIClient", "__version__", "errors"]


# QPIClient is imported lazily so `import qpi` stays cheap for the CLI and plugins.
__getattr__, __dir__ = lazy_exports(__name__, {"QPIClient": "qpi.client"})
