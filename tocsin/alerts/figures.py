"""Figures the alerts domain contributes to the observatory (contract: ``tocsin.core.figures``).

Messages published, and their delivery: each delivery row is one subscriber targeted; a sent
row is delivered (with the time since publication), a dead row failed after its last retry (at
its last attempt). ``alerts.first_delivery`` is, per message, the time to its first delivery.
Deliveries announce no event, so the periodic sweep reads them.

An alert to a million subscribers is a million delivery rows: they are counted in the database,
one ``GROUP BY`` per figure, into one fact per alert, channel and minute (``Fact.count``), not
handed over one fact per row (that sweep cost the sending worker about as much CPU as the
sending itself). A minute is counted once all its rows are written: ``LATE`` after its end (the
same margin the sweep's overlap gave to rows committed late), since a counted key is never
counted again. The figures are the same per minute, hour and day; they show up a minute or two
later than a per-row fact would.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import case, func, select
from sqlalchemy.orm import Session

from tocsin.alerts.models import Alert, AlertDelivery
from tocsin.core.bus import Event
from tocsin.core.db import utcnow
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
# A delivery row is written within a moment of its timestamp (the planner stamps each page when
# it writes it, the sender each batch of outcomes): a minute is complete this long after its end.
LATE = dt.timedelta(seconds=60)
MINUTE = dt.timedelta(minutes=1)


def from_event(session: Session, event: Event) -> list[Fact]:
    """No event is consumed (deliveries are swept from the table)."""
    return []


def _floor(at: dt.datetime) -> dt.datetime:
    return at.astimezone(dt.UTC).replace(second=0, microsecond=0)


def _minute_of(column: Any, dialect: str) -> Any:
    if dialect == "postgresql":
        return func.date_trunc("minute", column)
    return func.strftime("%Y-%m-%d %H:%M", column)  # SQLite keeps UTC as naive ISO text


def _as_minute(value: Any) -> dt.datetime:
    if isinstance(value, dt.datetime):
        return value.replace(tzinfo=dt.UTC) if value.tzinfo is None else value.astimezone(dt.UTC)
    return dt.datetime.strptime(str(value), "%Y-%m-%d %H:%M").replace(tzinfo=dt.UTC)


def _seconds(later: Any, earlier: Any, dialect: str) -> Any:
    if dialect == "postgresql":
        return func.extract("epoch", later - earlier)
    return (func.julianday(later) - func.julianday(earlier)) * 86400.0


def _per_minute(session: Session, figure: str, stamp: Any, status: str | None,
                lo: dt.datetime, hi: dt.datetime, *, wait: bool = False) -> list[Fact]:
    """One fact per alert, channel and minute of ``stamp`` in ``[lo, hi)`` (whole minutes)."""
    dialect = session.get_bind().dialect.name
    minute = _minute_of(stamp, dialect).label("minute")
    columns: list[Any] = [AlertDelivery.alert_id, AlertDelivery.kind, minute,
                          func.count().label("n")]
    query = select(*columns)
    if wait:
        # Negative waits (clock skew) count as no wait, as ``seconds_between`` says.
        seconds = _seconds(stamp, Alert.published_at, dialect)
        query = query.add_columns(func.sum(case((seconds >= 0, seconds), else_=0.0))
                                  .label("total")).join(Alert,
                                                        Alert.id == AlertDelivery.alert_id)
    query = query.where(stamp >= lo, stamp < hi)
    if status is not None:
        query = query.where(AlertDelivery.status == status)
    facts = []
    for r in session.execute(query.group_by(AlertDelivery.alert_id, AlertDelivery.kind,
                                            minute)):
        at = _as_minute(r.minute)
        value = float(r.total or 0.0) if wait else None
        facts.append(Fact(figure, f"{r.alert_id}:{r.kind}:{at:%Y%m%d%H%M}", at,
                          category=r.kind, value=value, count=int(r.n)))
    return facts


def from_tables(session: Session, start: dt.datetime, end: dt.datetime,
                *, now: dt.datetime | None = None) -> list[Fact]:
    """Return publications and delivery outcomes in ``[start, end)``.

    Deliveries are counted per whole minute: every minute that begins before ``end`` and
    ended ``LATE`` before now, read back from a minute before ``start`` (so a minute left
    open by the previous sweep is counted by this one, whatever the overlap).
    """
    now = now or utcnow()
    facts = [
        Fact("alerts.published", r.id, r.published_at, category=r.msg_type, detail=r.status)
        for r in session.execute(
            select(Alert.id, Alert.published_at, Alert.msg_type, Alert.status)
            .where(Alert.published_at >= start, Alert.published_at < end))
    ]
    lo = _floor(start - LATE)
    hi = min(_floor(end) + (MINUTE if _floor(end) < end else dt.timedelta(0)),
             _floor(now - LATE))
    if lo < hi:
        facts += _per_minute(session, "alerts.targeted", AlertDelivery.created_at, None, lo, hi)
        facts += _per_minute(session, "alerts.delivered", AlertDelivery.sent_at, "sent", lo, hi,
                             wait=True)
        facts += _per_minute(session, "alerts.failed", AlertDelivery.next_attempt_at, "dead",
                             lo, hi)
    first_sent = func.min(AlertDelivery.sent_at).label("first")
    for r in session.execute(
        select(AlertDelivery.alert_id, first_sent, Alert.published_at)
        .join(Alert, Alert.id == AlertDelivery.alert_id)
        .where(AlertDelivery.status == "sent", AlertDelivery.sent_at >= start,
               AlertDelivery.sent_at < end)
        .group_by(AlertDelivery.alert_id, Alert.published_at)
    ):
        wait = seconds_between(r.published_at, r.first)
        if wait is not None:
            facts.append(Fact("alerts.first_delivery", r.alert_id, r.first, value=wait))
    return facts
