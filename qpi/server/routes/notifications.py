"""``POST /api/notifications/{id}/dismiss``: hide a notification for the caller only."""

from __future__ import annotations

from fastapi import APIRouter
from fastapi.responses import Response

from qpi.server import dates
from qpi.server.deps import Caller, Ctx
from qpi.server.errors import ErrorResponse, json_response

__all__ = ["router"]

router = APIRouter(tags=["notifications"])


@router.post("/api/notifications/{notification_id}/dismiss")
def dismiss_notification(
    notification_id: str,
    identity: Caller,
    ctx: Ctx,
) -> Response:
    """Dismiss for the caller (idempotent); others targeted by it still see it."""
    with ctx.store.transaction():
        notification = ctx.store.get("notifications", notification_id)
        if notification is None:
            raise ErrorResponse(404, "Notification not found.")
        targets = notification["target_users"] or []
        if targets and identity.user_id not in targets:
            raise ErrorResponse(403, "Access denied.")
        dismissed = notification["dismissed_by"] or []
        if identity.user_id not in dismissed:
            ctx.store.update(
                "notifications",
                notification_id,
                {"dismissed_by": [*dismissed, identity.user_id], "updated": dates.now()},
            )
    return json_response({"status": "dismissed"})
