"""The dashboard's queries: time series, map cells and breakdowns, read from the rollups.

Every query reads ``stats_rollup`` through its primary key (kind, grain, cell, bucket), so its
cost follows the number of buckets asked for, not the number of facts stored. Series use one
grain chosen from the period's length; totals (map, breakdowns) cover the period exactly by
splitting it into whole days, then whole hours, then ten minutes, then minutes at its edges.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any

import h3
from sqlalchemy import String, column, func, select, values
from sqlalchemy.orm import Session

from tocsin.core.errors import Invalid
from tocsin.core.figures import Kind
from tocsin.stats.ingest import CELL_RESOLUTION, GRAIN_SECONDS, bucket
from tocsin.stats.models import StatsCell, StatsRollup

# The most points one chart may hold (a month of minutes is 43,200: ask for hours instead).
MAX_BUCKETS = 5000
# An area filter is an H3 cell from resolution 4 (about 1,770 km²: a département) to 7.
MIN_AREA_RESOLUTION = 4


@dataclass(frozen=True)
class Period:
    """A checked period ``[start, end)`` in UTC."""

    start: dt.datetime
    end: dt.datetime

    @property
    def seconds(self) -> float:
        return (self.end - self.start).total_seconds()


def period(start: dt.datetime, end: dt.datetime, *, max_days: int) -> Period:
    """Check a period: it must run forwards and last at most ``max_days``."""
    start = start if start.tzinfo else start.replace(tzinfo=dt.UTC)
    end = end if end.tzinfo else end.replace(tzinfo=dt.UTC)
    if end <= start:
        raise Invalid(f"the period ends ({end.isoformat()}) before it starts "
                      f"({start.isoformat()}): 'to' must come after 'from'")
    if end - start > dt.timedelta(days=max_days):
        raise Invalid(f"the period lasts {(end - start).days} days: at most {max_days} allowed")
    return Period(start.astimezone(dt.UTC), end.astimezone(dt.UTC))


def area_cells(area: str | None) -> list[str] | None:
    """Return the rollup cells inside ``area`` (an H3 cell), or ``None`` for everywhere."""
    if not area:
        return None
    try:
        valid = h3.is_valid_cell(area)
    except (TypeError, ValueError):
        valid = False
    if not valid:
        raise Invalid(f"unknown area {area!r}: expected an H3 cell (resolution "
                      f"{MIN_AREA_RESOLUTION} to {CELL_RESOLUTION})")
    res = h3.get_resolution(area)
    if not MIN_AREA_RESOLUTION <= res <= CELL_RESOLUTION:
        raise Invalid(f"area {area!r} has resolution {res}: resolutions "
                      f"{MIN_AREA_RESOLUTION} to {CELL_RESOLUTION} are accepted")
    return [area] if res == CELL_RESOLUTION else list(h3.cell_to_children(area, CELL_RESOLUTION))


def check_category(kind: Kind, category: str | None) -> str | None:
    """Refuse a category the figure does not have, naming those it has."""
    if category and category not in kind.categories:
        known = ", ".join(kind.categories) or "none"
        raise Invalid(f"unknown category {category!r} for {kind.name} (known: {known})")
    return category or None


def grain_for(p: Period) -> str:
    """Minutes up to 6 hours, hours up to 8 days, days beyond."""
    if p.seconds <= 6 * 3600:
        return "m"
    if p.seconds <= 8 * 86400:
        return "h"
    return "d"


def _in_cells(query: Any, cells: list[str], dialect: str) -> Any:
    """Keep the rollup rows of ``cells``, looked up cell by cell through the primary key.

    Given ``cell IN (...)`` and a bucket range, SQLite's planner takes the (kind, grain, bucket)
    index: every cell of those buckets, then the filter (83 ms for one res-5 area, 49 cells, over
    a week of hours at 10 million facts). Joined to the cells as a ``VALUES`` list, it looks
    each one up by (kind, grain, cell, bucket): 36 ms. PostgreSQL already does that for ``IN``.
    """
    if dialect != "sqlite":
        return query.where(StatsRollup.cell.in_(cells))
    area = values(column("cell", String), name="area").data([(c,) for c in cells]).cte("area")
    return query.join(area, StatsRollup.cell == area.c.cell)


def _where(query: Any, kind: str, grain: str, cells: list[str] | None,
           category: str | None, dialect: str) -> Any:
    query = query.where(StatsRollup.kind == kind, StatsRollup.grain == grain)
    query = _in_cells(query, cells, dialect) if cells else query.where(StatsRollup.cell == "")
    if category:
        query = query.where(StatsRollup.category == category)
    return query


@dataclass
class Series:
    """Counts per bucket and category (and the mean value per bucket for durations)."""

    grain: str
    buckets: list[dt.datetime]
    counts: dict[str, list[int]] = field(default_factory=dict)
    means: dict[str, list[float | None]] = field(default_factory=dict)


def series(session: Session, kind: Kind, p: Period, *, category: str | None = None,
           cells: list[str] | None = None, grain: str | None = None) -> Series:
    """Return the figure's counts per bucket over ``p``, one line per category.

    ``grain`` ``w`` (ISO weeks, from Monday) folds the daily rollups into weeks.
    """
    grain = grain or grain_for(p)
    stored = "d" if grain == "w" else grain
    first = bucket(p.start, stored)
    if grain == "w":
        first -= dt.timedelta(days=first.weekday())
    step = dt.timedelta(days=7) if grain == "w" else dt.timedelta(seconds=GRAIN_SECONDS[grain])
    buckets: list[dt.datetime] = []
    at = first
    while at < p.end:
        buckets.append(at)
        at += step
    if len(buckets) > MAX_BUCKETS:
        raise Invalid(f"{len(buckets)} buckets of grain {grain!r} over this period: at most "
                      f"{MAX_BUCKETS} (choose a coarser grain or a shorter period)")
    index = {b: i for i, b in enumerate(buckets)}
    query = _where(select(StatsRollup.bucket, StatsRollup.category, func.sum(StatsRollup.n),
                          func.sum(StatsRollup.total)),
                   kind.name, stored, cells, category, session.get_bind().dialect.name)
    # Whole buckets: the first one may start before ``p`` (the chart shows whole minutes, hours,
    # days or weeks); ``totals`` is the exact count of the period.
    query = query.where(StatsRollup.bucket >= first, StatsRollup.bucket < p.end).group_by(
        StatsRollup.bucket, StatsRollup.category)
    out = Series(grain, buckets)
    sums: dict[str, list[float]] = {}
    for at_bucket, cat, n, total in session.execute(query):
        if grain == "w":
            at_bucket -= dt.timedelta(days=at_bucket.weekday())
        slot = index.get(at_bucket)
        if slot is None:
            continue
        key = cat or "all"
        out.counts.setdefault(key, [0] * len(buckets))[slot] += int(n)
        sums.setdefault(key, [0.0] * len(buckets))[slot] += float(total or 0)
    if kind.unit == "seconds":
        for key, counts in out.counts.items():
            out.means[key] = [round(s / c, 1) if c else None for s, c in zip(sums[key], counts,
                                                                               strict=True)]
    return out


def pieces(p: Period) -> list[tuple[str, dt.datetime, dt.datetime]]:
    """Split ``p`` into (grain, start, end) pieces: whole days, hours, ten minutes, minutes."""
    out: list[tuple[str, dt.datetime, dt.datetime]] = []

    def split(start: dt.datetime, end: dt.datetime, grains: tuple[str, ...]) -> None:
        if start >= end:
            return
        grain, rest = grains[0], grains[1:]
        if not rest:
            out.append((grain, bucket(start, grain), end))
            return
        size = dt.timedelta(seconds=GRAIN_SECONDS[grain])
        inner_start = bucket(start, grain)
        if inner_start < start:
            inner_start += size
        inner_end = bucket(end, grain)
        if inner_start >= inner_end:
            split(start, end, rest)
            return
        out.append((grain, inner_start, inner_end))
        split(start, inner_start, rest)
        split(inner_end, end, rest)

    split(p.start, p.end, ("d", "h", "t", "m"))
    return out


def totals(session: Session, kind: Kind, p: Period, *, by: str, category: str | None = None,
           cells: list[str] | None = None) -> dict[str, tuple[int, float]]:
    """Return (count, sum of values) over ``p`` per ``by`` (``category``, ``detail``, ``cell``).

    Minute pieces start at the minute holding ``p.start``: the period is exact to the minute.
    A map of every category reads ``stats_cell`` (one row per cell and bucket).
    """
    result: dict[str, list[float]] = defaultdict(lambda: [0, 0.0])
    for grain, start, end in pieces(p):
        query = _totals_query(kind.name, grain, start, end, by, category, cells,
                              session.get_bind().dialect.name)
        for key, n, total in session.execute(query):
            if by == "cell" and not key:
                continue
            slot = result[key or ""]
            slot[0] += int(n)
            slot[1] += float(total or 0)
    return {k: (int(v[0]), v[1]) for k, v in result.items()}


def _totals_query(kind: str, grain: str, start: dt.datetime, end: dt.datetime, by: str,
                  category: str | None, cells: list[str] | None, dialect: str) -> Any:
    if by == "cell" and not category:
        query = select(StatsCell.cell, func.sum(StatsCell.n), func.sum(StatsCell.total)).where(
            StatsCell.kind == kind, StatsCell.grain == grain, StatsCell.bucket >= start,
            StatsCell.bucket < end)
        if cells:
            query = query.where(StatsCell.cell.in_(cells))
        return query.group_by(StatsCell.cell)
    group = getattr(StatsRollup, by)
    if by == "cell":
        # No ``cell <> ''`` test: it would steer PostgreSQL to the primary key (every cell
        # of the grain) instead of the (kind, grain, bucket) index; the all-areas rows
        # (cell '') are dropped by the caller.
        query = select(group, func.sum(StatsRollup.n), func.sum(StatsRollup.total)).where(
            StatsRollup.kind == kind, StatsRollup.grain == grain)
        if cells:
            query = _in_cells(query, cells, dialect)
        if category:
            query = query.where(StatsRollup.category == category)
    else:
        query = _where(select(group, func.sum(StatsRollup.n), func.sum(StatsRollup.total)),
                       kind, grain, cells, category, dialect)
    return query.where(StatsRollup.bucket >= start, StatsRollup.bucket < end).group_by(group)


def geojson(cells: dict[str, tuple[int, float]]) -> dict[str, Any]:
    """Return the cells as a GeoJSON FeatureCollection of hexagons (lon, lat order)."""
    features = []
    for cell, (n, total) in sorted(cells.items()):
        ring = [[lon, lat] for lat, lon in h3.cell_to_boundary(cell)]
        ring.append(ring[0])
        features.append({
            "type": "Feature",
            "geometry": {"type": "Polygon", "coordinates": [ring]},
            "properties": {"cell": cell, "count": n,
                           "mean": round(total / n, 1) if n else None},
        })
    return {"type": "FeatureCollection", "features": features}
