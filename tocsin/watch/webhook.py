"""Signed webhooks that push removal orders to platforms (besides the pull API).

Signature: header ``X-Tocsin-Signature: t=<unix time>,v1=<hex HMAC-SHA256 of "<t>." + body>``
under the platform's secret (given once, when the platform is registered; sealed at rest). The
timestamp lets the platform refuse replays. A 2xx answer is the order's receipt: the one-hour
clock of TCO Regulation 2021/784 Art. 3(3) starts then, if the platform has not fetched it yet.
Delivery runs after commit, from the ``watch.order_issued`` event, never on the order's path.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import json
import time
import urllib.error
import urllib.request

from sqlalchemy.orm import Session

from tocsin.core import audit
from tocsin.core.db import utcnow
from tocsin.core.errors import Invalid
from tocsin.core.outbound import opener
from tocsin.watch.config import WatchSettings, check_outbound
from tocsin.watch.instruments import VISIBLE_TO_PLATFORM
from tocsin.watch.models import WatchItem, WatchOrder, WatchPlatform
from tocsin.watch.orders import mark_received

TIMEOUT_S = 5.0
TOLERANCE_S = 300


def sign(secret: str, body: bytes, *, at: int | None = None) -> str:
    """Return the signature header value for ``body``."""
    t = int(time.time()) if at is None else at
    mac = hmac.new(secret.encode(), f"{t}.".encode() + body, hashlib.sha256).hexdigest()
    return f"t={t},v1={mac}"


def verify(secret: str, header: str, body: bytes, *, now: int | None = None) -> bool:
    """Check a signature in constant time, refusing timestamps older than five minutes."""
    fields = dict(part.split("=", 1) for part in header.split(",") if "=" in part)
    try:
        t = int(fields.get("t", ""))
    except ValueError:
        return False
    if abs((int(time.time()) if now is None else now) - t) > TOLERANCE_S:
        return False
    expected = hmac.new(secret.encode(), f"{t}.".encode() + body, hashlib.sha256).hexdigest()
    return hmac.compare_digest(expected, fields.get("v1", ""))


def order_payload(order: WatchOrder, item: WatchItem | None) -> dict[str, object]:
    """Return what the webhook tells the platform (the pull API gives the same)."""
    payload: dict[str, object] = {
        "type": "removal_order" if order.instrument == "order" else "notice",
        "order_id": order.id, "url": item.url if item else "",
        "legal_basis": order.legal_basis, "reason": order.reason,
        "issued_at": order.issued_at.isoformat(), "fetch": "/api/v1/watch/platform/orders"}
    if order.instrument == "order":
        payload["deadline_hours"] = 1  # TCO Art. 3(3); a notice has no clock
    else:
        payload["trusted_flagger"] = order.trusted_flagger  # DSA Art. 22: handle with priority
    return payload


def deliver(session: Session, *, order_id: int, now: dt.datetime | None = None,
            settings: WatchSettings | None = None) -> bool:
    """POST the order to its platform's webhook; on a 2xx, record the receipt. Idempotent."""
    order = session.get(WatchOrder, order_id)
    if order is None or order.status not in VISIBLE_TO_PLATFORM:
        return False  # a proposal (or a withdrawn one) never leaves
    platform = session.get(WatchPlatform, order.platform_id)
    if platform is None or not platform.webhook_url or not platform.webhook_secret:
        return False
    try:
        check_outbound(platform.webhook_url, "webhook", settings)
    except Invalid:
        return False  # the operator removed the host since registration: deliver nothing
    body = json.dumps(order_payload(order, session.get(WatchItem, order.item_id))).encode()
    request = urllib.request.Request(platform.webhook_url, data=body, method="POST",  # noqa: S310
                                     headers={"Content-Type": "application/json",
                                              "X-Tocsin-Signature": sign(
                                                  platform.webhook_secret, body)})
    try:
        with opener().open(request, timeout=TIMEOUT_S) as response:
            ok = 200 <= response.status < 300
    except (urllib.error.URLError, TimeoutError, OSError):
        ok = False
    if ok and order.received_at is None:
        mark_received(order, now or utcnow())
        audit.record(session, actor="system:webhook", action=f"watch.{order.instrument}_receive",
                     object_type="watch_order", object_id=order.id, reason="webhook 2xx")
    session.flush()
    return ok
