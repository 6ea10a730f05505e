"""Figures the alerts domain contributes to the observatory (contract: ``tocsin.core.figures``).

Messages published, and their delivery: each delivery row is one subscriber targeted; a sent
row is delivered (with the time since publication), a dead row failed after its last retry (at
its last attempt). ``alerts.first_delivery`` is, per message, the time to its first delivery.
Deliveries announce no event, so the periodic sweep reads them.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import select
from sqlalchemy.orm import Session

from tocsin.alerts.models import Alert, AlertDelivery
from tocsin.core.bus import Event
from tocsin.core.figures import Fact, Kind, seconds_between

CHANNELS = ("push", "webhook")
KINDS = (
    Kind("alerts.published", "Alertes publiées", "Alerts published",
         categories=("Alert", "Update", "Cancel"), details="CAP status"),
    Kind("alerts.targeted", "Destinataires ciblés", "Recipients targeted", categories=CHANNELS),
    Kind("alerts.delivered", "Remises réussies", "Deliveries made", categories=CHANNELS),
    Kind("alerts.failed", "Remises en échec", "Deliveries failed", categories=CHANNELS),
    Kind("alerts.first_delivery", "Délai publication → première remise",
         "Publication to first delivery", unit="seconds"),
)
SUBJECTS: tuple[str, ...] = ()


def from_event(session: Session, event: Event) -> list[Fact]:
    """No event is consumed (deliveries are swept from the table)."""
    return []


def from_tables(session: Session, start: dt.datetime, end: dt.datetime) -> list[Fact]:
    """Return publications and delivery outcomes in ``[start, end)``."""
    facts = [
        Fact("alerts.published", r.id, r.published_at, category=r.msg_type, detail=r.status)
        for r in session.execute(
            select(Alert.id, Alert.published_at, Alert.msg_type, Alert.status)
            .where(Alert.published_at >= start, Alert.published_at < end))
    ]
    facts += [
        Fact("alerts.targeted", str(r.id), r.created_at, category=r.kind)
        for r in session.execute(select(AlertDelivery.id, AlertDelivery.created_at,
                                        AlertDelivery.kind)
                                 .where(AlertDelivery.created_at >= start,
                                        AlertDelivery.created_at < end))
    ]
    first: dict[str, Fact] = {}
    for r in session.execute(
        select(AlertDelivery.id, AlertDelivery.alert_id, AlertDelivery.kind,
               AlertDelivery.sent_at, Alert.published_at)
        .join(Alert, Alert.id == AlertDelivery.alert_id)
        .where(AlertDelivery.status == "sent", AlertDelivery.sent_at >= start,
               AlertDelivery.sent_at < end)
        .order_by(AlertDelivery.sent_at)
    ):
        wait = seconds_between(r.published_at, r.sent_at)
        facts.append(Fact("alerts.delivered", str(r.id), r.sent_at, category=r.kind, value=wait))
        if wait is not None and r.alert_id not in first:
            first[r.alert_id] = Fact("alerts.first_delivery", r.alert_id, r.sent_at, value=wait)
    facts += first.values()
    facts += [
        Fact("alerts.failed", str(r.id), r.next_attempt_at, category=r.kind)
        for r in session.execute(
            select(AlertDelivery.id, AlertDelivery.next_attempt_at, AlertDelivery.kind)
            .where(AlertDelivery.status == "dead", AlertDelivery.next_attempt_at >= start,
                   AlertDelivery.next_attempt_at < end))
    ]
    return facts
