"""Who is calling: passwords, signed JWTs, API tokens and the login rate limiter.

The caller is resolved exactly as the real server does it (reference §2.4):

1. a JWT of a ``users`` record (``Authorization``, with or without ``Bearer``);
2. a JWT of a superuser, who then acts as their "proxy user";
3. an API token in ``X-API-Token``, or as ``Authorization: Bearer <token>``.

API tokens are stored only as their SHA-256 hex and compared in constant time. Unlike the
real server, a superuser's proxy user is bound to the superuser by a link row, never by a
matching email (anyone could sign up with that email first), and every JWT carries a key
derived from the account's password hash, so changing the password ends every session.
"""

from __future__ import annotations

import hashlib
import hmac
import os
import secrets
import time
import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import jwt

from qpi.server import dates
from qpi.server.ids import hash_token, new_id
from qpi.server.store import Store

__all__ = [
    "PROXY_USER_SECONDS",
    "Authenticator",
    "Identity",
    "TokenSigner",
    "hash_password",
    "load_or_create_secret",
    "normalize_email",
    "session_key",
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


def normalize_email(email: str) -> str:
    """The form two emails are compared in: NFKC-normalised, case-folded, trimmed.

    ``Admin@QPI.local``, ``admin@qpi.local `` and ``ａdmin@qpi.local`` (a full-width ``a``) are
    one identity: each would read as the admin's to a person.
    """
    return unicodedata.normalize("NFKC", email).casefold().strip()


def session_key(account: Mapping[str, Any]) -> str:
    """The key a JWT of ``account`` must carry: it changes whenever the password does."""
    material = f"{account['id']}:{account.get('password_hash') or ''}".encode()
    return hashlib.sha256(material).hexdigest()[:32]


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

    def issue(self, record_id: str, collection: str, key: str = "") -> str:
        """A signed token for record ``record_id`` of ``collection``.

        Args:
            record_id: The account's id.
            collection: ``"users"`` or ``"_superusers"``.
            key: The account's [`session_key`][qpi.server.auth.session_key]; a token whose
                key no longer matches (the password changed) is refused.
        """
        issued = int(time.time())
        claims = {
            "id": record_id,
            "collectionName": collection,
            "key": key,
            "type": "auth",
            "refreshable": True,
            "iat": issued,
            "exp": issued + int(self.ttl),
        }
        return jwt.encode(claims, self._secret, algorithm="HS256")

    def verify(self, token: str) -> tuple[str, str, str] | None:
        """``(record_id, collection, key)`` of a valid, unexpired token; ``None`` otherwise."""
        try:
            claims = jwt.decode(
                token, self._secret, algorithms=["HS256"], options={"require": ["exp", "id"]}
            )
        except jwt.PyJWTError:
            return None
        if claims.get("type") != "auth":
            return None
        record = str(claims["id"])
        return record, str(claims.get("collectionName", "")), str(claims.get("key", ""))


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
        record_id, collection, key = claims
        table = {"users": "users", "_superusers": "superusers"}.get(collection)
        account = self.store.get(table, record_id) if table else None
        # A token issued before the last password change is dead (its key is the old one's).
        if account is None or not hmac.compare_digest(key, session_key(account)):
            return None
        if table == "users":
            return Identity(user=account, via="user_jwt")
        return Identity(self.proxy_user(account), account, "superuser_jwt")

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
        """The ``users`` record a superuser acts as on user routes, created on first use.

        The link is the ``superuser_proxies`` row, never the email: an account someone
        signed up with the admin's email is never adopted.
        """
        with self.store.transaction():
            link = self.store.get("superuser_proxies", superuser["id"])
            user = self.store.get("users", link["user"]) if link else None
            if user is None:
                user = self._new_proxy_user(superuser)
                if link:
                    self.store.delete("superuser_proxies", superuser["id"])
                self.store.insert("superuser_proxies", {"id": superuser["id"], "user": user["id"]})
            if user["qpu_seconds"] < PROXY_USER_SECONDS:
                user = self.store.update(
                    "users", user["id"], {"qpu_seconds": PROXY_USER_SECONDS, "updated": dates.now()}
                )
            return user

    def _new_proxy_user(self, superuser: Mapping[str, Any]) -> dict[str, Any]:
        email = superuser["email"]
        if self.store.find("users", email=email):
            # Held by an account made before sign-up refused the admin's email: leave it
            # alone (it is not the admin's) and give the proxy an address no one can claim.
            email = f"proxy-{superuser['id']}@superusers.invalid"
        stamp = dates.now()
        return self.store.insert(
            "users",
            {
                "id": new_id(),
                "email": email,
                "qpu_seconds": PROXY_USER_SECONDS,
                "verified": True,
                "created": stamp,
                "updated": stamp,
            },
        )
