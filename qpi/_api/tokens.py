"""API token endpoints: create, list and revoke the authenticated user's tokens."""

from __future__ import annotations

from typing import Any

from qpi._api.base import ClientBase
from qpi._api.records import given
from qpi.transport import quote_segment

__all__ = ["TokenEndpoints"]


class TokenEndpoints(ClientBase):
    """``/api/tokens``."""

    def create_token(
        self, name: str | None = None, expires_at: str | None = None
    ) -> dict[str, Any]:
        """Create an API token for the authenticated user.

        Args:
            name: A label for the token.
            expires_at: Expiry as an RFC 3339 string; ``None`` never expires.

        Returns:
            ``{"id", "token", "name", ...}``; the raw ``token`` is shown only this once.
        """
        body = given(name=name, expires_at=expires_at)
        return self._request("POST", "/api/tokens", json_body=body)

    def list_tokens(self) -> list[dict[str, Any]]:
        """List the authenticated user's API tokens (without their secret values)."""
        return self._paged("/api/tokens")

    def delete_token(self, token_id: str) -> dict[str, Any]:
        """Delete (revoke) an API token by its record id."""
        answer = self._request("DELETE", f"/api/tokens/{quote_segment(token_id)}")
        return answer or {"status": "deleted"}  # None: a retry found it already deleted
