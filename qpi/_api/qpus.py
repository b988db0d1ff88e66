"""QPU endpoints, and the memo that resolves a QPU name to the record id jobs are sent to.

Dicts in, dicts out: the cache's copy of QPU records (for replay and offline reruns) is the job
runner's business (see [`Runner.qpu`][qpi.jobs.Runner.qpu]).
"""

from __future__ import annotations

import time
from typing import Any

from qpi import errors
from qpi._api.base import ClientBase
from qpi._api.records import given
from qpi.transport import quote_segment

__all__ = ["QPUEndpoints"]

#: Seconds a QPU record is remembered before it is read again.
QPU_MEMO_SECONDS = 60.0


class QPUEndpoints(ClientBase):
    """``/api/qpus`` and the operator routes: list, look up, resolve, create, connect, toggle."""

    _qpus: dict[str, tuple[float, dict[str, Any]]]  # name or id -> (monotonic time, record)

    def list_qpus(self) -> list[dict[str, Any]]:
        """List all online QPUs.

        Returns:
            A list of QPU record dicts (``id``, ``name``, ``status``, ``num_qubits``,
            ``enabled``, ...).
        """
        return self._paged("/api/qpus")

    def _lookup_qpu(self, name: str) -> dict[str, Any]:
        """A QPU record by name or id (``""``: the default QPU), memoised for a minute.

        The real server looks QPUs up by record id only; a name is resolved through the list
        of online QPUs, then through the public ``qpus`` collection (offline ones too).
        """
        now = time.monotonic()
        with self._lock:
            hit = self._qpus.get(name)
        if hit is not None and now - hit[0] < QPU_MEMO_SECONDS:
            return dict(hit[1])
        record = self._fetch_qpu(name) if name else self._default_qpu()
        with self._lock:
            self._qpus[name] = (now, record)
        return dict(record)

    def _default_qpu(self) -> dict[str, Any]:
        """The QPU the server marks as default, else the only online one."""
        online = [q for q in self.list_qpus() if q.get("enabled", True)]
        if not online:
            raise errors.NotFoundError(
                f"no QPU is online on {self.base_url}; start one or name a QPU explicitly",
                status_code=404,
            )
        marked = [q for q in online if q.get("default") is True]
        if marked or len(online) == 1:
            return dict((marked or online)[0])
        names = ", ".join(f"{q.get('name')} (id {q.get('id')})" for q in online)
        raise errors.ValidationError(
            f"no QPU was named and {len(online)} QPUs are online on {self.base_url}: {names}; "
            "name one (qpu=..., backend=..., --qpu), or set a default with $QPI_QPU or in "
            "your profile (qpi login --qpu NAME)"
        )

    def _fetch_qpu(self, name: str) -> dict[str, Any]:
        """The QPU with record id ``name``, else the one named ``name``, online or not."""
        try:
            return dict(self._request("GET", f"/api/qpus/{quote_segment(name)}"))
        except errors.NotFoundError:
            pass
        online = self.list_qpus()
        # The collection is asked only when no online QPU has the name.
        record = _named(online, name) or _named(self._qpus_named(name), name)
        if record is not None:
            return dict(record)
        names = ", ".join(sorted(str(q.get("name")) for q in online)) or "none online"
        raise errors.NotFoundError(
            f"no QPU named or with id {name!r} on {self.base_url} (online: {names})",
            status_code=404,
        )

    def _qpus_named(self, name: str) -> list[dict[str, Any]]:
        """The public ``qpus`` collection's records named ``name`` (offline QPUs too)."""
        escaped = name.replace("\\", "\\\\").replace('"', '\\"')
        try:
            return self._records("qpus", filter=f'name = "{escaped}"')
        except errors.APIError:
            return []

    def create_qpu(
        self,
        name: str,
        executor_type: str | None = None,
        num_qubits: int | None = None,
        enabled: bool | None = None,
    ) -> dict[str, Any]:
        """Create a new QPU record (admin-only).

        Args:
            name: QPU name.
            executor_type: Type of executor (``"mock"`` or ``"qiskit_aer"`` on the local
                orchestrator).
            num_qubits: Number of qubits on the device.
            enabled: Whether the QPU should be enabled (default ``True``).

        Returns:
            A dict with at least ``id``, ``name``, ``status`` and ``enabled``; the local
            orchestrator also returns a one-time ``access_token`` for
            [`connect_qpu`][qpi.client.QPIClient.connect_qpu].
        """
        body = {
            "name": name,
            **given(executor_type=executor_type, num_qubits=num_qubits, enabled=enabled),
        }
        return self._request("POST", "/api/op/qpus/create", json_body=body)

    def connect_qpu(
        self,
        name: str,
        access_token: str,
        executor_type: str | None = None,
        device_config: dict[str, Any] | None = None,
    ) -> dict[str, Any]:
        """Connect a QPU driver node.

        Args:
            name: QPU name.
            access_token: The access token for the QPU (from
                [`create_qpu`][qpi.client.QPIClient.create_qpu]).
            executor_type: Type of executor.
            device_config: Configuration dict for the device.

        Returns:
            The connection response dict with NNG port assignments.
        """
        body = {
            "name": name,
            "access_token": access_token,
            **given(executor_type=executor_type, device_config=device_config),
        }
        return self._request("POST", "/api/op/qpus/connect", json_body=body, idempotent=True)

    def toggle_qpu(self, qpu_id: str, enabled: bool) -> dict[str, Any]:
        """Toggle QPU driver state (admin-only).

        Args:
            qpu_id: ID of the QPU.
            enabled: Whether the QPU should be enabled.

        Returns:
            Response dict (``id``, ``name``, ``enabled``, ``status``).
        """
        with self._lock:
            self._qpus.clear()
        return self._request(
            "POST",
            "/api/op/qpu/toggle",
            json_body={"id": qpu_id, "enabled": enabled},
            idempotent=True,
        )


def _named(records: list[dict[str, Any]], name: str) -> dict[str, Any] | None:
    """The first of ``records`` named ``name``."""
    return next((record for record in records if record.get("name") == name), None)
