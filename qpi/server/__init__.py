"""The local QPI orchestrator: the QPI REST API with built-in simulator QPUs.

``qpi serve`` runs it in the foreground; [`LocalServer`][qpi.server.LocalServer] runs it in a
background thread
(tests, notebooks, the demo). Names are imported lazily so that the simulator worker
processes, which import [`qpi.server.executors`][qpi.server.executors], never load the web stack.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from qpi.lazy import lazy_exports

if TYPE_CHECKING:
    from qpi.server.app import create_app
    from qpi.server.config import ServerConfig
    from qpi.server.local import LocalServer

__all__ = ["LocalServer", "ServerConfig", "create_app"]

# Imported on first use, so the simulator processes never load the web stack.
__getattr__, __dir__ = lazy_exports(
    __name__,
    {
        "LocalServer": "qpi.server.local",
        "ServerConfig": "qpi.server.config",
        "create_app": "qpi.server.app",
    },
    extra="server",
)
