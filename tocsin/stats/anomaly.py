"""Anomaly notices: a count well above its own recent baseline.

Method (robust z-score on blocks of ``BLOCK_MINUTES``): for each watched figure, per category
(and per cell for mapped figures), the last complete block's count ``x`` is compared with the
``window`` blocks before it (default 24 blocks of 10 minutes: the last four hours):

    baseline = median(previous blocks)
    spread   = max(1.4826 * MAD(previous blocks), sqrt(max(baseline, 1)))
    score    = (x - baseline) / spread

and a notice is raised when ``score >= threshold`` (default 5) and ``x >= min_count`` (default 5).
The median and the MAD (median absolute deviation, scaled by 1.4826 to match a standard
deviation under normal noise) ignore a past spike that a mean would follow. The Poisson floor
``sqrt(baseline)`` keeps a flat series (MAD = 0) from alarming on one or two extra events, and
``min_count`` keeps a near-empty series quiet. One notice per figure, category, cell and block:
a later scan of the same block changes nothing.
"""

from __future__ import annotations

import datetime as dt
import math
import statistics
from collections import defaultdict
from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from tocsin.core.db import utcnow
from tocsin.core.outbox import add_event
from tocsin.stats.config import StatsSettings
from tocsin.stats.models import StatsNotice, StatsRollup
from tocsin.stats.registry import Registry

BLOCK_MINUTES = 10
NOTICE_SUBJECT = "stats.anomaly"


@dataclass(frozen=True)
class Verdict:
    """The test of one block against its baseline."""

    spike: bool
    observed: int
    baseline: float
    spread: float
    score: float


def judge(history: list[int], observed: int, *, threshold: float, min_count: int) -> Verdict:
    """Compare ``observed`` with ``history`` (the previous blocks, oldest first)."""
    baseline = float(statistics.median(history)) if history else 0.0
    mad = float(statistics.median([abs(v - baseline) for v in history])) if history else 0.0
    spread = max(1.4826 * mad, math.sqrt(max(baseline, 1.0)))
    score = (observed - baseline) / spread
    spike = observed >= min_count and score >= threshold
    return Verdict(spike, observed, baseline, round(spread, 3), round(score, 2))


def _block(at: dt.datetime) -> dt.datetime:
    at = at.astimezone(dt.UTC).replace(second=0, microsecond=0)
    return at - dt.timedelta(minutes=at.minute % BLOCK_MINUTES)


def _series(session: Session, kind: str, *, by_cell: bool, start: dt.datetime,
            end: dt.datetime) -> dict[tuple[str, str], dict[dt.datetime, int]]:
    """Return counts per (category, cell) and block from the minute rollups."""
    cell_filter = StatsRollup.cell != "" if by_cell else StatsRollup.cell == ""
    rows = session.execute(
        select(StatsRollup.category, StatsRollup.cell, StatsRollup.bucket,
               func.sum(StatsRollup.n))
        .where(StatsRollup.kind == kind, StatsRollup.grain == "m", cell_filter,
               StatsRollup.bucket >= start, StatsRollup.bucket < end)
        .group_by(StatsRollup.category, StatsRollup.cell, StatsRollup.bucket)
    )
    out: dict[tuple[str, str], dict[dt.datetime, int]] = defaultdict(lambda: defaultdict(int))
    for category, cell, at, n in rows:
        # Per area, all categories together: a spike of SOS somewhere, whatever the situation.
        key = ("", cell) if by_cell else (category, "")
        out[key][_block(at)] += int(n)
    return out


def scan(session: Session, registry: Registry, cfg: StatsSettings,
         *, now: dt.datetime | None = None) -> list[StatsNotice]:
    """Test the last complete block of every watched figure; store and announce new notices."""
    now = now or utcnow()
    current = _block(now) - dt.timedelta(minutes=BLOCK_MINUTES)
    start = current - dt.timedelta(minutes=BLOCK_MINUTES * cfg.anomaly_window)
    end = current + dt.timedelta(minutes=BLOCK_MINUTES)
    blocks = [start + dt.timedelta(minutes=BLOCK_MINUTES * i) for i in range(cfg.anomaly_window)]
    raised: list[StatsNotice] = []
    for kind in registry.kinds.values():
        if not kind.watch:
            continue
        for by_cell in (False, True) if kind.mapped else (False,):
            for (category, cell), counts in _series(session, kind.name, by_cell=by_cell,
                                                    start=start, end=end).items():
                verdict = judge([counts.get(b, 0) for b in blocks], counts.get(current, 0),
                                threshold=cfg.anomaly_threshold, min_count=cfg.anomaly_min_count)
                if verdict.spike:
                    notice = _raise(session, kind.name, category, cell, current, verdict, now)
                    if notice is not None:
                        raised.append(notice)
    session.flush()
    return raised


def _raise(session: Session, kind: str, category: str, cell: str, block: dt.datetime,
           verdict: Verdict, now: dt.datetime) -> StatsNotice | None:
    known = session.scalar(select(StatsNotice.id).where(
        StatsNotice.kind == kind, StatsNotice.category == category, StatsNotice.cell == cell,
        StatsNotice.grain == "b", StatsNotice.bucket == block))
    if known is not None:
        return None
    notice = StatsNotice(kind=kind, category=category, cell=cell, bucket=block, grain="b",
                         observed=verdict.observed, baseline=verdict.baseline,
                         spread=verdict.spread, score=verdict.score, raised_at=now)
    session.add(notice)
    session.flush()
    add_event(session, NOTICE_SUBJECT, notice_data(notice))
    return notice


def notice_data(notice: StatsNotice) -> dict[str, object]:
    """Return the public shape of a notice (the bus payload and the API's)."""
    return {
        "id": notice.id, "kind": notice.kind, "category": notice.category, "cell": notice.cell,
        "block_start": notice.bucket.isoformat(), "block_minutes": BLOCK_MINUTES,
        "observed": notice.observed, "baseline": notice.baseline, "spread": notice.spread,
        "score": notice.score, "raised_at": notice.raised_at.isoformat(),
        "acknowledged_by": notice.acknowledged_by,
    }
