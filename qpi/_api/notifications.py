"""Notification endpoints: list and dismiss the authenticated user's notifications."""

from __future__ import annotations

from typing import Any

from qpi._api.base import ClientBase
from qpi.transport import quote_segment

__all__ = ["NotificationEndpoints"]


class NotificationEndpoints(ClientBase):
    """The ``notifications`` collection and ``/api/notifications/{id}/dismiss``."""

    def list_notifications(self) -> list[dict[str, Any]]:
        """List notifications visible to the authenticated user.

        Returns:
            A list of notification record dicts.
        """
        return self._records("notifications")

    def dismiss_notification(self, notification_id: str) -> dict[str, Any]:
        """Dismiss a notification for the authenticated user.

        Args:
            notification_id: ID of the notification.

        Returns:
            Response dict.
        """
        return self._request(
            "POST",
            f"/api/notifications/{quote_segment(notification_id)}/dismiss",
            idempotent=True,
        )
