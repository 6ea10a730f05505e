"""Dispatch logic on the real databases: clustering, offers, escalation, exclusivity, recovery."""

from __future__ import annotations

import random
import threading
from collections import Counter

import pytest
from sqlalchemy import func, select

from tests.dispatch.factories import BATACLAN, T0, FakeClock, add_unit, sos_data, unit_row
from tocsin.core.auth import Principal, Role
from tocsin.core.db import session_scope
from tocsin.core.errors import Conflict, Forbidden, NotFound
from tocsin.dispatch import assign, incidents, manage
from tocsin.dispatch.engine import DispatchEngine
from tocsin.dispatch.models import DispatchAssignment, DispatchIncident, DispatchIncidentSos

DISPATCHER = Principal(user_id=None, username="opérateur", role=Role.dispatcher)


def _live(engine: DispatchEngine, incident_id: str) -> list[DispatchAssignment]:
    with engine.sessions() as session:
        return assign.live_assignments(session, incident_id=incident_id)


def test_three_hundred_sos_from_one_hall_make_one_incident(engine: DispatchEngine) -> None:
    rng = random.Random(13)
    add_unit(engine, "PS-11", 48.8650, 2.3700)
    ids = set()
    for i in range(300):
        # Within ~40 m of the hall, over ten minutes.
        data = sos_data(BATACLAN[0] + rng.uniform(-3e-4, 3e-4),
                        BATACLAN[1] + rng.uniform(-4e-4, 4e-4),
                        situation=rng.choice(["hidden", "injured", "attack"]),
                        received_at=T0 + (i * (T0 - T0.replace(minute=38)) / 300))
        ids.add(engine.intake(data))
    assert len(ids) == 1
    with engine.sessions() as session:
        incident = session.get(DispatchIncident, ids.pop())
        assert incident is not None
        assert incident.sos_count == 300 and incident.priority == 1
        assert incident.lat == pytest.approx(BATACLAN[0], abs=1e-4)
        assert incident.lon == pytest.approx(BATACLAN[1], abs=1e-4)
        assert session.scalar(select(func.count()).select_from(DispatchIncidentSos)) == 300
        # One incident, one offer, however many calls.
        assert session.scalar(select(func.count()).select_from(DispatchAssignment)) == 1


def test_far_or_late_sos_open_new_incidents(engine: DispatchEngine) -> None:
    first = engine.intake(sos_data())
    assert engine.intake(sos_data()) == first  # same place: joins (idempotent id aside)
    assert engine.intake(sos_data(48.8566, 2.3522)) != first  # 2 km away
    late = T0.replace(hour=23)  # beyond the 30 min window
    assert engine.intake(sos_data(received_at=late)) != first
    data = sos_data(48.80, 2.30)
    again = engine.intake(data)
    assert engine.intake(data) == again  # redelivered event: attached once
    with engine.sessions() as session:
        assert session.get(DispatchIncident, first).sos_count == 2  # type: ignore[union-attr]


def test_offer_goes_to_nearest_and_escalates_on_timeout(
    engine: DispatchEngine, clock: FakeClock
) -> None:
    near, near_user = add_unit(engine, "NEAR", 48.8640, 2.3710)
    mid, mid_user = add_unit(engine, "MID", 48.8700, 2.3750)
    far, _ = add_unit(engine, "FAR", 48.8900, 2.4000)
    incident_id = engine.intake(sos_data())
    assert incident_id is not None
    [offer] = _live(engine, incident_id)
    assert (offer.unit_id, offer.status, offer.rank) == (near, "offered", 1)
    with engine.sessions() as session:
        assert unit_row(session, near).status == "offered"
    # Nothing happens before the deadline...
    clock.advance(29)
    assert engine.tick() == 0
    assert _live(engine, incident_id)[0].unit_id == near
    # ...then the next unit gets it and the first is free again.
    clock.advance(2)
    assert engine.tick() == 1
    [offer] = _live(engine, incident_id)
    assert (offer.unit_id, offer.rank) == (mid, 2)
    with engine.sessions() as session:
        assert unit_row(session, near).status == "available"
        # The unit declines: the third one is offered at once.
        assign.decline(session, assignment_id=offer.id, user_id=mid_user, now=clock())
        incident = incidents.get_incident(session, incident_id=incident_id)
        assign.offer_next(session, index=engine.index, config=engine.config, incident=incident,
                          now=clock())
        session.commit()
    [offer] = _live(engine, incident_id)
    assert offer.unit_id == far
    with engine.sessions() as session:
        # An offer addressed to another unit cannot be accepted: 403, nothing changes.
        with pytest.raises(Forbidden):
            assign.accept(session, assignment_id=offer.id, user_id=near_user, now=clock())
        session.rollback()
        assert unit_row(session, far).status == "offered"


def test_waiting_incident_is_offered_when_a_unit_appears(engine: DispatchEngine) -> None:
    incident_id = engine.intake(sos_data())
    assert incident_id is not None and _live(engine, incident_id) == []
    unit_id, _ = add_unit(engine, "LATE", 48.87, 2.37)
    engine.tick()
    assert [a.unit_id for a in _live(engine, incident_id)] == [unit_id]


def test_concurrent_accepts_only_one_wins(engine: DispatchEngine, clock: FakeClock) -> None:
    unit_id, user_id = add_unit(engine, "ONE", 48.864, 2.371)
    incident_id = engine.intake(sos_data())
    assert incident_id is not None
    [offer] = _live(engine, incident_id)
    results: list[str] = []
    barrier = threading.Barrier(8)

    def accept() -> None:
        barrier.wait()
        with engine.sessions() as session:
            try:
                assign.accept(session, assignment_id=offer.id, user_id=user_id, now=clock())
                session.commit()
                results.append("ok")
            except Conflict:
                session.rollback()
                results.append("conflict")

    threads = [threading.Thread(target=accept) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert Counter(results) == {"ok": 1, "conflict": 7}
    with engine.sessions() as session:
        assert unit_row(session, unit_id).status == "assigned"


def test_one_unit_never_taken_by_two_incidents(engine: DispatchEngine, clock: FakeClock) -> None:
    """Two workers (threads) grab the same unit for different incidents at once: one wins."""
    unit_id, _ = add_unit(engine, "SOLO", 48.864, 2.371)
    with session_scope(engine.sessions) as session:
        found = [incidents.from_sos_created(sos_data(48.80 + i * 0.01, 2.3)) for i in range(8)]
        pairs = [incidents.attach_sos(session, sos=sos, config=engine.config, now=clock())[0].id
                 for sos in found if sos is not None]
    won: list[str] = []
    barrier = threading.Barrier(len(pairs))

    def grab(incident_id: str) -> None:
        barrier.wait()
        with engine.sessions() as session:
            unit = assign.take_unit(session, unit_id=unit_id, incident_id=incident_id,
                                    to_status="offered", now=clock())
            session.commit()
            if unit is not None:
                won.append(incident_id)

    threads = [threading.Thread(target=grab, args=(i,)) for i in pairs]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(won) == 1
    with engine.sessions() as session:
        assert unit_row(session, unit_id).incident_id == won[0]


def test_override_reassign_merge_split_close(engine: DispatchEngine, clock: FakeClock) -> None:
    a, _ = add_unit(engine, "A", 48.864, 2.371)
    b, _ = add_unit(engine, "B", 48.880, 2.380)
    first = engine.intake(sos_data())
    assert first and [x.unit_id for x in _live(engine, first)] == [a]
    with engine.decision() as session:
        # Override: B goes to the first incident, taking over from A's offer.
        manage.reassign(session, incident_id=first, unit_id=b, reason="B is nearer",
                        actor=DISPATCHER,
                        index=engine.index, config=engine.config, now=clock())
    assert [(x.unit_id, x.status) for x in _live(engine, first)] == [(b, "accepted")]
    second = engine.intake(sos_data(48.8566, 2.3522))
    assert second and second != first
    assert [x.unit_id for x in _live(engine, second)] == [a]
    with engine.decision() as session, pytest.raises(Conflict):
        manage.assign_unit(session, incident_id=second, unit_id=b, actor=DISPATCHER,
                           config=engine.config, now=clock())
    with engine.decision() as session:
        target = manage.merge(session, target_id=first, source_ids=[second], actor=DISPATCHER,
                              now=clock())
        assert target.sos_count == 2
    with engine.sessions() as session:
        assert session.get(DispatchIncident, second).status == "merged"  # type: ignore[union-attr]
        moved = incidents.sos_of(session, incident_id=first)[-1].sos_id
    with engine.decision() as session:
        new = manage.split(session, incident_id=first, sos_ids=[moved], actor=DISPATCHER,
                           now=clock())
        assert new.sos_count == 1
    with engine.decision() as session:
        manage.close(session, incident_id=first, reason="handled", actor=DISPATCHER,
                     now=clock())
    with engine.sessions() as session:
        assert unit_row(session, b).status == "available"
        assert unit_row(session, a).status in ("available", "offered")


def test_purge_removes_old_closed_incidents_only(engine: DispatchEngine, clock: FakeClock) -> None:
    import datetime as dt

    from tocsin.dispatch import retention

    old = engine.intake(sos_data())
    fresh = engine.intake(sos_data(48.80, 2.30))
    with engine.decision() as session:
        manage.close(session, incident_id=str(old), reason="handled", actor=DISPATCHER,
                     now=clock())
    with session_scope(engine.sessions) as session:
        counts = retention.purge(session, now=clock() + dt.timedelta(days=31))
    assert counts["dispatch_incident"] == 1 and counts["dispatch_incident_sos"] == 1
    with engine.sessions() as session:
        assert session.get(DispatchIncident, old) is None
        assert session.get(DispatchIncident, fresh) is not None


def test_two_workers_escalating_at_once_expire_each_offer_once(
    engine: DispatchEngine, clock: FakeClock
) -> None:
    """Two workers' escalation ticks run at the same moment: every offer moves on exactly once."""
    other = DispatchEngine(engine.sessions, config=engine.config, clock=clock)
    for n in range(6):
        add_unit(engine, f"E-{n}", 48.80 + n * 0.02, 2.30)
    incident_ids = [engine.intake(sos_data(48.80 + n * 0.02, 2.30)) for n in range(3)]
    other.rebuild()
    clock.advance(31)
    barrier = threading.Barrier(2)
    expired: list[int] = []

    def tick(worker: DispatchEngine) -> None:
        barrier.wait()
        expired.append(worker.tick())

    threads = [threading.Thread(target=tick, args=(w,)) for w in (engine, other)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(expired) == [0, 3]
    with engine.sessions() as session:
        for incident_id in incident_ids:
            rows = assign.assignments_of(session, incident_id=str(incident_id))
            assert sorted(r.status for r in rows) == ["expired", "offered"]
        busy = session.scalars(select(DispatchAssignment.unit_id).where(
            DispatchAssignment.status == "offered")).all()
        assert len(busy) == len(set(busy)) == 3


def test_unit_view_shows_the_offer_in_force_with_its_incident(
    engine: DispatchEngine, clock: FakeClock
) -> None:
    unit_id, user_id = add_unit(engine, "VIEW-1", 48.8640, 2.3710)
    add_unit(engine, "NO-ACCOUNT", 48.95, 2.45, account=False)
    with engine.sessions() as session:
        unit, current, incident = assign.unit_view(session, user_id=user_id)
        assert (unit.id, unit.status, current, incident) == (unit_id, "available", None, None)
    first = engine.intake(sos_data())
    with session_scope(engine.sessions) as session:
        [offer] = assign.live_assignments(session, incident_id=first)
        assign.accept(session, assignment_id=offer.id, user_id=user_id, now=clock())
        assign.finish(session, assignment_id=offer.id, user_id=user_id, now=clock())
    with engine.sessions() as session:
        engine.sync_touched_ids(session, {unit_id})
    clock.advance(3600)  # past the clustering window: a new incident, not the closed one
    second = engine.intake(sos_data(received_at=clock()))
    assert second not in (None, first)
    with engine.sessions() as session:
        unit, current, incident = assign.unit_view(session, user_id=user_id)
        assert unit.status == "offered"
        assert current is not None and current.status == "offered"
        assert incident is not None and incident.id == current.incident_id == second
        with pytest.raises(NotFound):
            assign.unit_view(session, user_id=None)
