"""Credentials taken out of what is shown: URLs (userinfo) and request headers."""

from __future__ import annotations

import re
from collections.abc import MutableMapping
from urllib.parse import urlsplit, urlunsplit

__all__ = ["SECRET_HEADERS", "redact_headers", "redact_text", "redact_url"]

#: Request headers that carry credentials.
SECRET_HEADERS: tuple[str, ...] = ("X-API-Token", "Authorization", "Cookie", "Proxy-Authorization")
#: ``scheme://user:password@`` inside any text (an error message quoting a URL).
_USERINFO = re.compile(r"(?i)\b([a-z][a-z0-9+.-]*://)[^/\s@]+@")


def redact_url(url: str) -> str:
    """``url`` with any ``user:password@`` replaced by ``***@``."""
    try:
        parts = urlsplit(url)
    except ValueError:
        return redact_text(url)
    if "@" not in parts.netloc:
        return url
    host = parts.netloc.rsplit("@", 1)[1]
    return urlunsplit(parts._replace(netloc=f"***@{host}"))


def redact_text(text: str) -> str:
    """``text`` with the userinfo of every URL in it replaced by ``***``."""
    return _USERINFO.sub(r"\1***@", text)


def redact_headers(headers: MutableMapping[str, str]) -> None:
    """Replace, in place, the value of every header that carries a credential."""
    for name in SECRET_HEADERS:
        if name in headers:
            headers[name] = "<redacted>"
