"""Lazy package exports: public names imported on first use.

The core client imports every plugin's package when it loads plugins, and ``import qpi`` must
stay cheap for the command line; so these packages name their exports here and import the
module that holds each one only when the name is first used (PEP 562).
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Mapping
from typing import Any

__all__ = ["lazy_exports"]


def lazy_exports(
    package: str, homes: Mapping[str, str]
) -> tuple[Callable[[str], Any], Callable[[], list[str]]]:
    """``__getattr__`` and ``__dir__`` for a package whose names are imported on first use.

    Args:
        package: The package's ``__name__``, for error messages.
        homes: Each exported name and the module that defines it.

    Returns:
        The two module-level functions; assign them in the package:
        ``__getattr__, __dir__ = lazy_exports(__name__, {...})``.

    Example:
        ```python
        __getattr__, __dir__ = lazy_exports(__name__, {"LocalServer": "qpi.server.local"})
        ```
    """
    homes = dict(homes)

    def __getattr__(name: str) -> Any:  # noqa: N807 - the PEP 562 hook
        home = homes.get(name)
        if home is None:
            raise AttributeError(f"module {package!r} has no attribute {name!r}")
        return getattr(importlib.import_module(home), name)

    def __dir__() -> list[str]:  # noqa: N807 - the PEP 562 hook
        module = importlib.import_module(package)
        return sorted({*vars(module), *homes})

    return __getattr__, __dir__
