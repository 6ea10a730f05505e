"""Retention of the alerts domain: subscriptions expire (the only personal data here: a push
endpoint and a coarse location), and their deliveries go with them. Published messages are
public records and stay."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from tocsin.alerts.models import AlertDelivery, AlertSubscription

BATCH = 500  # subscriptions per call: ``tocsin purge`` commits between calls


def purge(session: Session, *, now: dt.datetime, batch: int | None = None) -> dict[str, int]:
    """Delete one batch of expired subscriptions and their deliveries."""
    limit = batch or BATCH  # read here: a test may lower the module's BATCH
    gone = list(session.scalars(select(AlertSubscription.id)
                                .where(AlertSubscription.expires_at <= now).limit(limit)))
    if gone:
        session.execute(delete(AlertDelivery).where(AlertDelivery.subscription_id.in_(gone)))
        session.execute(delete(AlertSubscription).where(
            AlertSubscription.id.in_(gone), AlertSubscription.expires_at <= now))
    return {"alert_subscription": len(gone)}
