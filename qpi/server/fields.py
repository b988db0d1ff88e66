"""Checking the fields of a records-API body, PocketBase style.

A [`FieldErrors`][qpi.server.fields.FieldErrors] collects problems field by field;
[`FieldErrors.raise_if_any`][qpi.server.fields.FieldErrors.raise_if_any]
turns them into a 400 whose ``data`` maps each field to ``{"code", "message"}``.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

from qpi.server import dates
from qpi.server.errors import ErrorResponse, field_error
from qpi.server.listing import SQL_INT_MAX
from qpi.server.store import Store

__all__ = ["MISSING", "FieldErrors"]

#: Marks a field the body does not carry.
MISSING: Any = object()
MAX_TEXT = 5000


class FieldErrors:
    """Collects field errors of one body.

    Args:
        data: The request body.
        action: ``"create"`` or ``"update"`` (names the 400 message).
    """

    def __init__(self, data: Mapping[str, Any], action: str) -> None:
        self.data = data
        self.action = action
        self.errors: dict[str, dict[str, str]] = {}

    def add(self, name: str, code: str, message: str) -> None:
        """Record an error on ``name`` (the first one per field wins)."""
        self.errors.setdefault(name, field_error(code, message))

    def raise_if_any(self) -> None:
        """Raise the 400 if any error was recorded.

        Raises:
            ErrorResponse: 400 "Failed to create record." / "Failed to update record.".
        """
        if self.errors:
            raise ErrorResponse(400, f"Failed to {self.action} record.", self.errors)

    def text(self, name: str, *, required: bool = False) -> Any:
        """A text field (``MISSING`` when absent)."""
        value = self.data.get(name, MISSING)
        if value is MISSING or value is None:
            if required:
                self.add(name, "validation_required", "Cannot be blank.")
            return MISSING if value is MISSING else ""
        if not isinstance(value, str):
            self.add(name, "validation_invalid_type", "Must be a string.")
            return MISSING
        if len(value) > MAX_TEXT:
            self.add(
                name, "validation_max_text_constraint", f"Must be at most {MAX_TEXT} characters."
            )
        if required and not value.strip():
            self.add(name, "validation_required", "Cannot be blank.")
        return value

    def number(self, name: str, *, minimum: float | None = None, nonzero: bool = False) -> Any:
        """A finite number field (``MISSING`` when absent)."""
        value = self.data.get(name, MISSING)
        if value is MISSING:
            if nonzero:
                self.add(name, "validation_required", "Cannot be blank.")
            return MISSING
        if (
            isinstance(value, bool)
            or not isinstance(value, int | float)
            or not math.isfinite(value)
        ):
            self.add(name, "validation_invalid_number", "Must be a finite number.")
            return MISSING
        if isinstance(value, int) and abs(value) > SQL_INT_MAX:
            # Past what the database stores (and what PocketBase's float64 keeps exactly).
            self.add(name, "validation_max_number_constraint", f"Must be at most {SQL_INT_MAX}.")
            return MISSING
        if nonzero and value == 0:
            self.add(name, "validation_required", "Cannot be blank.")
        if minimum is not None and value < minimum:
            self.add(name, "validation_min_number_constraint", f"Must be at least {minimum}.")
        return value

    def boolean(self, name: str) -> Any:
        """A boolean field (``MISSING`` when absent)."""
        value = self.data.get(name, MISSING)
        if value is MISSING:
            return MISSING
        if not isinstance(value, bool):
            self.add(name, "validation_invalid_type", "Must be true or false.")
            return MISSING
        return value

    def date(self, name: str, *, required: bool = False) -> Any:
        """A date field normalised to PocketBase's layout (``""`` clears an optional one)."""
        value = self.data.get(name, MISSING)
        if value is MISSING or value is None or value == "":
            if required:
                self.add(name, "validation_required", "Cannot be blank.")
            return MISSING if value is MISSING else ""
        try:
            return dates.format_date(dates.parse_date(value))
        except (TypeError, ValueError):
            self.add(name, "validation_invalid_date", "Must be a valid RFC 3339 date.")
            return MISSING

    def choice(self, name: str, options: tuple[str, ...]) -> Any:
        """A select field (``MISSING`` when absent)."""
        value = self.data.get(name, MISSING)
        if value is MISSING:
            return MISSING
        if value not in options:
            self.add(name, "validation_invalid_value", f"Must be one of {', '.join(options)}.")
            return MISSING
        return value

    def relation(self, name: str, store: Store, table: str) -> Any:
        """A single relation: an existing record id (``""`` clears it)."""
        value = self.data.get(name, MISSING)
        if value is MISSING or value in (None, ""):
            return MISSING if value is MISSING else ""
        if not isinstance(value, str) or store.get(table, value) is None:
            self.add(name, "validation_missing_rel_records", "Failed to find all relation records.")
            return MISSING
        return value

    def relations(self, name: str, store: Store, table: str) -> Any:
        """A multiple relation: a list of existing ids (one id or ``""`` is accepted too)."""
        value = self.data.get(name, MISSING)
        if value is MISSING:
            return MISSING
        if value in (None, ""):
            return []
        ids = [value] if isinstance(value, str) else value
        if not isinstance(ids, list) or not all(isinstance(i, str) for i in ids):
            self.add(name, "validation_invalid_type", "Must be a list of record ids.")
            return MISSING
        ids = list(dict.fromkeys(i for i in ids if i))
        if any(store.get(table, i) is None for i in ids):
            self.add(name, "validation_missing_rel_records", "Failed to find all relation records.")
            return MISSING
        return ids
