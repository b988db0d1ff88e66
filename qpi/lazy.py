"""Lazy package exports: public names imported on first use.

The core client imports every plugin's package when it loads plugins, and ``import qpi`` must
stay cheap for the command line; so these packages name their exports here and import the
module that holds each one only when the name is first used (PEP 562). A name whose module
needs a package that is not installed raises
[`MissingDependencyError`][qpi.errors.MissingDependencyError] naming the extra to install.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Mapping
from typing import Any

from qpi.errors import MissingDependencyError

__all__ = ["lazy_exports", "missing_extra"]

#: Top-level packages that are part of this distribution: a missing one is a broken install,
#: not a missing extra.
_OWN_PACKAGES = ("qpi", "qpi_qiskit", "qpi_pennylane", "qpi_cirq")


def missing_extra(error: ModuleNotFoundError, what: str, extra: str) -> MissingDependencyError:
    """The error to raise when ``what`` could not be imported because a dependency is missing.

    Args:
        error: The import error raised while importing ``what``.
        what: The part of qpi that was asked for, e.g. ``"qpi.server.LocalServer"``.
        extra: The extra of ``qpi-sdk`` that installs its dependencies.

    Returns:
        A [`MissingDependencyError`][qpi.errors.MissingDependencyError] whose message names
        the missing package and the ``pip install`` line.
    """
    missing = error.name or "a dependency"
    message = (
        f"{what} needs the {extra!r} extra ({missing} is not installed): "
        f"pip install 'qpi-sdk[{extra}]'"
    )
    return MissingDependencyError(message, name=error.name)


def lazy_exports(
    package: str, homes: Mapping[str, str], *, extra: str | None = None
) -> tuple[Callable[[str], Any], Callable[[], list[str]]]:
    """``__getattr__`` and ``__dir__`` for a package whose names are imported on first use.

    Args:
        package: The package's ``__name__``, for error messages.
        homes: Each exported name and the module that defines it.
        extra: The extra of ``qpi-sdk`` whose packages these names need; a name whose module
            fails to import for want of one raises
            [`MissingDependencyError`][qpi.errors.MissingDependencyError] naming it.

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
        try:
            module = importlib.import_module(home)
        except ModuleNotFoundError as exc:
            top = (exc.name or "").partition(".")[0]
            if extra is None or top in _OWN_PACKAGES:
                raise
            raise missing_extra(exc, f"{package}.{name}", extra) from exc
        return getattr(module, name)

    def __dir__() -> list[str]:  # noqa: N807 - the PEP 562 hook
        module = importlib.import_module(package)
        return sorted({*vars(module), *homes})

    return __getattr__, __dir__
