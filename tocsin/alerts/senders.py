"""The two ways an alert leaves Tocsin: signed platform webhooks and browser Web Push (VAPID).

Webhooks (the way a platform relays an alert, as Facebook and Twitter did in 2015) are POSTed
as JSON with ``X-Tocsin-Signature: t=<unix time>,v1=<hex HMAC-SHA256(secret, "<t>.<body>")>``;
the timestamp lets the receiver refuse replays. :func:`verify_signature` is the receiver's side.

Web Push (RFC 8030) payloads are encrypted for the browser (RFC 8291, aes128gcm) and signed with
the server's VAPID key (RFC 8292) by pywebpush. The key comes from the settings or is generated
into ``var/vapid.pem`` on first start. Redirects are never followed: an allowed host must not
bounce a request into the operator's network.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import requests
from cryptography.hazmat.primitives import serialization
from py_vapid import Vapid02, b64urlencode
from pywebpush import WebPushException, webpush

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


@dataclass
class VapidKey:
    """The server's VAPID key and the public key browsers need (``applicationServerKey``)."""

    vapid: Vapid02
    public_key: str


def load_vapid(pem: str, var_dir: Path) -> VapidKey:
    """Use the configured PEM, else ``var/vapid.pem``, generating it on first start."""
    if pem.strip():
        vapid = Vapid02.from_pem(pem.encode())
    else:
        path = var_dir / "vapid.pem"
        if path.exists():
            vapid = Vapid02.from_file(str(path))
        else:
            vapid = Vapid02()
            vapid.generate_keys()
            path.parent.mkdir(parents=True, exist_ok=True)
            vapid.save_key(str(path))
            path.chmod(0o600)
            log.info("generated a VAPID key in %s", path)
    raw = vapid.public_key.public_bytes(
        serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint
    )
    return VapidKey(vapid=vapid, public_key=b64urlencode(raw))


def _no_redirect_session() -> requests.Session:
    session = requests.Session()
    session.max_redirects = 0
    session.trust_env = False
    return session


def send_push(*, key: VapidKey, subject: str, endpoint: str, keys: dict[str, str],
              payload: dict[str, Any], timeout: float) -> None:
    """Encrypt and send one Web Push message (blocking: run it in a thread)."""
    with _no_redirect_session() as session:
        try:
            response = webpush(
                subscription_info={"endpoint": endpoint, "keys": keys},
                data=json.dumps(payload, ensure_ascii=False),
                vapid_private_key=key.vapid,
                vapid_claims={"sub": subject},
                timeout=timeout,
                ttl=3600,
                headers={"Urgency": "high"},
                requests_session=session,
            )
        except WebPushException as exc:
            status = exc.response.status_code if exc.response is not None else None
            raise DeliveryError(f"push refused: HTTP {status}",
                                permanent=status in (404, 410)) from None
        except (requests.RequestException, ValueError) as exc:
            raise DeliveryError(f"{type(exc).__name__}: {exc}"[:300]) from None
    if isinstance(response, requests.Response) and not 200 <= response.status_code < 300:
        raise DeliveryError(f"HTTP {response.status_code}")
