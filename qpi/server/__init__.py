"""The local QPI orchestrator: the QPI REST API with built-in simulator QPUs.

``qpi serve`` runs it in the foreground; :class:`LocalServer` runs it in a background thread
(tests, notebooks, the demo). Names are imported lazily so that the simulator worker
processes, which import :mod:`qpi.server.executors`, never load the web stack.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from qpi.server.app import create_app
    from qpi.server.config import ServerConfig
    from qpi.server.local import LocalServer

__all__ = ["LocalServer", "ServerConfig", "create_app"]

_HOMES = {
    "LocalServer": "qpi.server.local",
    "ServerConfig": "qpi.server.config",
    "create_app": "qpi.server.app",
}


def __getattr__(name: str) -> Any:
    home = _HOMES.get(name)
    if home is None:
        raise AttributeError(f"module 'qpi.server' has no attribute {name!r}")
    import importlib

    return getattr(importlib.import_module(home), name)
