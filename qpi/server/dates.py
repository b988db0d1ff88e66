"""Timestamps in PocketBase's layout (``2026-07-24 10:04:05.123Z``), always UTC."""

from __future__ import annotations

from datetime import UTC, datetime

__all__ = ["format_date", "now", "parse_date"]


def format_date(moment: datetime) -> str:
    """Format ``moment`` as PocketBase does: space separator, milliseconds, ``Z``."""
    moment = moment.astimezone(UTC)
    # Four-digit years always (strftime's %Y does not pad years before 1000), so stored dates
    # compare as text in time order: an expiry in year 999 must not sort after 2026.
    milliseconds = moment.microsecond // 1000
    return f"{moment.year:04d}-{moment:%m-%d %H:%M:%S}.{milliseconds:03d}Z"


def now() -> str:
    """The current time in PocketBase's layout."""
    return format_date(datetime.now(UTC))


def parse_date(text: str) -> datetime:
    """Parse an RFC 3339 or PocketBase date; a date without a zone is taken as UTC.

    Raises:
        ValueError: If ``text`` is not a date.
    """
    if not isinstance(text, str) or not text.strip():
        raise ValueError("a date must be a non-empty string")
    value = text.strip()
    # fromisoformat knows "Z" and the space separator; it does not know a lower-case "t"/"z".
    value = value[:10] + value[10:].upper() if len(value) > 10 else value
    moment = datetime.fromisoformat(value)
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC)
