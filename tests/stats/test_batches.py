"""Bulk stats writes in short transactions (issue 18, "SOS first"): a rebuild and a sweep
commit batch by batch, end with the same figures as one transaction, and an interrupted rebuild
is finished by running it again."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from tests.stats.factories import T0, add_sos, seed
from tocsin.core.figures import Fact
from tocsin.stats import ingest
from tocsin.stats.models import StatsCell, StatsCursor, StatsFact, StatsRollup
from tocsin.stats.registry import registry

START, END = T0 - dt.timedelta(hours=2), T0 + dt.timedelta(days=2)


def _figures(db: Session) -> tuple[set[tuple[Any, ...]], set[tuple[Any, ...]], int]:
    rollups = {tuple(r) for r in db.execute(select(
        StatsRollup.kind, StatsRollup.grain, StatsRollup.cell, StatsRollup.bucket,
        StatsRollup.category, StatsRollup.detail, StatsRollup.n, StatsRollup.total))}
    cells = {tuple(r) for r in db.execute(select(
        StatsCell.kind, StatsCell.grain, StatsCell.bucket, StatsCell.cell, StatsCell.n,
        StatsCell.total))}
    return rollups, cells, ingest.fact_count(db)


def _forget(db: Session) -> None:
    for model in (StatsFact, StatsRollup, StatsCell, StatsCursor):
        db.execute(delete(model))
    db.commit()


def _one_transaction(db: Session) -> tuple[set[tuple[Any, ...]], set[tuple[Any, ...]], int]:
    _forget(db)
    ingest.rebuild(db, registry(), start=START, end=END, batch=10**9, window=END - START)
    db.commit()
    return _figures(db)


def test_rebuild_in_batches_gives_the_same_figures(db: Session) -> None:
    seed(db)
    db.commit()
    days: list[int] = []
    added = ingest.rebuild(db, registry(), start=START, end=END, batch=7,
                           window=dt.timedelta(hours=1), advance=days.append)
    assert not db.in_transaction() or not db.dirty  # committed as it went
    assert len(days) == 50  # one window an hour
    batched = _figures(db)
    assert added == batched[2] > 40
    assert _one_transaction(db) == batched


def test_an_interrupted_rebuild_is_finished_by_running_it_again(
    db: Session, monkeypatch: pytest.MonkeyPatch
) -> None:
    seed(db)
    db.commit()
    expected = _one_transaction(db)
    _forget(db)
    store, calls = ingest.store, []

    def failing(session: Session, facts: list[Fact]) -> int:
        calls.append(len(facts))
        if len(calls) == 4:
            raise RuntimeError("killed")
        return store(session, facts)

    monkeypatch.setattr(ingest, "store", failing)
    with pytest.raises(RuntimeError):
        ingest.rebuild(db, registry(), start=START, end=END, batch=5)
    db.rollback()
    assert ingest.fact_count(db) == 15  # three batches of five committed
    monkeypatch.setattr(ingest, "store", store)
    added = ingest.rebuild(db, registry(), start=START, end=END, batch=5)
    assert added == expected[2] - 15
    assert _figures(db) == expected


def test_rebuild_commits_every_batch(db: Session, monkeypatch: pytest.MonkeyPatch) -> None:
    for i in range(23):
        add_sos(db, T0 + dt.timedelta(seconds=i))
    db.commit()
    commits: list[int] = []
    real_commit = db.commit

    def counting() -> None:
        commits.append(ingest.fact_count(db))
        real_commit()

    monkeypatch.setattr(db, "commit", counting)
    ingest.rebuild(db, registry(), start=START, end=END, batch=10, window=END - START)
    assert commits[:3] == [10, 20, 23]  # then the window's own commit


def test_a_sqlite_sweep_commits_in_batches(
    db: Session, mode: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    from tocsin.sos import figures as sos_figures

    for i in range(12):
        add_sos(db, T0 + dt.timedelta(seconds=i))
    db.commit()
    monkeypatch.setitem(ingest.store_in_batches.__kwdefaults__, "batch", 5)
    commits: list[int] = []
    real_commit = db.commit

    def counting() -> None:
        commits.append(ingest.fact_count(db))
        real_commit()

    monkeypatch.setattr(db, "commit", counting)
    assert ingest.sweep_module(db, sos_figures, now=T0 + dt.timedelta(minutes=1),
                               overlap=dt.timedelta(minutes=5)) == 12
    if mode == "embedded":
        assert commits == [5, 10, 12, 12]
    else:
        assert commits == []  # one transaction: the cursor's row lock holds for the sweep
    assert db.scalar(select(StatsCursor.until)) == T0 + dt.timedelta(minutes=1)
