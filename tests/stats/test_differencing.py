"""Public figures cannot be subtracted into a small count (issue 19, finding 10).

Two public reports one minute apart showed 10 and 11 SOS: one SOS in that minute, a count the
k-suppression was meant to hide. Public periods now cover whole days (or hours), snapped outward,
and each day's cells under k count for nothing in a sum, with the same complementary rule as
the report's, so the difference of two public reports is 0 or at least k in every cell.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from sqlalchemy.orm import Session

from tests.stats.factories import T0, add_sos
from tocsin.stats import ingest
from tocsin.stats.queries import Period
from tocsin.stats.registry import registry
from tocsin.stats.report import Report, build

K = 5
DAY = T0.replace(hour=0)  # 13 Nov 2026, 00:00 UTC
H = dt.timedelta(hours=1)
D = dt.timedelta(days=1)


@pytest.fixture
def evening(db: Session) -> Session:
    for n in range(10):  # day 1: 10 attacks in the evening, then 1 fire at 21:00:30
        add_sos(db, T0 + dt.timedelta(minutes=3 * n))
    add_sos(db, T0 + H + dt.timedelta(seconds=30), situation="fire")
    add_sos(db, DAY + D + 10 * H)  # day 2: one SOS alone
    for n in range(8):  # day 3: 8 attacks and 6 hostages, no cell under k
        add_sos(db, DAY + 2 * D + 9 * H + dt.timedelta(minutes=n))
    for n in range(6):
        add_sos(db, DAY + 2 * D + 11 * H + dt.timedelta(minutes=n), situation="hostage")
    db.flush()
    ingest.rebuild(db, registry(), start=DAY - D, end=DAY + 4 * D)
    return db


def _sos(report: Report) -> Any:
    return next(line for s in report.sections for line in s.lines if line.key == "sos.created")


def _revealed(small: Report, large: Report) -> list[str]:
    """What subtracting ``small`` from ``large`` gives that is above 0 and under k."""
    a, b = _sos(small), _sos(large)
    found = []
    if not a.total.suppressed and not b.total.suppressed:
        delta = (b.total.value or 0) - (a.total.value or 0)
        if 0 < delta < K:
            found.append(f"total {delta}")
        cells_a = {c.key: c for c in a.breakdown}
        shown = 0.0
        for cell in b.breakdown:
            before = cells_a.get(cell.key)
            if cell.suppressed or before is None or before.suppressed:
                continue
            diff = (cell.value or 0) - (before.value or 0)
            shown += diff
            if 0 < diff < K:
                found.append(f"{cell.key} {diff}")
        if all(not c.suppressed for c in b.breakdown) and all(
                not c.suppressed for c in a.breakdown) and 0 < delta - shown < K:
            found.append(f"rest {delta - shown}")
    return found


def test_one_minute_apart_reveals_nothing(evening: Session) -> None:
    before = build(evening, registry(), Period(T0 - H, T0 + H), k=K, public=True)
    after = build(evening, registry(), Period(T0 - H, T0 + H + dt.timedelta(minutes=1)),
                  k=K, public=True)
    assert _revealed(before, after) == []
    assert (before.start, before.end) == (DAY, DAY + D)  # snapped outward to the whole day


def test_adjacent_days_reveal_nothing(evening: Session) -> None:
    for small, large in [((DAY, DAY + D), (DAY, DAY + 2 * D)),
                         ((DAY, DAY + 2 * D), (DAY, DAY + 3 * D)),
                         ((DAY + D, DAY + 2 * D), (DAY + D, DAY + 3 * D))]:
        a = build(evening, registry(), Period(*small), k=K, public=True)
        b = build(evening, registry(), Period(*large), k=K, public=True)
        assert _revealed(a, b) == [], (small, large)
    alone = _sos(build(evening, registry(), Period(DAY + D, DAY + 2 * D), k=K, public=True))
    assert alone.total.suppressed
    # Day 3 has no small cell: its figures are published exactly.
    third = _sos(build(evening, registry(), Period(DAY + 2 * D, DAY + 3 * D), k=K, public=True))
    assert third.total.value == 14
    assert {c.key: c.value for c in third.breakdown if not c.suppressed} == {
        "attack": 8, "hostage": 6}


def test_hour_grain_and_staff_keep_the_minute(evening: Session) -> None:
    public = build(evening, registry(), Period(T0 + dt.timedelta(minutes=10), T0 + H), k=K,
                   public=True, grain="hour")
    assert (public.start, public.end) == (T0, T0 + H)
    staff = build(evening, registry(), Period(T0 + H, T0 + H + dt.timedelta(minutes=1)), k=K,
                  public=False)
    assert _sos(staff).total.value == 1  # authorities' views keep the fine grain
