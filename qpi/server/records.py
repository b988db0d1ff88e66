"""The collections of the PocketBase-style records API, with their rules and hooks (§8).

Each [`Collection`][qpi.server.records.Collection] says which rows a caller sees (an SQL condition,
so paging and
counts are right), and what create, update and delete check and do. Superusers bypass the
rules. A rule that refuses answers as PocketBase does: list hides rows, view/update/delete
give 404, superuser-only actions 403, create 400 "Failed to create record.".
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any, ClassVar

from qpi.server import dates
from qpi.server.auth import Identity, hash_password, normalize_email, verify_password
from qpi.server.context import ServerContext
from qpi.server.errors import ErrorResponse
from qpi.server.fields import MISSING, FieldErrors
from qpi.server.ids import new_id
from qpi.server.store import TABLES
from qpi.server.views import record_json

__all__ = ["COLLECTIONS", "Collection"]

SUPERUSERS_ONLY = "Only superusers can perform this action."


def _present(values: Mapping[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in values.items() if v is not MISSING}


class Collection:
    """A records-API collection backed by one table.

    Attributes:
        name: The collection name in URLs.
        table: The SQLite table.
        fields: Fields that may be sorted and filtered on.
        list_fields: Fields holding lists of ids (a filter ``f = "id"`` means "contains").
    """

    name: ClassVar[str]
    table: ClassVar[str]
    fields: ClassVar[frozenset[str]]
    list_fields: ClassVar[frozenset[str]] = frozenset()
    #: Update and delete rules that are "superusers only" answer 403 rather than 404.
    update_superusers_only: ClassVar[bool] = True
    delete_superusers_only: ClassVar[bool] = True
    #: Columns a list leaves out unless ``fields`` names them (or ``*``): they are big.
    heavy_fields: ClassVar[frozenset[str]] = frozenset()

    def list_columns(self, asked: frozenset[str]) -> str:
        """The columns a list selects, given the root fields ``fields`` names (``*``: all)."""
        left_out = frozenset() if "*" in asked else self.heavy_fields - asked
        if not left_out:
            return "*"
        return ", ".join(c for c in TABLES[self.table] if c not in left_out)

    # -- rules ---------------------------------------------------------------------------------

    def visible(self, who: Identity | None) -> tuple[str, list[Any]]:
        """SQL condition (and parameters) selecting the rows ``who`` may list and view."""
        if who is not None and who.is_superuser:
            return "1", []
        return self.user_visible(who)

    def user_visible(self, who: Identity | None) -> tuple[str, list[Any]]:
        """The list/view rule for non-superusers."""
        return "1", []

    def writable(self, who: Identity | None, row: Mapping[str, Any]) -> bool:
        """Whether ``who`` may update or delete ``row`` (else 404)."""
        return who is not None and who.is_superuser

    def to_json(self, row: Mapping[str, Any], who: Identity | None) -> dict[str, Any]:
        """The record as the caller sees it."""
        return record_json(self.name, row)

    # -- actions -------------------------------------------------------------------------------

    def create(self, ctx: ServerContext, who: Identity | None, data: dict[str, Any]) -> dict:
        """Create a record from ``data``; returns the stored row."""
        raise ErrorResponse(403, SUPERUSERS_ONLY)

    def update(
        self, ctx: ServerContext, who: Identity | None, row: dict[str, Any], data: dict[str, Any]
    ) -> dict[str, Any]:
        """Update ``row`` from ``data``; returns the stored row."""
        raise ErrorResponse(403, SUPERUSERS_ONLY)

    def delete(self, ctx: ServerContext, who: Identity | None, row: dict[str, Any]) -> None:
        """Delete ``row``."""
        self.require_superuser(who)
        ctx.store.delete(self.table, row["id"])

    @staticmethod
    def require_superuser(who: Identity | None) -> None:
        """Raise 403 unless ``who`` is a superuser.

        Raises:
            ErrorResponse: 403 "Only superusers can perform this action.".
        """
        if who is None or not who.is_superuser:
            raise ErrorResponse(403, SUPERUSERS_ONLY)

    @staticmethod
    def require_auth(who: Identity | None, action: str) -> Identity:
        """Raise the create-rule refusal for anonymous callers.

        Raises:
            ErrorResponse: 400 "Failed to <action> record.".
        """
        if who is None:
            raise ErrorResponse(400, f"Failed to {action} record.")
        return who


def _is_super(who: Identity | None) -> bool:
    return who is not None and who.is_superuser


def _strict_json(value: Any) -> bool:
    """Whether ``value`` is JSON without NaN or Infinity (which JSON does not have)."""
    try:
        json.dumps(value, allow_nan=False)
    except ValueError:
        return False
    return True


#: Proxy users get addresses in this domain when a superuser's own email is already taken.
PROXY_DOMAIN = "@superusers.invalid"


def _reserved_email(ctx: ServerContext, email: str) -> bool:
    """Whether ``email`` reads as a superuser's (or a proxy's): no user may hold it.

    Compared after [`normalize_email`][qpi.server.auth.normalize_email], so case, spaces and
    look-alike Unicode forms of the admin's address are reserved too.
    """
    wanted = normalize_email(email)
    if wanted.endswith(PROXY_DOMAIN):
        return True
    rows = ctx.store.query("SELECT email FROM superusers")
    return any(normalize_email(row["email"]) == wanted for row in rows)


class Users(Collection):
    """``users``: anyone may sign up; owners see and edit themselves; balances are admin-only."""

    name = "users"
    table = "users"
    update_superusers_only = False
    delete_superusers_only = False
    fields = frozenset(
        {"id", "email", "name", "emailVisibility", "verified", "qpu_seconds", "created", "updated"}
    )

    def user_visible(self, who: Identity | None) -> tuple[str, list[Any]]:
        """Owner only."""
        return ("id = ?", [who.user_id]) if who else ("0", [])

    def writable(self, who: Identity | None, row: Mapping[str, Any]) -> bool:
        """Owner or superuser."""
        return _is_super(who) or (who is not None and who.user_id == row["id"])

    def to_json(self, row: Mapping[str, Any], who: Identity | None) -> dict[str, Any]:
        """Email shown to the owner, superusers, or when ``emailVisibility`` is set."""
        show = _is_super(who) or (who is not None and who.user_id == row["id"])
        return record_json(self.name, row, show_email=show)

    def _check(
        self,
        ctx: ServerContext,
        who: Identity | None,
        data: dict[str, Any],
        action: str,
        own_id: str | None = None,
    ) -> dict[str, Any]:
        check = FieldErrors(data, action)
        values = {
            "email": check.text("email", required=action == "create"),
            "name": check.text("name"),
            "emailVisibility": check.boolean("emailVisibility"),
            "verified": check.boolean("verified"),
            "qpu_seconds": check.number("qpu_seconds", minimum=0),
        }
        email = values["email"]
        if isinstance(email, str) and email and "@" not in email:
            check.add("email", "validation_is_email", "Must be a valid email address.")
        password = check.text("password", required=action == "create")
        if password is not MISSING and password != data.get("passwordConfirm"):
            check.add("passwordConfirm", "validation_values_mismatch", "Values don't match.")
        if isinstance(password, str) and password and len(password) < 8:
            check.add(
                "password", "validation_min_text_constraint", "Must be at least 8 characters."
            )
        check.raise_if_any()
        values = _present(values)
        if not _is_super(who) and ({"qpu_seconds", "verified"} & values.keys()):
            # Fixes the real server's hole: users could set their own balance.
            raise ErrorResponse(403, "Only superusers can change qpu_seconds or verified.")
        if isinstance(email, str) and email:
            if _reserved_email(ctx, email):
                check.add("email", "validation_email_reserved", "This email is reserved.")
                check.raise_if_any()
            clash = ctx.store.find("users", email=email)
            if clash and clash[0]["id"] != own_id:
                check.add("email", "validation_not_unique", "Value must be unique.")
                check.raise_if_any()
        if password is not MISSING:
            values["password_hash"] = hash_password(password)
        return values

    def create(self, ctx: ServerContext, who: Identity | None, data: dict[str, Any]) -> dict:
        """Sign up (anyone), or create a user (superuser, who may set ``qpu_seconds``)."""
        values = self._check(ctx, who, data, "create")
        stamp = dates.now()
        return ctx.store.insert(
            "users", {"id": new_id(), **values, "created": stamp, "updated": stamp}
        )

    def update(
        self, ctx: ServerContext, who: Identity | None, row: dict[str, Any], data: dict[str, Any]
    ) -> dict[str, Any]:
        """Owners change their profile (password with ``oldPassword``); admins anything."""
        values = self._check(ctx, who, data, "update", own_id=row["id"])
        if "password_hash" in values and not _is_super(who):
            old = data.get("oldPassword")
            if not isinstance(old, str) or not verify_password(old, row["password_hash"]):
                check = FieldErrors(data, "update")
                check.add(
                    "oldPassword",
                    "validation_invalid_old_password",
                    "Missing or invalid old password.",
                )
                check.raise_if_any()
        return ctx.store.update("users", row["id"], {**values, "updated": dates.now()})

    def delete(self, ctx: ServerContext, who: Identity | None, row: dict[str, Any]) -> None:
        """Delete a user and their API tokens."""
        with ctx.store.transaction():
            ctx.store.execute("DELETE FROM api_tokens WHERE user = ?", (row["id"],))
            ctx.store.delete("users", row["id"])


class APITokens(Collection):
    """``api_tokens``: owners only; ``token`` is stored verbatim (clients send the hash)."""

    name = "api_tokens"
    table = "api_tokens"
    update_superusers_only = False
    delete_superusers_only = False
    fields = frozenset({"id", "token", "user", "name", "expires_at", "created"})

    def user_visible(self, who: Identity | None) -> tuple[str, list[Any]]:
        """Owner only."""
        return ("user = ?", [who.user_id]) if who else ("0", [])

    def writable(self, who: Identity | None, row: Mapping[str, Any]) -> bool:
        """Owner or superuser."""
        return _is_super(who) or (who is not None and who.user_id == row["user"])

    def create(self, ctx: ServerContext, who: Identity | None, data: dict[str, Any]) -> dict:
        """Store a token row; ``user`` defaults to the caller."""
        who = self.require_auth(who, "create")
        check = FieldErrors(data, "create")
        values = {
            "token": check.text("token", required=True),
            "user": check.relation("user", ctx.store, "users"),
            "name": check.text("name"),
            "expires_at": check.date("expires_at"),
        }
        check.raise_if_any()
        values = _present(values)
        values.setdefault("user", who.user_id)
        if not who.is_superuser and values["user"] != who.user_id:
            raise ErrorResponse(400, "Failed to create record.")
        if ctx.store.find("api_tokens", token=values["token"]):
            check.add("token", "validation_not_unique", "Value must be unique.")
            check.raise_if_any()
        return ctx.store.insert("api_tokens", {"id": new_id(), **values, "created": dates.now()})

    def update(
        self, ctx: ServerContext, who: Identity | None, row: dict[str, Any], data: dict[str, Any]
    ) -> dict[str, Any]:
        """Rename a token or change its expiry."""
        check = FieldErrors(data, "update")
        values = _present({"name": check.text("name"), "expires_at": check.date("expires_at")})
        check.raise_if_any()
        return ctx.store.update("api_tokens", row["id"], values)

    def delete(self, ctx: ServerContext, who: Identity | None, row: dict[str, Any]) -> None:
        """Delete the token."""
        ctx.store.delete("api_tokens", row["id"])


class QPUs(Collection):
    """``qpus``: public read, superuser writes; disabling takes a QPU offline."""

    name = "qpus"
    table = "qpus"
    fields = frozenset({"id", "name", "status", "num_qubits", "enabled", "created", "updated"})

    def _values(self, data: dict[str, Any], action: str) -> dict[str, Any]:
        check = FieldErrors(data, action)
        values = _present(
            {
                "name": check.text("name", required=action == "create"),
                "status": check.choice("status", ("offline", "online", "maintenance")),
                "num_qubits": check.number("num_qubits", minimum=0),
                "enabled": check.boolean("enabled"),
            }
        )
        check.raise_if_any()
        if "num_qubits" in values:
            values["num_qubits"] = int(values["num_qubits"])
        if values.get("status") == "online":
            values["connected"] = True  # an admin saying "online" means "runs jobs"
        return values

    def create(self, ctx: ServerContext, who: Identity | None, data: dict[str, Any]) -> dict:
        """Create a QPU (superuser)."""
        self.require_superuser(who)
        values = {"enabled": False, **self._values(data, "create")}  # PocketBase's bool default
        if not values["enabled"]:
            values["status"] = "offline"
        stamp = dates.now()
        row = ctx.store.insert(
            "qpus", {"id": new_id(), **values, "created": stamp, "updated": stamp}
        )
        ctx.scheduler.wake()
        return row

    def update(
        self, ctx: ServerContext, who: Identity | None, row: dict[str, Any], data: dict[str, Any]
    ) -> dict[str, Any]:
        """Update a QPU (superuser)."""
        self.require_superuser(who)
        values = self._values(data, "update")
        if values.get("enabled") is False:
            values["status"] = "offline"  # the real server's update hook
        elif values.get("enabled") is True and "status" not in values and row["connected"]:
            values["status"] = "online"
        row = ctx.store.update("qpus", row["id"], {**values, "updated": dates.now()})
        ctx.scheduler.wake()
        return row

    def delete(self, ctx: ServerContext, who: Identity | None, row: dict[str, Any]) -> None:
        """Delete a QPU; its jobs lose their target (they then go to the default QPU)."""
        self.require_superuser(who)
        with ctx.store.transaction():
            ctx.store.execute(
                "UPDATE quantum_jobs SET qpu_target = '' WHERE qpu_target = ?", (row["id"],)
            )
            ctx.store.delete("qpus", row["id"])


class QuantumJobs(Collection):
    """``quantum_jobs``: owners read (with real results); only superusers write.

    A list leaves ``results`` out unless ``fields`` asks for them (``fields=*`` or
    ``fields=id,results``); viewing one record includes them.
    """

    name = "quantum_jobs"
    table = "quantum_jobs"
    heavy_fields = frozenset({"results"})
    fields = frozenset(
        {"id", "user_id", "qpu_target", "status", "finished_at", "duration", "created", "updated"}
    )

    def user_visible(self, who: Identity | None) -> tuple[str, list[Any]]:
        """Owner only."""
        return ("user_id = ?", [who.user_id]) if who else ("0", [])

    def create(self, ctx: ServerContext, who: Identity | None, data: dict[str, Any]) -> dict:
        """Refused for everyone, superusers too: jobs are submitted with ``POST /api/jobs``."""
        raise ErrorResponse(
            403, "Jobs are created with POST /api/jobs, not through the records API."
        )

    def update(
        self, ctx: ServerContext, who: Identity | None, row: dict[str, Any], data: dict[str, Any]
    ) -> dict[str, Any]:
        """Set a job's status, target or results (superuser)."""
        self.require_superuser(who)
        check = FieldErrors(data, "update")
        values = _present(
            {
                "status": check.choice(
                    "status", ("pending", "running", "completed", "failed", "cancelled")
                ),
                "qpu_target": check.relation("qpu_target", ctx.store, "qpus"),
                "finished_at": check.date("finished_at"),
                "duration": check.number("duration", minimum=0),
            }
        )
        if "results" in data:
            if data["results"] is not None and not isinstance(data["results"], dict | list):
                check.add("results", "validation_invalid_type", "Must be a JSON object.")
            elif not _strict_json(data["results"]):
                # Stored, a NaN would make every later answer holding the job fail to encode.
                check.add("results", "validation_invalid_number", "Must hold only finite numbers.")
            values["results"] = data["results"]
        check.raise_if_any()
        row = ctx.store.update(self.table, row["id"], {**values, "updated": dates.now()})
        ctx.scheduler.wake()
        return row


class TimeSlots(Collection):
    """``time_slots``: bookings, visible to every signed-in user, with §8.6's hooks."""

    name = "time_slots"
    table = "time_slots"
    update_superusers_only = False
    delete_superusers_only = False
    fields = frozenset({"id", "start_time", "end_time", "booked_by"})

    def user_visible(self, who: Identity | None) -> tuple[str, list[Any]]:
        """Any signed-in user sees every booking."""
        return ("1", []) if who else ("0", [])

    def writable(self, who: Identity | None, row: Mapping[str, Any]) -> bool:
        """The booker or a superuser."""
        return _is_super(who) or (who is not None and who.user_id == row["booked_by"])

    @staticmethod
    def _validate(ctx: ServerContext, slot_id: str, start: str, end: str) -> None:
        if start >= end:
            raise ErrorResponse(400, "Start_time must be strictly before end_time.")
        overlap = ctx.store.scalar(
            "SELECT 1 FROM time_slots WHERE id != ? AND start_time < ? AND end_time > ?",
            (slot_id, end, start),
        )
        if overlap:
            raise ErrorResponse(
                400, "The requested booking slot overlaps with an existing reservation."
            )

    @staticmethod
    def _bounded(ctx: ServerContext, who: Identity, start: str, end: str, slot_id: str) -> None:
        """Refuse a user's booking that would let them hold the QPU without limit.

        A booking needs a positive balance and lasts at most ``booking_max_seconds``, and a
        user holds at most ``bookings_per_user`` bookings that have not ended. Superusers are
        not bound.
        """
        config = ctx.config
        if who.user["qpu_seconds"] <= 0:
            raise ErrorResponse(403, "You have no QPU seconds left; a booking needs a balance.")
        length = (dates.parse_date(end) - dates.parse_date(start)).total_seconds()
        if length > config.booking_max_seconds:
            raise ErrorResponse(
                400, f"A booking lasts at most {config.booking_max_seconds:g} seconds."
            )
        held = ctx.store.scalar(
            "SELECT COUNT(*) FROM time_slots WHERE booked_by = ? AND end_time > ? AND id != ?",
            (who.user_id, dates.now(), slot_id),
        )
        if held >= config.bookings_per_user:
            raise ErrorResponse(
                400, f"You already hold {held} bookings; the limit is {config.bookings_per_user}."
            )

    def create(self, ctx: ServerContext, who: Identity | None, data: dict[str, Any]) -> dict:
        """Book a slot; ``booked_by`` defaults to the caller."""
        who = self.require_auth(who, "create")
        check = FieldErrors(data, "create")
        start = check.date("start_time", required=True)
        end = check.date("end_time", required=True)
        booked_by = check.relation("booked_by", ctx.store, "users")
        check.raise_if_any()
        if booked_by in (MISSING, ""):
            booked_by = who.user_id
        if not who.is_superuser:
            if booked_by != who.user_id:
                raise ErrorResponse(400, "Failed to create record.")
            if start < dates.now():
                raise ErrorResponse(400, "Cannot book a slot in the past.")
        slot_id = new_id()
        with ctx.store.transaction():
            self._validate(ctx, slot_id, start, end)
            if not who.is_superuser:
                self._bounded(ctx, who, start, end, slot_id)
            row = ctx.store.insert(
                "time_slots",
                {"id": slot_id, "start_time": start, "end_time": end, "booked_by": booked_by},
            )
        ctx.scheduler.wake()
        return row

    def update(
        self, ctx: ServerContext, who: Identity | None, row: dict[str, Any], data: dict[str, Any]
    ) -> dict[str, Any]:
        """Move a slot that has not started (any slot, for a superuser)."""
        check = FieldErrors(data, "update")
        values = _present(
            {
                "start_time": check.date("start_time"),
                "end_time": check.date("end_time"),
                "booked_by": check.relation("booked_by", ctx.store, "users"),
            }
        )
        check.raise_if_any()
        if values.get("start_time") == "" or values.get("end_time") == "":
            raise ErrorResponse(400, "Failed to update record.")
        new = {**row, **values}
        if not _is_super(who):
            now = dates.now()
            if row["start_time"] < now:
                raise ErrorResponse(400, "Cannot modify a booking slot that has already started.")
            if new["start_time"] < now:
                raise ErrorResponse(
                    400, "Cannot reschedule a booking slot to a start time in the past."
                )
            if new["booked_by"] != row["booked_by"]:
                raise ErrorResponse(400, "Only a superuser can hand a booking to someone else.")
        with ctx.store.transaction():
            self._validate(ctx, row["id"], new["start_time"], new["end_time"])
            if who is not None and not who.is_superuser:
                self._bounded(ctx, who, new["start_time"], new["end_time"], row["id"])
            row = ctx.store.update("time_slots", row["id"], values)
        ctx.scheduler.wake()
        return row

    def delete(self, ctx: ServerContext, who: Identity | None, row: dict[str, Any]) -> None:
        """Cancel a slot that has not started (any slot, for a superuser)."""
        if not _is_super(who) and row["start_time"] < dates.now():
            raise ErrorResponse(
                400, "Cannot delete/cancel a booking slot that has already started."
            )
        ctx.store.delete("time_slots", row["id"])
        ctx.scheduler.wake()


class TimeRequests(Collection):
    """``qpu_time_requests``: users ask for QPU-seconds; superusers approve or reject (§8.7-8.8)."""

    name = "qpu_time_requests"
    table = "qpu_time_requests"
    delete_superusers_only = False
    fields = frozenset(
        {"id", "user", "seconds", "status", "requested_reason", "rejection_reason", "handled_by"}
    )
    STATUSES = ("pending", "approved", "rejected")

    def user_visible(self, who: Identity | None) -> tuple[str, list[Any]]:
        """Owner only."""
        return ("user = ?", [who.user_id]) if who else ("0", [])

    def writable(self, who: Identity | None, row: Mapping[str, Any]) -> bool:
        """Superusers; owners only to delete a pending request."""
        if _is_super(who):
            return True
        return who is not None and who.user_id == row["user"] and row["status"] == "pending"

    def create(self, ctx: ServerContext, who: Identity | None, data: dict[str, Any]) -> dict:
        """Ask for seconds; ``user`` and ``status`` default to the caller and ``pending``."""
        who = self.require_auth(who, "create")
        check = FieldErrors(data, "create")
        values = _present(
            {
                "seconds": check.number("seconds", minimum=0, nonzero=True),
                "user": check.relation("user", ctx.store, "users"),
                "status": check.choice("status", self.STATUSES),
                "requested_reason": check.text("requested_reason"),
                "rejection_reason": check.text("rejection_reason"),
            }
        )
        check.raise_if_any()
        values.setdefault("user", who.user_id)
        values.setdefault("status", "pending")
        if not who.is_superuser:
            if values["user"] != who.user_id or values["status"] != "pending":
                raise ErrorResponse(400, "Failed to create record.")
            values["rejection_reason"] = ""
        return ctx.store.insert("qpu_time_requests", {"id": new_id(), **values})

    def update(
        self, ctx: ServerContext, who: Identity | None, row: dict[str, Any], data: dict[str, Any]
    ) -> dict[str, Any]:
        """Approve (crediting the seconds once) or reject; processed requests are final."""
        self.require_superuser(who)
        assert who is not None and who.superuser is not None
        check = FieldErrors(data, "update")
        values = _present(
            {
                "user": check.text("user"),
                "seconds": check.number("seconds", minimum=0),
                "status": check.choice("status", self.STATUSES),
                "requested_reason": check.text("requested_reason"),
                "rejection_reason": check.text("rejection_reason"),
            }
        )
        check.raise_if_any()
        if values.get("user", row["user"]) != row["user"]:
            raise ErrorResponse(400, "Cannot modify the user of a time request.")
        if values.get("seconds", row["seconds"]) != row["seconds"]:
            raise ErrorResponse(400, "Cannot modify the requested seconds.")
        with ctx.store.transaction():
            current = ctx.store.get(self.table, row["id"]) or row
            status = values.get("status", current["status"])
            if status != current["status"]:
                if current["status"] in ("approved", "rejected"):
                    raise ErrorResponse(
                        400, "Cannot update a request that has already been processed."
                    )
                if status == "approved":
                    self._credit(ctx, current)
                values["handled_by"] = who.superuser["id"]
            return ctx.store.update(self.table, row["id"], values)

    @staticmethod
    def _credit(ctx: ServerContext, request: Mapping[str, Any]) -> None:
        changed = ctx.store.execute(
            "UPDATE users SET qpu_seconds = qpu_seconds + ?, updated = ? WHERE id = ?",
            (request["seconds"], dates.now(), request["user"]),
        )
        if not changed:
            raise ErrorResponse(400, f"Failed to find target user: {request['user']}")

    def delete(self, ctx: ServerContext, who: Identity | None, row: dict[str, Any]) -> None:
        """Withdraw a pending request (superusers: any request)."""
        ctx.store.delete(self.table, row["id"])


class Notifications(Collection):
    """``notifications``: targeted or broadcast, time-windowed, dismissed per user (§8.9)."""

    name = "notifications"
    table = "notifications"
    fields = frozenset(
        {"id", "title", "description", "target_users", "dismissed_by", "start_time",
         "end_time", "created", "updated"}
    )  # fmt: skip
    list_fields = frozenset({"target_users", "dismissed_by"})

    def user_visible(self, who: Identity | None) -> tuple[str, list[Any]]:
        """Targeted at the caller (or everyone), inside its window, not dismissed by them."""
        if who is None:
            return "0", []
        now = dates.now()
        sql = (
            "(json_array_length(target_users) = 0 OR EXISTS "
            "(SELECT 1 FROM json_each(target_users) WHERE value = ?)) "
            "AND (start_time = '' OR start_time <= ?) AND (end_time = '' OR end_time >= ?) "
            "AND NOT EXISTS (SELECT 1 FROM json_each(dismissed_by) WHERE value = ?)"
        )
        return sql, [who.user_id, now, now, who.user_id]

    def _values(self, ctx: ServerContext, data: dict[str, Any], action: str) -> dict[str, Any]:
        check = FieldErrors(data, action)
        values = _present(
            {
                "title": check.text("title", required=action == "create"),
                "description": check.text("description"),
                "target_users": check.relations("target_users", ctx.store, "users"),
                "dismissed_by": check.relations("dismissed_by", ctx.store, "users"),
                "start_time": check.date("start_time"),
                "end_time": check.date("end_time"),
            }
        )
        check.raise_if_any()
        return values

    def create(self, ctx: ServerContext, who: Identity | None, data: dict[str, Any]) -> dict:
        """Publish a notification (superuser)."""
        self.require_superuser(who)
        stamp = dates.now()
        values = self._values(ctx, data, "create")
        return ctx.store.insert(
            self.table, {"id": new_id(), **values, "created": stamp, "updated": stamp}
        )

    def update(
        self, ctx: ServerContext, who: Identity | None, row: dict[str, Any], data: dict[str, Any]
    ) -> dict[str, Any]:
        """Edit a notification (superuser)."""
        self.require_superuser(who)
        values = self._values(ctx, data, "update")
        return ctx.store.update(self.table, row["id"], {**values, "updated": dates.now()})


#: The collections served under ``/api/collections/{name}/records``.
COLLECTIONS: dict[str, Collection] = {
    c.name: c
    for c in (
        Users(),
        APITokens(),
        QPUs(),
        QuantumJobs(),
        TimeSlots(),
        TimeRequests(),
        Notifications(),
    )
}
