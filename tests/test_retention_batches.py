"""``tocsin purge`` in short transactions (issue 18, "SOS first"): each purge handles a batch,
``purge_all`` commits after each and calls again until nothing is left; counts stay exact and an
interrupted purge is finished by running it again."""

from __future__ import annotations

import datetime as dt
import inspect
import uuid

import pytest
from sqlalchemy import func, insert, select
from sqlalchemy.orm import Session

from tocsin import retention
from tocsin.core.audit.models import AuditEntry
from tocsin.core.outbox import OutboxEvent
from tocsin.sos import retention as sos_retention
from tocsin.sos.models import Sos
from tocsin.stats import retention as stats_retention
from tocsin.stats.models import StatsFact

NOW = dt.datetime(2026, 11, 20, 12, 0, tzinfo=dt.UTC)
OLD = NOW - dt.timedelta(days=800)


def _count(session: Session, model: type, *where: object) -> int:
    return int(session.scalar(select(func.count()).select_from(model).where(*where)) or 0)


def _populate(session: Session) -> None:
    # More old facts than one batch (1,000), and some within retention.
    facts = [{"kind": "sos.created", "key": f"k{i}", "at": OLD if i < 2345 else NOW,
              "category": "attack", "detail": "", "cell": "", "value": None}
             for i in range(2400)]
    session.execute(insert(StatsFact), facts)
    # More published events than one core batch (500), and a few still to keep.
    session.execute(insert(OutboxEvent), [
        {"id": uuid.uuid4().hex, "subject": "probe.old", "payload": {"n": i},
         "created_at": OLD, "published_at": OLD if i < 1203 else NOW}
        for i in range(1210)])
    # Closed SOS, more than a (shrunk) SOS batch.
    session.execute(insert(Sos), [
        {"id": uuid.uuid4().hex, "client_hash": uuid.uuid4().hex, "token_hash": "t",
         "lat": 48.86, "lon": 2.37, "accuracy_m": 10.0, "situation": "attack", "text": "help",
         "status": "closed", "received_at": OLD, "closed_at": OLD} for _ in range(23)])
    session.commit()


def test_a_purge_over_several_batches_deletes_everything_and_counts_it(
    db: Session, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(sos_retention, "BATCH", 10)
    _populate(db)
    batches: list[tuple[str, dict[str, int]]] = []
    counts = retention.purge_all(db, NOW, progress=lambda n, c: batches.append((n, c)))
    db.commit()
    assert counts["stats_fact"] == 2345 and counts["outbox_event"] == 1203
    assert counts["sos"] == 23
    assert _count(db, StatsFact) == 55 and _count(db, OutboxEvent) == 7
    assert _count(db, Sos) == 0
    stats = [c["stats_fact"] for n, c in batches if n == stats_retention.__name__]
    assert stats == [1000, 1000, 345, 0]
    assert [c["outbox_event"] for n, c in batches if n == "core"] == [500, 500, 203, 0]
    assert [c["sos"] for n, c in batches if n == sos_retention.__name__] == [10, 10, 3, 0]
    audit = db.scalars(select(AuditEntry).where(AuditEntry.action == "purge")).one()
    assert audit.reason == f"{sum(counts.values())} records past retention"
    # Nothing left: a second purge finds nothing.
    again = retention.purge_all(db, NOW)
    assert sum(again.values()) == 0


def test_an_interrupted_purge_is_finished_by_running_it_again(
    db: Session, monkeypatch: pytest.MonkeyPatch
) -> None:
    _populate(db)
    real, calls = stats_retention.purge, []

    def killed_after_one_batch(session: Session, *, now: dt.datetime,
                               batch: int | None = None) -> dict[str, int]:
        calls.append(now)
        if len(calls) == 2:
            raise RuntimeError("killed")
        return real(session, now=now, batch=batch)

    monkeypatch.setattr(stats_retention, "purge", killed_after_one_batch)
    with pytest.raises(RuntimeError):
        retention.purge_all(db, NOW)
    db.rollback()
    assert _count(db, StatsFact) == 2400 - 1000  # the first batch stayed committed
    assert _count(db, OutboxEvent) == 7  # the core's purge, before, went to the end
    monkeypatch.setattr(stats_retention, "purge", real)
    counts = retention.purge_all(db, NOW)
    db.commit()
    assert counts["stats_fact"] == 1345 and counts["outbox_event"] == 0
    assert _count(db, StatsFact) == 55


def test_every_purge_has_one_signature() -> None:
    """``purge(session, *, now, batch=None)`` everywhere (a domain may add keyword-only
    settings for its tests), so ``purge_all`` and a reader see one shape."""
    for name, purge in retention.purges():
        params = list(inspect.signature(purge).parameters.values())
        assert [p.name for p in params[:3]] == ["session", "now", "batch"], name
        assert params[0].kind is inspect.Parameter.POSITIONAL_OR_KEYWORD, name
        assert all(p.kind is inspect.Parameter.KEYWORD_ONLY for p in params[1:]), name
        assert params[2].default is None, name
        assert all(p.default is not inspect.Parameter.empty for p in params[2:]), name


def test_batch_bounds_one_call(db: Session) -> None:
    _populate(db)
    assert stats_retention.purge(db, now=NOW, batch=7)["stats_fact"] == 7
    db.rollback()
