"""An alert's deliveries are counted per minute in the database (issue 23): the observatory's
figures are the same as one fact per delivery row, a minute is counted once it is over, and no
sweep counts a delivery twice."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from tocsin.alerts import figures
from tocsin.alerts.models import Alert, AlertDelivery, AlertSubscription
from tocsin.core.db import utcnow
from tocsin.core.figures import Fact
from tocsin.stats import ingest
from tocsin.stats.models import StatsFact, StatsRollup
from tocsin.stats.registry import registry


def _deliveries(db: Session, published: dt.datetime, stamps: list[tuple[str, dt.datetime]],
                alert_id: str = "a1") -> None:
    db.add(Alert(id=alert_id, identifier=alert_id, sender="pp@interieur.gouv.fr",
                 status="Actual", msg_type="Alert", state="published", origin="composed",
                 content={}, author="x", created_at=published, published_at=published))
    db.flush()
    for i, (status, at) in enumerate(stamps):
        sub = AlertSubscription(id=f"{alert_id}-s{i}", kind="push", endpoint=f"https://p/{i}",
                                keys={}, token_hash="t", created_at=published,
                                expires_at=published + dt.timedelta(days=1))
        db.add(sub)
        db.flush()
        db.add(AlertDelivery(alert_id=alert_id, subscription_id=sub.id, kind="push",
                             status=status, attempts=1, next_attempt_at=at, created_at=at,
                             sent_at=at if status == "sent" else None))
    db.commit()


def _day_total(db: Session, kind: str) -> tuple[int, float]:
    row = db.execute(select(func.sum(StatsRollup.n), func.sum(StatsRollup.total)).where(
        StatsRollup.kind == kind, StatsRollup.grain == "d", StatsRollup.cell == "")).one()
    return int(row[0] or 0), float(row[1] or 0.0)


def test_minutes_are_counted_once_over_and_never_twice(db: Session) -> None:
    now = utcnow()
    published = now - dt.timedelta(minutes=10)
    closed = [("sent", published + dt.timedelta(seconds=3 + i)) for i in range(40)]
    closed += [("dead", published + dt.timedelta(minutes=2, seconds=i)) for i in range(5)]
    still_open = [("sent", now - dt.timedelta(seconds=5 + i)) for i in range(7)]
    _deliveries(db, published, closed + still_open)

    ingest.sweep(db, registry(), now=now)
    db.commit()
    # The current minute is not over: its deliveries wait for a later sweep.
    assert _day_total(db, "alerts.delivered")[0] == 40
    assert _day_total(db, "alerts.failed")[0] == 5
    assert _day_total(db, "alerts.targeted")[0] == 45
    # A few facts, not one per delivery.
    assert db.scalar(select(func.count()).select_from(StatsFact).where(
        StatsFact.kind.in_(("alerts.delivered", "alerts.targeted")))) <= 6

    later = now + figures.LATE + dt.timedelta(minutes=1)
    for _ in range(2):  # the next sweep counts the rest; one more adds nothing
        ingest.store(db, figures.from_tables(db, now - dt.timedelta(minutes=1), later,
                                             now=later))
        db.commit()
    n, total = _day_total(db, "alerts.delivered")
    assert n == 47 == db.scalar(select(func.count()).select_from(AlertDelivery).where(
        AlertDelivery.status == "sent"))
    # The waits add up as one fact per delivery would (SQLite's julianday: ~20 us a row).
    waits = sum((at - published).total_seconds() for status, at in closed + still_open
                if status == "sent")
    assert abs(total - waits) < 0.01
    assert _day_total(db, "alerts.targeted")[0] == 52
    first = db.scalar(select(StatsFact.value).where(StatsFact.kind == "alerts.first_delivery"))
    assert first == 3.0


def test_a_counted_fact_adds_its_count_once(db: Session) -> None:
    at = dt.datetime(2026, 11, 13, 21, 5, tzinfo=dt.UTC)
    fact = Fact("alerts.delivered", "a1:push:202611132105", at, category="push", value=12.5,
                count=25)
    assert ingest.store(db, [fact]) == 1
    assert ingest.store(db, [fact]) == 0
    db.commit()
    assert _day_total(db, "alerts.delivered") == (25, 12.5)
    per_minute = db.execute(select(StatsRollup.n).where(
        StatsRollup.kind == "alerts.delivered", StatsRollup.grain == "m",
        StatsRollup.bucket == at)).scalar()
    assert per_minute == 25
