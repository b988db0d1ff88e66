"""Record ids, API tokens and the hashes tokens are stored as."""

from __future__ import annotations

import hashlib
import secrets
import string

__all__ = ["ID_ALPHABET", "ID_LENGTH", "hash_token", "new_id", "new_secret_token"]

#: PocketBase record ids: 15 characters of ``[a-z0-9]``.
ID_ALPHABET = string.ascii_lowercase + string.digits
ID_LENGTH = 15


def new_id() -> str:
    """A fresh random record id."""
    return "".join(secrets.choice(ID_ALPHABET) for _ in range(ID_LENGTH))


def new_secret_token() -> str:
    """A fresh API or access token: ``qpi_`` followed by 64 lowercase hex characters."""
    return "qpi_" + secrets.token_hex(32)


def hash_token(raw: str) -> str:
    """The lowercase hex SHA-256 of the full raw token, prefix included (what is stored)."""
    return hashlib.sha256(raw.encode("utf-8")).hexdigest()
