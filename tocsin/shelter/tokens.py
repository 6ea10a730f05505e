"""Secrets held by hosts and seekers instead of accounts.

A token is 256 random bits shown once; the database keeps its SHA-256 only (a slow hash buys
nothing against 256 bits of entropy, and a leaked table must not let anyone manage an offer or
read an address). Links carry the token in the URL *fragment*, which browsers never send to a
server, so it stays out of access logs and Referer headers.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import uuid


def new_id() -> str:
    """Return an opaque public id (random: ids reveal no order, time or place)."""
    return uuid.uuid4().hex


def new_token() -> str:
    """Return a fresh secret token."""
    return secrets.token_urlsafe(32)


def hash_token(token: str) -> str:
    """Return the stored form of ``token``."""
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def token_matches(token: str | None, stored_hash: str) -> bool:
    """Tell in constant time whether ``token`` is the one whose hash is stored."""
    if not token:
        return False
    return hmac.compare_digest(hash_token(token), stored_hash)
