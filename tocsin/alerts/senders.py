"""Webhook signatures: how a platform knows an alert came from Tocsin.

Webhooks (the way a platform relays an alert, as Facebook and Twitter did in 2015) are POSTed
by the fan-out (``fanout``) as JSON with
``X-Tocsin-Signature: t=<unix time>,v1=<hex HMAC-SHA256(secret, "<t>.<body>")>``; the timestamp
lets the receiver refuse replays. :func:`verify_signature` is the receiver's side.

Web Push (RFC 8030, 8291, 8292) goes over the pooled HTTP/2 sender of :mod:`tocsin.core.push`,
with the VAPID key and settings of :mod:`tocsin.core.webpush` (shared with the cyber desk).
"""

from __future__ import annotations

import hashlib
import hmac
import time

SIGNATURE_HEADER = "X-Tocsin-Signature"
SIGNATURE_TOLERANCE_S = 300


def sign(secret: str, body: bytes, *, timestamp: int | None = None) -> str:
    """Return the signature header value for ``body``."""
    t = int(time.time()) if timestamp is None else timestamp
    mac = hmac.new(secret.encode(), f"{t}.".encode() + body, hashlib.sha256).hexdigest()
    return f"t={t},v1={mac}"


def verify_signature(secret: str, header: str, body: bytes, *,
                     tolerance: int = SIGNATURE_TOLERANCE_S, now: float | None = None) -> bool:
    """Check a webhook signature in constant time, refusing stale timestamps."""
    fields = dict(part.split("=", 1) for part in header.split(",") if "=" in part)
    try:
        t = int(fields.get("t", ""))
    except ValueError:
        return False
    if abs((time.time() if now is None else now) - t) > tolerance:
        return False
    expected = hmac.new(secret.encode(), f"{t}.".encode() + body, hashlib.sha256).hexdigest()
    return hmac.compare_digest(expected, fields.get("v1", ""))
