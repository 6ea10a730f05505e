"""Anomaly notices: a clear spike raises one notice; a flat or noisy series raises none."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import select
from sqlalchemy.orm import Session

from tests.stats.factories import BATACLAN, STADE
from tocsin.core.figures import Fact
from tocsin.core.outbox import OutboxEvent
from tocsin.stats import anomaly, ingest
from tocsin.stats.config import StatsSettings
from tocsin.stats.models import StatsNotice
from tocsin.stats.registry import registry

NOW = dt.datetime(2026, 11, 13, 21, 52, 10, tzinfo=dt.UTC)
BLOCK = dt.timedelta(minutes=anomaly.BLOCK_MINUTES)
CURRENT = dt.datetime(2026, 11, 13, 21, 40, tzinfo=dt.UTC)  # the last complete block


def _sos(per_block: list[int], *, where: tuple[float, float] = STADE,
         situation: str = "hidden", tag: str = "") -> list[Fact]:
    """SOS facts: ``per_block[i]`` in the block ``len - 1 - i`` blocks before the current one."""
    facts = []
    start = CURRENT - BLOCK * (len(per_block) - 1)
    for b, n in enumerate(per_block):
        for j in range(n):
            at = start + BLOCK * b + dt.timedelta(seconds=7 * j)
            facts.append(Fact("sos.created", f"{tag}{b}-{j}", at, category=situation,
                              lat=where[0], lon=where[1]))
    return facts


def test_judge_is_robust() -> None:
    flat = [3] * 24
    assert not anomaly.judge(flat, 3, threshold=5, min_count=5).spike
    assert not anomaly.judge(flat, 7, threshold=5, min_count=5).spike  # Poisson noise
    assert anomaly.judge(flat, 30, threshold=5, min_count=5).spike
    # A past spike in the baseline does not drag it up (median, not mean).
    past = [2] * 23 + [80]
    verdict = anomaly.judge(past, 25, threshold=5, min_count=5)
    assert verdict.baseline == 2 and verdict.spike
    assert not anomaly.judge([0] * 24, 3, threshold=5, min_count=5).spike  # under min_count


def test_a_spike_of_sos_raises_one_notice_and_an_event(db: Session) -> None:
    ingest.store(db, _sos([2, 3, 2, 2, 3, 2, 2, 3, 2, 2, 3, 2, 2, 2, 3, 2, 2, 2, 3, 2, 2, 2,
                           3, 2, 40], where=BATACLAN, situation="attack"))
    cfg = StatsSettings()
    raised = anomaly.scan(db, registry(), cfg, now=NOW)
    kinds = {(n.kind, n.category, bool(n.cell)) for n in raised}
    assert ("sos.created", "attack", False) in kinds  # per category
    assert ("sos.created", "", True) in kinds  # per area
    assert all(n.bucket == CURRENT and n.observed == 40 for n in raised)
    events = db.scalars(select(OutboxEvent).where(OutboxEvent.subject == "stats.anomaly")).all()
    assert len(events) == len(raised)
    assert anomaly.scan(db, registry(), cfg, now=NOW + dt.timedelta(seconds=20)) == []
    assert len(db.scalars(select(StatsNotice)).all()) == len(raised)


def test_a_flat_busy_series_raises_nothing(db: Session) -> None:
    noisy = [8, 11, 9, 12, 10, 7, 9, 13, 10, 8, 11, 9, 10, 12, 8, 9, 11, 10, 9, 12, 10, 8, 11, 9,
             13]
    ingest.store(db, _sos(noisy, situation="hidden"))
    assert anomaly.scan(db, registry(), StatsSettings(), now=NOW) == []
