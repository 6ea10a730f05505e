"""Facts and rollups: idempotent storage, exact rollups, the sweep of a domain's table."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from tocsin.core.figures import Fact
from tocsin.sos import figures as sos_figures
from tocsin.sos.models import Sos
from tocsin.stats import ingest
from tocsin.stats.models import StatsCursor, StatsFact, StatsRollup
from tocsin.stats.registry import build, registry

T0 = dt.datetime(2026, 11, 13, 21, 17, 30, tzinfo=dt.UTC)
BATACLAN = (48.8631, 2.3708)


def _rollup(db: Session, **where: object) -> int:
    query = select(func.coalesce(func.sum(StatsRollup.n), 0))
    for name, value in where.items():
        query = query.where(getattr(StatsRollup, name) == value)
    return int(db.scalar(query) or 0)


def test_a_fact_stored_twice_counts_once(db: Session) -> None:
    fact = Fact("sos.created", "a1", T0, category="attack", lat=BATACLAN[0], lon=BATACLAN[1])
    assert ingest.store(db, [fact, fact]) == 1
    assert ingest.store(db, [fact]) == 0
    assert db.scalar(select(func.count()).select_from(StatsFact)) == 1
    cell = ingest.cell_of(fact)
    assert cell and len(cell) == 15
    for grain in ("m", "h", "d"):
        assert _rollup(db, kind="sos.created", grain=grain, cell="") == 1
        assert _rollup(db, kind="sos.created", grain=grain, cell=cell) == 1
    assert _rollup(db, grain="m", bucket=T0.replace(second=0)) == 2  # all-areas row + cell row


def test_rollups_add_up_across_batches(db: Session) -> None:
    facts = [Fact("sos.created", f"s{i}", T0 + dt.timedelta(seconds=20 * i),
                  category="attack" if i % 2 else "hidden") for i in range(9)]
    assert ingest.store(db, facts[:4]) == 4
    assert ingest.store(db, facts[2:]) == 5
    assert _rollup(db, kind="sos.created", grain="h", cell="") == 9
    assert _rollup(db, kind="sos.created", grain="h", cell="", category="attack") == 4
    minutes = db.execute(select(StatsRollup.bucket, StatsRollup.n).where(
        StatsRollup.grain == "m", StatsRollup.cell == "").order_by(StatsRollup.bucket)).all()
    per_minute: dict[dt.datetime, int] = {}
    for at, n in minutes:
        per_minute[at] = per_minute.get(at, 0) + n
    assert list(per_minute.values()) == [2, 3, 3, 1]  # 21:17:30 + 20 s steps


def test_cells_are_coarse_and_bad_positions_have_none() -> None:
    fine = Fact("x", "1", T0, lat=BATACLAN[0], lon=BATACLAN[1])
    assert ingest.cell_of(fine) == ingest.cell_of(Fact("x", "2", T0, cell=ingest.cell_of(fine)))
    assert ingest.cell_of(Fact("x", "3", T0, lat=200.0, lon=2.0)) == ""
    assert ingest.cell_of(Fact("x", "4", T0, cell="not-a-cell")) == ""


def test_sweep_reads_the_sos_table_and_moves_its_cursor(db: Session) -> None:
    for i in range(3):
        db.add(Sos(id=f"sos{i}", client_hash=f"h{i}", token_hash="t", lat=BATACLAN[0],
                   lon=BATACLAN[1], accuracy_m=10, situation="hidden", people=None, text=None,
                   status="open", received_at=T0 + dt.timedelta(minutes=i)))
    db.flush()
    reg = build([sos_figures])
    now = T0 + dt.timedelta(minutes=10)
    assert ingest.sweep(db, reg, now=now) == 3
    assert ingest.sweep(db, reg, now=now + dt.timedelta(minutes=1)) == 0  # overlap, no double
    assert _rollup(db, kind="sos.created", grain="d", cell="") == 3


def test_a_sweep_soon_after_another_workers_is_skipped(db: Session) -> None:
    db.add(Sos(id="sos0", client_hash="h0", token_hash="t", lat=BATACLAN[0], lon=BATACLAN[1],
               accuracy_m=10, situation="hidden", people=None, text=None, status="open",
               received_at=T0))
    db.flush()
    reg = build([sos_figures])
    gap = dt.timedelta(seconds=24)
    assert ingest.sweep(db, reg, now=T0 + dt.timedelta(seconds=5), min_gap=gap) == 1
    db.add(Sos(id="sos1", client_hash="h1", token_hash="t", lat=BATACLAN[0], lon=BATACLAN[1],
               accuracy_m=10, situation="hidden", people=None, text=None, status="open",
               received_at=T0 + dt.timedelta(seconds=6)))
    db.flush()
    cursor = select(StatsCursor.until).where(StatsCursor.name == "sweep:tocsin.sos.figures")
    # 10 s later: the cluster swept 10 s ago, so this worker does not re-read the table.
    assert ingest.sweep(db, reg, now=T0 + dt.timedelta(seconds=15), min_gap=gap) == 0
    assert db.scalar(cursor) == T0 + dt.timedelta(seconds=5)
    # An interval later it sweeps, and finds the SOS committed meanwhile.
    assert ingest.sweep(db, reg, now=T0 + dt.timedelta(seconds=35), min_gap=gap) == 1
    assert db.scalar(cursor) == T0 + dt.timedelta(seconds=35)


def test_registry_finds_the_domains_figures() -> None:
    reg = registry()
    assert "sos.created" in reg.kinds
    assert "sos.created" in reg.subjects()


def test_purge_drops_old_facts_and_keeps_the_rollups(db: Session) -> None:
    from tocsin.stats.retention import purge

    old = Fact("sos.created", "old", T0 - dt.timedelta(days=500), category="attack")
    ingest.store(db, [old, Fact("sos.created", "new", T0, category="attack")])
    assert purge(db, now=T0) == {"stats_fact": 1, "stats_notice": 0}
    assert db.scalar(select(func.count()).select_from(StatsFact)) == 1
    assert _rollup(db, kind="sos.created", grain="d", cell="") == 2


def test_dispatch_response_time_from_the_acceptance_event(db: Session) -> None:
    from tocsin.core.bus import Event
    from tocsin.dispatch import figures as dispatch_figures
    from tocsin.dispatch.models import DispatchIncident, DispatchIncidentSos

    db.add(DispatchIncident(id="inc1", status="open", priority=1, situation="attack",
                            sos_count=2, lat=BATACLAN[0], lon=BATACLAN[1], opened_at=T0,
                            last_sos_at=T0))
    db.flush()
    for i, delay in enumerate((-5, 20)):
        db.add(DispatchIncidentSos(sos_id=f"s{i}", incident_id="inc1", lat=BATACLAN[0],
                                   lon=BATACLAN[1], accuracy_m=5, situation="attack",
                                   people=None, received_at=T0 + dt.timedelta(seconds=delay),
                                   attached_at=T0))
    db.flush()
    event = Event(subject="assignment.accepted", occurred_at=T0 + dt.timedelta(seconds=95),
                  data={"incident_id": "inc1", "assignment_id": "a1"})
    facts = dispatch_figures.from_event(db, event)
    assert [(f.kind, f.key, f.value, f.category) for f in facts] == [
        ("dispatch.assigned", "inc1", 100.0, "attack")]  # from the first SOS, 5 s before
    assert ingest.store(db, facts) == 1
    later = Event(subject="assignment.accepted", occurred_at=T0 + dt.timedelta(seconds=300),
                  data={"incident_id": "inc1"})
    assert ingest.store(db, dispatch_figures.from_event(db, later)) == 0  # first unit only
