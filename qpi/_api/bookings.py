"""Booking endpoints: QPU time slots and requests for QPU seconds."""

from __future__ import annotations

from typing import Any

from qpi import errors
from qpi._api.base import ClientBase
from qpi._api.records import given, record_path

__all__ = ["BookingEndpoints"]


class BookingEndpoints(ClientBase):
    """The ``time_slots`` and ``qpu_time_requests`` collections."""

    # -- booking slots --------------------------------------------------------------------------

    def list_time_slots(self) -> list[dict[str, Any]]:
        """List all booking slots.

        Returns:
            A list of booking slot record dicts.
        """
        return self._records("time_slots")

    def create_time_slot(
        self, start_time: str, end_time: str, booked_by: str | None = None
    ) -> dict[str, Any]:
        """Create a new booking slot.

        Args:
            start_time: Start time RFC3339 string.
            end_time: End time RFC3339 string.
            booked_by: ID of the user booking the slot; defaults to the logged-in user.

        Returns:
            The created booking slot dict.
        """
        body = {
            "start_time": start_time,
            "end_time": end_time,
            **given(booked_by=booked_by or self._own_id()),
        }
        return self._request("POST", record_path("time_slots"), json_body=body)

    def update_time_slot(
        self, slot_id: str, start_time: str | None = None, end_time: str | None = None
    ) -> dict[str, Any]:
        """Update an existing booking slot.

        Args:
            slot_id: ID of the booking slot.
            start_time: Optional start time RFC3339 string.
            end_time: Optional end time RFC3339 string.

        Returns:
            The updated booking slot dict.
        """
        return self._request(
            "PATCH",
            record_path("time_slots", slot_id),
            json_body=given(start_time=start_time, end_time=end_time),
            idempotent=True,
        )

    def delete_time_slot(self, slot_id: str) -> None:
        """Delete a booking slot.

        Args:
            slot_id: ID of the booking slot.
        """
        self._request("DELETE", record_path("time_slots", slot_id))

    # -- QPU time requests ----------------------------------------------------------------------

    def list_time_requests(self) -> list[dict[str, Any]]:
        """List QPU time requests.

        Returns:
            A list of QPU time request record dicts.
        """
        return self._records("qpu_time_requests")

    def create_time_request(
        self, seconds: int, requested_reason: str | None = None
    ) -> dict[str, Any]:
        """Create a new QPU time request.

        Args:
            seconds: Requested duration in seconds.
            requested_reason: Optional explanation.

        Returns:
            The created QPU time request record dict.
        """
        body = {
            "seconds": seconds,
            "status": "pending",
            # The real server's create rule requires the user.
            **given(requested_reason=requested_reason, user=self._own_id()),
        }
        return self._request("POST", record_path("qpu_time_requests"), json_body=body)

    def update_time_request(
        self, request_id: str, status: str, rejection_reason: str | None = None
    ) -> dict[str, Any]:
        """Update/Handle a QPU time request (admin-only).

        Args:
            request_id: ID of the time request.
            status: ``"approved"`` or ``"rejected"``.
            rejection_reason: Optional explanation if rejected.

        Returns:
            The updated request record dict.
        """
        if status not in ("approved", "rejected", "pending"):
            raise errors.ValidationError(f"status must be 'approved' or 'rejected', got {status!r}")
        return self._request(
            "PATCH",
            record_path("qpu_time_requests", request_id),
            json_body={"status": status, **given(rejection_reason=rejection_reason)},
            idempotent=True,
        )
