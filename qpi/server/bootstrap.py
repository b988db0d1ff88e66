"""First start and every start: accounts, ``credentials.json``, built-in QPUs, recovery.

On the first start on a data dir the server creates the superuser ``admin@qpi.local``, the
user ``user@qpi.local`` with one API token and a large QPU-seconds balance, and the built-in
QPUs, and writes the passwords and the token to ``<data_dir>/credentials.json`` (mode 0600).
Later starts reuse them. Each start also puts ``running`` jobs back to ``pending`` (a crash or
a stop interrupted them) and brings the enabled built-in QPUs online.
"""

from __future__ import annotations

import importlib.util
import json
import logging
import os
import secrets
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from qpi.server import dates
from qpi.server.auth import hash_password
from qpi.server.config import ServerConfig
from qpi.server.ids import hash_token, new_id, new_secret_token
from qpi.server.store import Store

__all__ = [
    "ADMIN_EMAIL",
    "CREDENTIALS_FILE",
    "ENV_TOKEN_NAME",
    "USER_EMAIL",
    "Credentials",
    "bootstrap",
]

ADMIN_EMAIL = "admin@qpi.local"
USER_EMAIL = "user@qpi.local"
CREDENTIALS_FILE = "credentials.json"
#: Name of the API token row that holds the hash of ``$QPI_API_TOKEN``.
ENV_TOKEN_NAME = "$QPI_API_TOKEN"


@dataclass(frozen=True)
class Credentials:
    """What ``credentials.json`` holds. Secrets never appear in the repr.

    Attributes:
        url: The server's URL.
        admin_email: The superuser's email.
        admin_password: The superuser's password.
        user_email: The default user's email.
        user_password: The default user's password.
        api_token: An API token of the default user.
    """

    url: str
    admin_email: str
    admin_password: str = field(repr=False)
    user_email: str
    user_password: str = field(repr=False)
    api_token: str = field(repr=False)

    def to_json(self) -> dict[str, str]:
        """The JSON object written to ``credentials.json``."""
        return {
            "url": self.url,
            "admin_email": self.admin_email,
            "admin_password": self.admin_password,
            "user_email": self.user_email,
            "user_password": self.user_password,
            "api_token": self.api_token,
        }


def _read_credentials(path: Path) -> dict[str, Any]:
    try:
        data = json.loads(path.read_text())
    except (OSError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}


def _write_private(path: Path, text: str) -> None:
    # Written to a fresh 0600 file and renamed over, so no reader ever sees a partial file
    # and the secrets are never readable by others, not even for a moment.
    tmp = path.with_name(f".{path.name}.{secrets.token_hex(4)}")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as handle:
        handle.write(text)
    os.replace(tmp, path)


def _ensure_accounts(store: Store, config: ServerConfig, saved: dict[str, Any]) -> dict[str, str]:
    """Create the superuser and the default user if needed; returns their passwords."""
    admin = store.find("superusers", email=ADMIN_EMAIL)
    user = store.find("users", email=USER_EMAIL)
    known = {
        "admin": saved.get("admin_password") if admin else None,
        "user": saved.get("user_password") if user else None,
    }
    todo = {
        who: secrets.token_urlsafe(18)
        for who, password in known.items()
        if not isinstance(password, str) or not password
    }
    if todo:
        # scrypt releases the GIL: hashing both at once halves the first start.
        with ThreadPoolExecutor(max_workers=2) as pool:
            hashes = dict(zip(todo, pool.map(hash_password, todo.values())))
        stamp = dates.now()
        with store.transaction():
            if "admin" in hashes:
                _upsert_account(store, "superusers", admin, ADMIN_EMAIL, hashes["admin"], stamp)
            if "user" in hashes:
                values = {"verified": True, "qpu_seconds": config.default_user_seconds}
                _upsert_account(store, "users", user, USER_EMAIL, hashes["user"], stamp, values)
    return {**known, **todo}  # type: ignore[dict-item]


def _upsert_account(
    store: Store,
    table: str,
    existing: list[dict[str, Any]],
    email: str,
    password_hash: str,
    stamp: str,
    extra: dict[str, Any] | None = None,
) -> None:
    if existing:
        store.update(table, existing[0]["id"], {"password_hash": password_hash, "updated": stamp})
        return
    values = {"id": new_id(), "email": email, "password_hash": password_hash}
    store.insert(table, {**values, **(extra or {}), "created": stamp, "updated": stamp})


def _ensure_api_token(store: Store, user_id: str, saved: dict[str, Any]) -> str:
    raw = saved.get("api_token")
    if isinstance(raw, str) and store.find("api_tokens", token=hash_token(raw), user=user_id):
        return raw
    raw = new_secret_token()
    store.insert(
        "api_tokens",
        {
            "id": new_id(),
            "token": hash_token(raw),
            "user": user_id,
            "name": "default",
            "created": dates.now(),
        },
    )
    return raw


def _sync_env_token(store: Store, user_id: str) -> None:
    """Accept ``$QPI_API_TOKEN`` as the default user's token (stored as its hash only)."""
    raw = os.environ.get("QPI_API_TOKEN", "").strip()
    with store.transaction():
        for row in store.find("api_tokens", user=user_id, name=ENV_TOKEN_NAME):
            store.delete("api_tokens", row["id"])
        if raw and not store.find("api_tokens", token=hash_token(raw)):
            store.insert(
                "api_tokens",
                {
                    "id": new_id(),
                    "token": hash_token(raw),
                    "user": user_id,
                    "name": ENV_TOKEN_NAME,
                    "created": dates.now(),
                },
            )


def _ensure_qpus(store: Store, config: ServerConfig) -> None:
    stamp = dates.now()
    with store.transaction():
        for definition in config.qpus:
            if store.find("qpus", name=definition.name):
                continue
            store.insert(
                "qpus",
                {
                    "id": new_id(),
                    "name": definition.name,
                    "status": "online",
                    "num_qubits": definition.num_qubits,
                    "enabled": True,
                    "executor_type": definition.executor_type,
                    "connected": True,
                    "created": stamp,
                    "updated": stamp,
                },
            )
        # A connected QPU (built-in, or connected once) is online whenever it is enabled.
        store.execute(
            "UPDATE qpus SET status = CASE WHEN enabled = 1 AND connected = 1 "
            "THEN 'online' ELSE 'offline' END"
        )
        for executor_type, reason in _missing_executors().items():
            store.execute(
                "UPDATE qpus SET status = 'offline' WHERE executor_type = ?", (executor_type,)
            )
            logging.getLogger("qpi.server").info(
                "QPUs of type %s are offline: %s", executor_type, reason
            )


def _missing_executors() -> dict[str, str]:
    """Executor types whose simulator is not installed, each with what to install."""
    if importlib.util.find_spec("qiskit_aer") is None:
        return {"qiskit_aer": "qiskit-aer is not installed (pip install 'qpi-sdk[aer]')"}
    return {}


def bootstrap(store: Store, config: ServerConfig, url: str) -> Credentials:
    """Prepare a data dir for serving; returns the credentials (also in credentials.json)."""
    assert config.data_dir is not None
    path = config.data_dir / CREDENTIALS_FILE
    saved = _read_credentials(path)
    passwords = _ensure_accounts(store, config, saved)
    user_id = store.find("users", email=USER_EMAIL)[0]["id"]
    api_token = _ensure_api_token(store, user_id, saved)
    _sync_env_token(store, user_id)
    _ensure_qpus(store, config)
    # Jobs that were running when the last process ended run again: nothing accepted is lost.
    store.execute(
        "UPDATE quantum_jobs SET status = 'pending', updated = ? WHERE status = 'running'",
        (dates.now(),),
    )
    credentials = Credentials(
        url=url,
        admin_email=ADMIN_EMAIL,
        admin_password=passwords["admin"],
        user_email=USER_EMAIL,
        user_password=passwords["user"],
        api_token=api_token,
    )
    if credentials.to_json() != saved:
        _write_private(path, json.dumps(credentials.to_json(), indent=2) + "\n")
    return credentials
