"""User endpoints: the user list, QPU-time allocation, password login and the server version."""

from __future__ import annotations

from typing import Any

from qpi import errors
from qpi._api.base import ClientBase
from qpi._api.records import record_path

__all__ = ["UserEndpoints"]


class UserEndpoints(ClientBase):
    """The ``users`` collection, password login, and ``/api/op/version``."""

    _user: dict[str, Any] | None  # the record of the user logged in with a password

    def list_users(self) -> list[dict[str, Any]]:
        """List all registered users (admin-only).

        Returns:
            A list of user record dicts.
        """
        return self._records("users")

    def allocate_qpu_time(self, user_id: str, seconds: int) -> dict[str, Any]:
        """Allocate QPU time to a user (admin-only).

        Args:
            user_id: ID of the user.
            seconds: Total allocated seconds.

        Returns:
            The updated user record dict.
        """
        return self._request(
            "PATCH",
            record_path("users", user_id),
            json_body={"qpu_seconds": seconds},
            idempotent=True,
        )

    def auth_with_password(
        self, identity: str, password: str, *, superuser: bool = False
    ) -> dict[str, Any]:
        """Authenticate with email/password; later requests carry the session token.

        Args:
            identity: Email or username.
            password: User password.
            superuser: Log in as a superuser (admin) rather than a regular user.

        Returns:
            The auth response payload including token and record.
        """
        collection = "_superusers" if superuser else "users"
        path = f"/api/collections/{collection}/auth-with-password"
        try:
            # Logging in again is harmless: a lost answer is retried like a GET.
            data = self._request(
                "POST",
                path,
                json_body={"identity": identity, "password": password},
                idempotent=True,
            )
        except errors.BadRequestError as exc:
            # PocketBase answers bad credentials with 400; to a caller it is an auth failure.
            raise errors.AuthenticationError(
                f"login as {identity!r} failed: {exc.server_message or 'bad credentials'} "
                "Check the email and password"
                + (" (superuser=True logs in as an admin)." if not superuser else "."),
                status_code=exc.status_code,
                method="POST",
                url=exc.url,
                server_message=exc.server_message,
            ) from None
        self._credentials.set_session_token(data.get("token"))
        with self._lock:
            self._user = None if superuser else dict(data.get("record") or {})
        return data

    def _own_id(self) -> str | None:
        """The id of the user logged in with a password (``None``: none, or a superuser)."""
        with self._lock:
            return (self._user or {}).get("id")

    def version(self) -> str:
        """The server's version string (admin-only on QPI servers)."""
        return str(self._request("GET", "/api/op/version").get("version"))
