"""The two ways an alert leaves Tocsin: signed platform webhooks and browser Web Push (VAPID).

Webhooks (the way a platform relays an alert, as Facebook and Twitter did in 2015) are POSTed
as JSON with ``X-Tocsin-Signature: t=<unix time>,v1=<hex HMAC-SHA256(secret, "<t>.<body>")>``;
the timestamp lets the receiver refuse replays. :func:`verify_signature` is the receiver's side.

Web Push (RFC 8030, 8291, 8292) is sent by the fan-out (``fanout``) over the pooled HTTP/2
sender of :mod:`tocsin.core.push`; the VAPID key and its settings are the core's
(:mod:`tocsin.core.webpush`, shared with the cyber desk), re-exported here for this domain.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import time
from typing import Any

import httpx

from tocsin.core.webpush import VapidKey as VapidKey
from tocsin.core.webpush import load_vapid as load_vapid

log = logging.getLogger("tocsin.alerts.senders")

SIGNATURE_HEADER = "X-Tocsin-Signature"
SIGNATURE_TOLERANCE_S = 300


class DeliveryError(Exception):
    """A delivery failed; ``permanent`` means retrying cannot help (e.g. 410 Gone)."""

    def __init__(self, message: str, *, permanent: bool = False) -> None:
        super().__init__(message)
        self.permanent = permanent


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


async def send_webhook(client: httpx.AsyncClient, *, url: str, secret: str,
                       payload: dict[str, Any], delivery_id: int) -> None:
    """POST one signed payload; raise DeliveryError unless the receiver answers 2xx."""
    body = json.dumps(payload, separators=(",", ":"), ensure_ascii=False).encode()
    headers = {
        "Content-Type": "application/json",
        SIGNATURE_HEADER: sign(secret, body),
        "X-Tocsin-Event": "alerts.published",
        "X-Tocsin-Delivery": str(delivery_id),
    }
    try:
        response = await client.post(url, content=body, headers=headers)
    except httpx.HTTPError as exc:
        raise DeliveryError(f"{type(exc).__name__}: {exc}"[:300]) from None
    if not 200 <= response.status_code < 300:
        permanent = response.status_code in (404, 410)
        raise DeliveryError(f"HTTP {response.status_code}", permanent=permanent)
