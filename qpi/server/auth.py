"""Who is calling: passwords, signed JWTs, API tokens and the login rate limiter.

The caller is resolved exactly as the real server does it (reference §2.4):

1. a JWT of a ``users`` record (``Authorization``, with or without ``Bearer``);
2. a JWT of a superuser, who then acts as a "proxy user" with the same email;
3. an API token in ``X-API-Token``, or as ``Authorization: Bearer <token>``.

API tokens are stored only as their SHA-256 hex and compared in constant time.
"""

from __future__ import annotations

import hashlib
import hmac
import math
import os
import secrets
import threading
import time
from collections import deque
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import jwt

from qpi.server import dates
from qpi.server.errors import ErrorResponse
from qpi.server.ids import hash_token, new_id
from qpi.server.store import Store

__all__ = [
    "PROXY_USER_SECONDS",
    "Authenticator",
    "Identity",
    "LoginLimiter",
    "TokenSigner",
    "hash_password",
    "load_or_create_secret",
    "verify_password",
]

#: The balance a superuser's proxy user is topped up to (reference §2.3).
PROXY_USER_SECONDS = 999_999_999.0

_SCRYPT_N, _SCRYPT_R, _SCRYPT_P = 2**14, 8, 1
_SCRYPT_MAXMEM = 64 * 1024 * 1024


def hash_password(password: str) -> str:
    """Hash a password with scrypt; the parameters and salt travel in the result."""
    salt = os.urandom(16)
    digest = hashlib.scrypt(
        password.encode("utf-8"),
        salt=salt,
        n=_SCRYPT_N,
        r=_SCRYPT_R,
        p=_SCRYPT_P,
        maxmem=_SCRYPT_MAXMEM,
    )
    return f"scrypt${_SCRYPT_N}${_SCRYPT_R}${_SCRYPT_P}${salt.hex()}${digest.hex()}"


def verify_password(password: str, stored: str) -> bool:
    """Whether ``password`` matches a hash made by `hash_password`."""
    try:
        scheme, n, r, p, salt, digest = stored.split("$")
        if scheme != "scrypt":
            return False
        candidate = hashlib.scrypt(
            password.encode("utf-8"),
            salt=bytes.fromhex(salt),
            n=int(n),
            r=int(r),
            p=int(p),
            maxmem=_SCRYPT_MAXMEM,
        )
    except ValueError:
        return False
    return hmac.compare_digest(candidate.hex(), digest)


def load_or_create_secret(data_dir: Path) -> bytes:
    """The JWT signing secret of a data dir, created (mode 0600) on first start."""
    path = Path(data_dir) / "jwt-secret"
    if path.exists():
        return bytes.fromhex(path.read_text().strip())
    secret = secrets.token_bytes(32)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as handle:
        handle.write(secret.hex())
    return secret


class TokenSigner:
    """Issues and checks the HS256 JWTs of ``users`` and ``_superusers`` records.

    Args:
        secret: The signing secret.
        ttl: Token lifetime in seconds.
    """

    def __init__(self, secret: bytes, ttl: float) -> None:
        self._secret = secret
        self.ttl = ttl

    def __repr__(self) -> str:
        return f"TokenSigner(ttl={self.ttl})"

    def issue(self, record_id: str, collection: str) -> str:
        """A signed token for record ``record_id`` of ``collection``."""
        issued = int(time.time())
        claims = {
            "id": record_id,
            "collectionName": collection,
            "type": "auth",
            "refreshable": True,
            "iat": issued,
            "exp": issued + int(self.ttl),
        }
        return jwt.encode(claims, self._secret, algorithm="HS256")

    def verify(self, token: str) -> tuple[str, str] | None:
        """``(record_id, collection)`` of a valid, unexpired token; ``None`` otherwise."""
        try:
            claims = jwt.decode(
                token, self._secret, algorithms=["HS256"], options={"require": ["exp", "id"]}
            )
        except jwt.PyJWTError:
            return None
        if claims.get("type") != "auth":
            return None
        return str(claims["id"]), str(claims.get("collectionName", ""))


@dataclass(frozen=True)
class Identity:
    """A resolved caller.

    Attributes:
        user: The acting ``users`` record: the caller, or a superuser's proxy user.
        superuser: The superuser record when the caller presented a superuser JWT.
        via: ``"user_jwt"``, ``"superuser_jwt"`` or ``"api_token"``.
    """

    user: dict[str, Any] = field(repr=False)
    superuser: dict[str, Any] | None = field(default=None, repr=False)
    via: str = "api_token"

    @property
    def user_id(self) -> str:
        """The acting user's id."""
        return self.user["id"]

    @property
    def is_superuser(self) -> bool:
        """Whether the caller is a superuser."""
        return self.superuser is not None


class Authenticator:
    """Resolves callers from request headers against the store.

    Args:
        store: The server's database.
        signer: The JWT signer.
    """

    def __init__(self, store: Store, signer: TokenSigner) -> None:
        self.store = store
        self.signer = signer

    def resolve(self, headers: Mapping[str, str]) -> Identity | None:
        """The caller of a request, or ``None`` for an anonymous (or badly signed) one."""
        authorization = headers.get("authorization", "").strip()
        bearer = authorization.removeprefix("Bearer ").strip()
        if bearer:
            identity = self._from_jwt(bearer)
            if identity is not None:
                return identity
        raw = headers.get("x-api-token", "").strip()
        if not raw and authorization.startswith("Bearer "):
            raw = bearer
        if raw:
            user = self.user_for_api_token(raw)
            if user is not None:
                return Identity(user=user, via="api_token")
        return None

    def _from_jwt(self, token: str) -> Identity | None:
        claims = self.signer.verify(token)
        if claims is None:
            return None
        record_id, collection = claims
        if collection == "users":
            user = self.store.get("users", record_id)
            return None if user is None else Identity(user=user, via="user_jwt")
        if collection == "_superusers":
            superuser = self.store.get("superusers", record_id)
            if superuser is None:
                return None
            return Identity(self.proxy_user(superuser), superuser, "superuser_jwt")
        return None

    def user_for_api_token(self, raw: str) -> dict[str, Any] | None:
        """The owner of a live API token, or ``None`` (unknown, expired or empty)."""
        digest = hash_token(raw)
        rows = self.store.query(
            "SELECT * FROM api_tokens WHERE token = ? AND (expires_at = '' OR expires_at >= ?)",
            (digest, dates.now()),
        )
        # The lookup is by hash; the constant-time compare guards against any index quirk.
        if not rows or not hmac.compare_digest(rows[0]["token"], digest):
            return None
        return self.store.get("users", rows[0]["user"])

    def proxy_user(self, superuser: Mapping[str, Any]) -> dict[str, Any]:
        """The ``users`` record a superuser acts as on user routes, created on first use."""
        with self.store.transaction():
            found = self.store.find("users", email=superuser["email"])
            if not found:
                stamp = dates.now()
                return self.store.insert(
                    "users",
                    {
                        "id": new_id(),
                        "email": superuser["email"],
                        "qpu_seconds": PROXY_USER_SECONDS,
                        "verified": True,
                        "created": stamp,
                        "updated": stamp,
                    },
                )
            user = found[0]
            if user["qpu_seconds"] < PROXY_USER_SECONDS:
                user = self.store.update(
                    "users", user["id"], {"qpu_seconds": PROXY_USER_SECONDS, "updated": dates.now()}
                )
            return user


class LoginLimiter:
    """Refuses logins for an identity after too many recent failures (429 + Retry-After).

    Args:
        max_failures: Failures allowed within ``window`` seconds.
        window: The sliding window, in seconds.
    """

    def __init__(self, max_failures: int, window: float) -> None:
        self.max_failures = max_failures
        self.window = window
        self._failures: dict[str, deque[float]] = {}
        self._lock = threading.Lock()

    def _recent(self, key: str, now: float) -> deque[float]:
        failures = self._failures.setdefault(key, deque())
        while failures and failures[0] <= now - self.window:
            failures.popleft()
        return failures

    def check(self, key: str) -> None:
        """Raise 429 if ``key`` has used up its failures.

        Raises:
            ErrorResponse: 429 with a ``Retry-After`` header.
        """
        with self._lock:
            now = time.monotonic()
            failures = self._recent(key, now)
            if len(failures) < self.max_failures:
                return
            wait = max(1, math.ceil(failures[0] + self.window - now))
        raise ErrorResponse(
            429,
            f"Too many failed login attempts; try again in {wait} seconds",
            headers={"Retry-After": str(wait)},
        )

    def failed(self, key: str) -> None:
        """Record a failed attempt for ``key``."""
        with self._lock:
            now = time.monotonic()
            self._recent(key, now).append(now)

    def succeeded(self, key: str) -> None:
        """Forget the failures of ``key`` after a successful login."""
        with self._lock:
            self._failures.pop(key, None)
