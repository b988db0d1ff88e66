"""Redirects: credentials and bodies go only where the user pointed the client.

``requests`` strips ``Authorization`` on a cross-host redirect but keeps ``X-API-Token`` and
resends the body of a 307. The transport follows redirects itself: only to the same origin
(scheme, host and port), and never more than [`MAX_REDIRECTS`][qpi._http.origins.MAX_REDIRECTS].
"""

from __future__ import annotations

from urllib.parse import urljoin, urlsplit

__all__ = ["MAX_REDIRECTS", "REDIRECT_STATUSES", "origin", "redirect_target", "same_origin"]

MAX_REDIRECTS = 5
#: 307 and 308 keep the method and body; the others turn into a GET without a body.
REDIRECT_STATUSES: frozenset[int] = frozenset({301, 302, 303, 307, 308})

_DEFAULT_PORTS = {"http": 80, "https": 443}


def origin(url: str) -> tuple[str, str, int | None]:
    """``(scheme, host, port)`` of ``url``, the port filled in from the scheme."""
    parts = urlsplit(url)
    scheme = parts.scheme.lower()
    try:
        port = parts.port
    except ValueError:
        port = None
    return scheme, (parts.hostname or "").lower(), port or _DEFAULT_PORTS.get(scheme)


def same_origin(a: str, b: str) -> bool:
    """Whether ``a`` and ``b`` share scheme, host and port."""
    return origin(a) == origin(b)


def redirect_target(url: str, location: str) -> str:
    """The absolute URL a ``Location`` header points to from ``url``."""
    return urljoin(url, location.strip())
