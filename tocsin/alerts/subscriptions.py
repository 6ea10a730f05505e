"""Subscriptions: anonymous browsers (Web Push, coarse location or followed zone), platforms.

A citizen gives a push endpoint and a location rounded to three decimals (about 100 m): enough to
target, too coarse to follow anyone. Nothing else, no account. The answer holds a token (kept
only as a hash) that lets the same browser unsubscribe. Subscriptions expire (90 days by default)
and are purged. Endpoints are checked against the operator's allowed hosts (no SSRF).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import secrets
import uuid

from sqlalchemy import select
from sqlalchemy.orm import Session

from tocsin.alerts import targeting
from tocsin.alerts.config import AlertSettings, url_problem
from tocsin.alerts.models import AlertDelivery, AlertSubscription
from tocsin.alerts.schemas import PushSubscriptionIn, WebhookIn
from tocsin.core import audit
from tocsin.core.auth import Principal
from tocsin.core.db import utcnow
from tocsin.core.errors import Forbidden, Invalid, NotFound

COARSE_DIGITS = 3


def _token() -> tuple[str, str]:
    token = secrets.token_urlsafe(24)
    return token, hashlib.sha256(token.encode()).hexdigest()


def _check_url(url: str, allowed: str, field: str) -> None:
    problem = url_problem(url, allowed)
    if problem is not None:
        raise Invalid(f"{field}: {problem}", details=[{"location": field, "message": problem}])


def subscribe_push(session: Session, *, data: PushSubscriptionIn, config: AlertSettings,
                   now: dt.datetime | None = None) -> tuple[AlertSubscription, str]:
    """Record a browser's push subscription; return it and its unsubscribe token."""
    now = now or utcnow()
    _check_url(data.endpoint, config.push_hosts, "endpoint")
    lat, lon = round(data.lat, COARSE_DIGITS), round(data.lon, COARSE_DIGITS)
    token, token_hash = _token()
    sub = AlertSubscription(
        id=uuid.uuid4().hex, kind="push", endpoint=data.endpoint,
        keys={"p256dh": data.keys.p256dh, "auth": data.keys.auth}, lat=lat, lon=lon,
        h3_cell=targeting.cell_of(lat, lon), radius_km=round(data.radius_km, 1),
        all_areas=False, owner=None,
        token_hash=token_hash, created_at=now,
        expires_at=now + dt.timedelta(days=config.subscription_days),
    )
    session.add(sub)
    session.flush()
    return sub, token


def register_webhook(session: Session, *, who: Principal, data: WebhookIn,
                     config: AlertSettings,
                     now: dt.datetime | None = None) -> tuple[AlertSubscription, str, str]:
    """Register a platform's webhook; return it, its token and its signing secret (shown once)."""
    now = now or utcnow()
    _check_url(data.url, config.webhook_hosts, "url")
    token, token_hash = _token()
    secret = secrets.token_urlsafe(32)
    sub = AlertSubscription(
        id=uuid.uuid4().hex, kind="webhook", endpoint=data.url, keys={"secret": secret},
        all_areas=True, owner=who.username, token_hash=token_hash, created_at=now,
        expires_at=now + dt.timedelta(days=365),
    )
    session.add(sub)
    session.flush()
    audit.record(session, actor=who, action="alert.webhook_register",
                 object_type="alert_subscription", object_id=sub.id, reason=data.url[:200])
    return sub, token, secret


def unsubscribe(session: Session, *, subscription_id: str, token: str) -> None:
    """Delete a subscription given the token returned when it was made."""
    sub = session.get(AlertSubscription, subscription_id)
    if sub is None:
        raise NotFound("no such subscription")
    if not secrets.compare_digest(sub.token_hash, hashlib.sha256(token.encode()).hexdigest()):
        raise Forbidden("wrong subscription token")
    session.query(AlertDelivery).filter(AlertDelivery.subscription_id == sub.id).delete()
    session.delete(sub)
    session.flush()


def dead_letters(session: Session, *, limit: int = 200) -> list[AlertDelivery]:
    """Return deliveries that failed for good, newest first."""
    query = (select(AlertDelivery).where(AlertDelivery.status == "dead")
             .order_by(AlertDelivery.id.desc()).limit(limit))
    return list(session.scalars(query))


def retry_dead(session: Session, *, who: Principal, delivery_id: int) -> AlertDelivery:
    """Put a dead delivery back in the queue (after the platform fixed its endpoint)."""
    row = session.get(AlertDelivery, delivery_id)
    if row is None or row.status != "dead":
        raise NotFound(f"no dead delivery {delivery_id}")
    row.status, row.attempts, row.next_attempt_at = "pending", 0, utcnow()
    row.claimed_until = None
    audit.record(session, actor=who, action="alert.delivery_retry", object_type="alert_delivery",
                 object_id=row.id)
    session.flush()
    return row
