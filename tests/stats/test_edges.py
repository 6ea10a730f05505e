"""The ten-minute grain: exact rollups, and totals exact at periods cut at odd minutes."""

from __future__ import annotations

import datetime as dt
import itertools
import random
from collections import Counter

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from tocsin.core.figures import Fact
from tocsin.stats import ingest, queries
from tocsin.stats.models import StatsRollup
from tocsin.stats.registry import registry

T0 = dt.datetime(2026, 11, 13, 20, 0, tzinfo=dt.UTC)
PLACES = [(48.8631, 2.3708), (48.9245, 2.3602), (48.8566, 2.3522), (48.8462, 2.3371)]
CATEGORIES = ("attack", "hidden", "injured")


def _facts(seed: int, n: int, hours: int) -> list[Fact]:
    rng = random.Random(seed)
    facts = []
    for i in range(n):
        lat, lon = rng.choice(PLACES)
        at = T0 + dt.timedelta(seconds=rng.randrange(hours * 3600),
                               microseconds=rng.randrange(1_000_000))
        facts.append(Fact("sos.created", f"e{seed}-{i}", at, category=rng.choice(CATEGORIES),
                          lat=lat, lon=lon))
    return facts


def test_ten_minute_rows_hold_exactly_their_facts(db: Session) -> None:
    facts = _facts(1, 400, 3)
    assert ingest.store(db, facts[:150]) == 150  # two batches: the upsert adds up
    assert ingest.store(db, facts) == 250
    expected = Counter((ingest.cell_of(f), f.category,
                        f.at.replace(minute=f.at.minute // 10 * 10, second=0, microsecond=0))
                       for f in facts)
    rows = db.execute(select(StatsRollup.cell, StatsRollup.category, StatsRollup.bucket,
                             StatsRollup.n).where(StatsRollup.grain == "t",
                                                  StatsRollup.cell != "")).all()
    assert {(c, cat, b): n for c, cat, b, n in rows} == dict(expected)
    by_grain = dict(db.execute(select(StatsRollup.grain, func.sum(StatsRollup.n)).where(
        StatsRollup.cell == "").group_by(StatsRollup.grain)).all())
    assert by_grain == {"m": 400, "t": 400, "h": 400, "d": 400}


def test_pieces_use_ten_minutes_and_tile_the_period() -> None:
    p = queries.Period(T0 + dt.timedelta(minutes=3), T0 + dt.timedelta(hours=2, minutes=47))
    got = queries.pieces(p)
    assert ("h", T0 + dt.timedelta(hours=1), T0 + dt.timedelta(hours=2)) in got
    assert ("t", T0 + dt.timedelta(minutes=10), T0 + dt.timedelta(hours=1)) in got
    assert ("t", T0 + dt.timedelta(hours=2), T0 + dt.timedelta(hours=2, minutes=40)) in got
    assert ("m", T0 + dt.timedelta(minutes=3), T0 + dt.timedelta(minutes=10)) in got
    assert ("m", T0 + dt.timedelta(hours=2, minutes=40), p.end) in got
    covered = sorted((start, end) for _grain, start, end in got)
    assert covered[0][0] == p.start and covered[-1][1] == p.end
    assert all(a[1] == b[0] for a, b in itertools.pairwise(covered))


def test_totals_equal_raw_counts_at_odd_minute_edges(db: Session) -> None:
    facts = _facts(2, 600, 26)
    ingest.store(db, facts)
    sos = registry().kind("sos.created")
    rng = random.Random(3)
    for _ in range(25):
        start = T0 + dt.timedelta(minutes=rng.randrange(0, 26 * 60 - 1))
        end = start + dt.timedelta(minutes=rng.randrange(1, 26 * 60))
        p = queries.Period(start, end)
        inside = [f for f in facts if start <= f.at < end]
        by_cell = queries.totals(db, sos, p, by="cell")
        assert {k: v[0] for k, v in by_cell.items()} == dict(
            Counter(ingest.cell_of(f) for f in inside)), (start, end)
        by_category = queries.totals(db, sos, p, by="category")
        assert {k: v[0] for k, v in by_category.items()} == dict(
            Counter(f.category for f in inside)), (start, end)
    # One period whose ends are both odd minutes inside ten-minute buckets, named outright.
    p = queries.Period(T0 + dt.timedelta(hours=1, minutes=7), T0 + dt.timedelta(hours=5,
                                                                                minutes=53))
    assert sum(v[0] for v in queries.totals(db, sos, p, by="cell").values()) == sum(
        1 for f in facts if p.start <= f.at < p.end)


def test_the_map_with_and_without_a_category_agrees_with_the_facts(db: Session) -> None:
    facts = _facts(4, 300, 5)
    ingest.store(db, facts[:100])
    ingest.store(db, facts[100:])
    from tocsin.stats.models import StatsCell

    cells = dict(db.execute(select(StatsCell.cell, func.sum(StatsCell.n)).where(
        StatsCell.grain == "t").group_by(StatsCell.cell)).all())
    assert cells == dict(Counter(ingest.cell_of(f) for f in facts))
    sos = registry().kind("sos.created")
    p = queries.Period(T0 + dt.timedelta(minutes=13), T0 + dt.timedelta(hours=4, minutes=29))
    inside = [f for f in facts if p.start <= f.at < p.end]
    some = [ingest.cell_of(Fact("x", "1", T0, lat=a, lon=b)) for a, b in PLACES[:2]]
    assert {k: v[0] for k, v in queries.totals(db, sos, p, by="cell", cells=some).items()} == \
        dict(Counter(ingest.cell_of(f) for f in inside if ingest.cell_of(f) in some))
    assert {k: v[0] for k, v in queries.totals(db, sos, p, by="cell",
                                               category="hidden").items()} == \
        dict(Counter(ingest.cell_of(f) for f in inside if f.category == "hidden"))


def test_area_series_and_totals_equal_raw_counts(db: Session) -> None:
    facts = _facts(6, 300, 6)
    ingest.store(db, facts)
    sos = registry().kind("sos.created")
    some = [ingest.cell_of(Fact("x", "1", T0, lat=a, lon=b)) for a, b in PLACES[1:3]]
    p = queries.Period(T0 + dt.timedelta(minutes=37), T0 + dt.timedelta(hours=5, minutes=11))
    inside = [f for f in facts if p.start <= f.at < p.end and ingest.cell_of(f) in some]
    by_category = queries.totals(db, sos, p, by="category", cells=some)
    assert {k: v[0] for k, v in by_category.items()} == dict(Counter(f.category for f in inside))
    by_cell = queries.totals(db, sos, p, by="cell", category="attack", cells=some)
    assert {k: v[0] for k, v in by_cell.items()} == dict(
        Counter(ingest.cell_of(f) for f in inside if f.category == "attack"))
    hours = queries.Period(T0, T0 + dt.timedelta(hours=6))
    series = queries.series(db, sos, hours, cells=some, grain="h")
    assert {k: sum(v) for k, v in series.counts.items()} == dict(
        Counter(f.category for f in facts if ingest.cell_of(f) in some))
    assert series.counts  # the area holds facts: the comparison above is not of two empties
