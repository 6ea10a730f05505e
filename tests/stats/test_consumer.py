"""The observatory's bus consumer: a batch of events is one transaction, each fact counted once."""

from __future__ import annotations

import datetime as dt
from types import SimpleNamespace

from sqlalchemy import event, func, select

from tocsin.core.bus import Event
from tocsin.core.db import make_engine, make_sessionmaker
from tocsin.core.settings import Settings
from tocsin.stats import lifecycle
from tocsin.stats.models import StatsFact, StatsRollup

T0 = dt.datetime(2026, 11, 13, 21, 17, 30, tzinfo=dt.UTC)


def _sos_created(n: int) -> Event:
    return Event(subject="sos.created", data={
        "sos_id": f"sos{n:04d}", "lat": 48.8631, "lon": 2.3708, "accuracy_m": 15,
        "situation": "hidden", "people": 2, "received_at": T0.isoformat()})


def test_a_batch_of_events_is_stored_in_one_transaction(settings: Settings) -> None:
    engine = make_engine(settings.resolved_database_url, pool_size=1)
    sessions = make_sessionmaker(engine)
    commits: list[object] = []
    event.listen(sessions, "after_commit", commits.append)
    try:
        batch = [_sos_created(n) for n in range(200)]
        batch += batch[:10]  # redelivered events: their facts count once
        assert lifecycle.handle_events(SimpleNamespace(sessions=sessions), batch) == 200
        assert len(commits) == 1
        with sessions() as session:
            assert session.scalar(select(func.count()).select_from(StatsFact)) == 200
            minute = select(StatsRollup.n).where(
                StatsRollup.kind == "sos.created", StatsRollup.grain == "m",
                StatsRollup.cell == "", StatsRollup.bucket == T0.replace(second=0))
            assert session.scalar(minute) == 200
        assert lifecycle.handle_events(SimpleNamespace(sessions=sessions), batch[:5]) == 0
    finally:
        engine.dispose()
