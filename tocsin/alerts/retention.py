"""Retention of the alerts domain: subscriptions expire (the only personal data here: a push
endpoint and a coarse location), and their deliveries go with them. Published messages are
public records and stay."""

from __future__ import annotations

import datetime as dt

from sqlalchemy.orm import Session

from tocsin.alerts.fanout import purge_dead_subscriptions


def purge(session: Session, now: dt.datetime) -> dict[str, int]:
    """Delete expired subscriptions and their deliveries."""
    return {"alert_subscription": purge_dead_subscriptions(session, now)}
