"""What the primitives' options share: set by name, in place or at once, always validated."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import fields
from typing import Any

from qpi import errors

__all__ = ["PrimitiveOptions"]


class PrimitiveOptions:
    """Base of the primitives' option dataclasses: ``update`` by name, then ``validate``."""

    #: How error messages name the primitive.
    primitive = "primitive"

    def update(self, options: PrimitiveOptions | Mapping[str, Any] | None = None, /,
               **more: Any) -> None:  # fmt: skip
        """Set options from another options object, a mapping, and keywords.

        Raises:
            ValidationError: For an unknown name or an invalid value (nothing is kept then).
        """
        if isinstance(options, PrimitiveOptions):
            options = {f.name: getattr(options, f.name) for f in fields(options)}  # type: ignore[arg-type]
        given = {**dict(options or {}), **more}
        known = {f.name for f in fields(self)}  # type: ignore[arg-type]
        unknown = sorted(set(given) - known)
        if unknown:
            raise errors.ValidationError(
                f"unknown {self.primitive} option(s) {unknown}; its options are {sorted(known)}"
            )
        before = {name: getattr(self, name) for name in known}
        for name, value in given.items():
            setattr(self, name, value)
        try:
            self.validate()
        except errors.ValidationError:
            for name, value in before.items():
                setattr(self, name, value)
            raise

    def validate(self) -> None:
        """Raise ``ValidationError`` for an invalid value (subclasses check their fields)."""
