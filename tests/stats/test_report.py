"""The transparency report: every figure cross-checked against counts of the raw rows."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from tests.stats.factories import T0, seed
from tocsin.alerts.models import AlertDelivery
from tocsin.persons.models import Note, Person
from tocsin.safety.models import SafetyMark
from tocsin.sos.models import Sos
from tocsin.stats import ingest, render
from tocsin.stats.queries import Period
from tocsin.stats.registry import registry
from tocsin.stats.report import Report, build
from tocsin.watch.models import WatchItem, WatchOrder, WatchPlatform, WatchReport

P = Period(T0 - dt.timedelta(hours=1), T0 + dt.timedelta(days=1))


def _count(db: Session, query: Any) -> int:
    return int(db.scalar(query) or 0)


def _lines(report: Report) -> dict[str, Any]:
    return {line.key: line for section in report.sections for line in section.lines}


@pytest.fixture
def seeded(db: Session) -> Session:
    seed(db)
    ingest.rebuild(db, registry(), start=P.start, end=P.end)
    return db


def test_each_figure_matches_the_raw_rows(seeded: Session) -> None:
    db = seeded
    lines = _lines(build(db, registry(), P, k=5, public=False))
    in_p = lambda col: (col >= P.start) & (col < P.end)  # noqa: E731
    assert lines["sos.created"].total.value == _count(
        db, select(func.count()).select_from(Sos).where(in_p(Sos.received_at)))
    by_situation = dict(db.execute(select(Sos.situation, func.count()).group_by(Sos.situation))
                        .all())
    assert {c.key: c.value for c in lines["sos.created"].breakdown} == by_situation
    assert lines["safety.mark"].total.value == _count(
        db, select(func.count()).select_from(SafetyMark))
    assert {c.key: c.value for c in lines["safety.mark"].breakdown} == dict(
        db.execute(select(SafetyMark.status, func.count()).group_by(SafetyMark.status)).all())
    assert lines["persons.reported"].total.value == _count(
        db, select(func.count()).select_from(Person))
    assert lines["persons.found"].total.value == _count(db, select(
        func.count(func.distinct(Note.person_record_id))).where(
            Note.status.in_(("believed_alive", "is_note_author"))))
    deliveries = {s: _count(db, select(func.count()).select_from(AlertDelivery).where(
        AlertDelivery.status == s)) for s in ("sent", "dead")}
    assert lines["alerts.targeted"].total.value == sum(deliveries.values())
    assert lines["alerts.delivered"].total.value == deliveries["sent"]
    assert lines["alerts.failed"].total.value == deliveries["dead"]
    first = db.scalar(select(func.min(AlertDelivery.sent_at)))
    assert lines["alerts.first_delivery.median"].total.value == (
        first - (T0 + dt.timedelta(minutes=20))).total_seconds()
    assert lines["watch.report"].total.value == _count(
        db, select(func.count()).select_from(WatchReport))
    per_platform = dict(db.execute(
        select(WatchItem.platform, func.count()).join(WatchReport, WatchReport.item_id ==
                                                      WatchItem.id)
        .group_by(WatchItem.platform)).all())
    assert {c.key: c.value for c in lines["watch.report.by_platform"].breakdown} == per_platform


def test_tco_lines_match_the_orders(seeded: Session) -> None:
    db = seeded
    lines = _lines(build(db, registry(), P, k=5, public=False))
    orders = list(db.scalars(select(WatchOrder)))
    removed = [o for o in orders if o.removed_at is not None]
    assert lines["tco.orders_issued"].total.value == len(orders)
    assert lines["tco.orders_emergency"].total.value == sum(o.emergency for o in orders)
    assert lines["tco.removed"].total.value == len(removed)
    late = [o for o in removed if o.removed_at - o.received_at > dt.timedelta(hours=1)]
    assert lines["tco.removed_late"].total.value == len(late) == 2
    assert lines["tco.removed_within_hour"].total.value == len(removed) - len(late)
    assert lines["tco.contested"].total.value == sum(o.contested_at is not None for o in orders)
    overdue = [o for o in orders if o.removed_at is None and o.contested_at is None]
    assert lines["tco.overdue_at_end"].total.value == len(overdue) == 1
    assert lines["tco.reinstatements"].total.value is None  # not recorded, said so
    names = dict(db.execute(select(WatchPlatform.id, WatchPlatform.name)).all())
    per = {}
    for o in orders:
        per[names[o.platform_id]] = per.get(names[o.platform_id], 0) + 1
    assert {c.key: c.value for c in lines["tco.orders_issued"].breakdown} == per


def test_classifier_precision_is_measured_by_decisions(seeded: Session) -> None:
    db = seeded
    lines = _lines(build(db, registry(), P, k=1, public=False))
    decided = list(db.scalars(select(WatchItem).where(WatchItem.status.in_(("removed", "kept")))))
    flagged = [i for i in decided if i.explanation["flagged"]]
    tp = [i for i in flagged if i.status == "removed"]
    assert lines["watch.precision"].total.value == round(len(tp) / len(flagged), 3)
    assert lines["watch.decision"].total.value == len(decided)


def test_public_report_suppresses_cells_under_k(seeded: Session) -> None:
    db = seeded
    lines = _lines(build(db, registry(), P, k=5, public=True))
    # tinyvideo got 3 orders (under k): suppressed, not zero, and never sent as a value.
    issued = {c.key: c for c in lines["tco.orders_issued"].breakdown}
    assert issued["tinyvideo"].suppressed
    # Secondary suppression: the other cell would give it away by subtraction from the total.
    assert issued["bigsocial"].suppressed and not lines["tco.orders_issued"].total.suppressed
    assert lines["tco.removed_late"].total.suppressed  # 2 < 5
    assert lines["tco.overdue_at_end"].total.suppressed  # 1 < 5
    assert not lines["sos.created"].total.suppressed
    text = render.to_csv(build(db, registry(), P, k=5, public=True))
    rows = [row.split(",") for row in text.splitlines()]
    late = next(r for r in rows if r[3] == "tco.removed_late" and r[5] == "")
    assert late[6] == "" and late[7] == "suppressed"
    html = render.to_html(build(db, registry(), P, k=5, public=True), "en")
    assert "suppressed (&lt; k)" in html and "Transparency report" in html
    # k = 1: nothing but true zeros and unrecorded lines is hidden.
    open_lines = _lines(build(db, registry(), P, k=1, public=True))
    assert open_lines["tco.removed_late"].total.value == 2
    assert not open_lines["tco.removed_late"].total.suppressed
