"""The batched consumer: many SOS in one decision, same clustering as one by one, idempotent."""

from __future__ import annotations

import datetime as dt
import random
from collections import Counter

import pytest
from sqlalchemy import func, select

from tests.dispatch.factories import BATACLAN, T0, add_unit, sos_data
from tocsin.core.db import session_scope
from tocsin.core.outbox import OutboxEvent
from tocsin.dispatch import events
from tocsin.dispatch.engine import DispatchEngine
from tocsin.dispatch.models import (
    DispatchAssignment,
    DispatchIncident,
    DispatchIncidentSos,
    DispatchUnit,
)


def _count(engine: DispatchEngine, model: type, *where: object) -> int:
    with engine.sessions() as session:
        return int(session.scalar(select(func.count()).select_from(model).where(*where)) or 0)


def _hall(rng: random.Random, n: int, start: dt.datetime = T0) -> list[dict[str, object]]:
    return [
        sos_data(BATACLAN[0] + rng.uniform(-3e-4, 3e-4), BATACLAN[1] + rng.uniform(-4e-4, 4e-4),
                 situation=rng.choice(["hidden", "injured", "attack"]),
                 received_at=start + dt.timedelta(seconds=i))
        for i in range(n)
    ]


def test_three_hundred_sos_in_one_batch_are_one_update_one_event_one_offer(
    engine: DispatchEngine,
) -> None:
    add_unit(engine, "PS-11", 48.8650, 2.3700)
    batch = _hall(random.Random(13), 300)
    result = engine.intake_batch(batch)
    assert len(result) == 300 and len(set(result.values())) == 1
    [incident_id] = set(result.values())
    with engine.sessions() as session:
        incident = session.get(DispatchIncident, incident_id)
        assert incident is not None and incident.sos_count == 300 and incident.priority == 1
        assert incident.lat == pytest.approx(BATACLAN[0], abs=1e-4)
    assert _count(engine, DispatchIncidentSos) == 300
    assert _count(engine, DispatchAssignment) == 1
    # One incident.updated for the whole batch (its final state), not three hundred.
    assert _count(engine, OutboxEvent, OutboxEvent.subject == events.INCIDENT_UPDATED) == 1

    # The same batch redelivered (a worker died before acknowledging): nothing counts twice,
    # nothing is announced or offered again. Then the next batch joins the same incident.
    assert engine.intake_batch(batch) == result
    assert _count(engine, OutboxEvent, OutboxEvent.subject == events.INCIDENT_UPDATED) == 1
    more = _hall(random.Random(14), 50, start=T0 + dt.timedelta(minutes=6))
    assert set(engine.intake_batch(more + batch[:10]).values()) == {incident_id}
    with engine.sessions() as session:
        assert session.get(DispatchIncident, incident_id).sos_count == 350  # type: ignore[union-attr]
    assert _count(engine, DispatchAssignment) == 1


def test_a_batch_clusters_as_the_same_sos_one_by_one(engine: DispatchEngine) -> None:
    """Random SOS over a small area: the batch gives the same incidents as one at a time."""
    rng = random.Random(7)
    for n in range(4):
        add_unit(engine, f"U-{n}", 48.86 + n * 0.003, 2.36)
    feed = [
        sos_data(48.855 + rng.uniform(0, 0.012), 2.36 + rng.uniform(0, 0.016),
                 situation=rng.choice(["attack", "fire", "other"]),
                 received_at=T0 + dt.timedelta(seconds=20 * i))
        for i in range(200)
    ]
    one_by_one = [engine.intake(data) for data in feed]
    with engine.sessions() as session:
        first = Counter(session.scalars(select(DispatchIncident.sos_count)))
        first_offers = session.scalar(select(func.count()).select_from(DispatchAssignment))
    # Clear dispatch and do it again with batches of 64.
    with session_scope(engine.sessions) as session:
        for model in (DispatchAssignment, DispatchIncidentSos, DispatchIncident):
            session.query(model).delete()
        session.execute(
            DispatchUnit.__table__.update().values(status="available", incident_id=None)
        )
    engine.rebuild()
    batched: dict[str, str] = {}
    for start in range(0, len(feed), 64):
        batched.update(engine.intake_batch(feed[start:start + 64]))
    with engine.sessions() as session:
        second = Counter(session.scalars(select(DispatchIncident.sos_count)))
        second_offers = session.scalar(select(func.count()).select_from(DispatchAssignment))
    assert len(first) > 1 and first == second and first_offers == second_offers
    # The same partition of SOS into incidents.
    groups_one = Counter(Counter(one_by_one).values())
    groups_two = Counter(Counter(batched[d["sos_id"]] for d in feed).values())  # type: ignore[index]
    assert groups_one == groups_two


def test_a_malformed_payload_is_dropped_and_the_rest_handled(engine: DispatchEngine) -> None:
    good = sos_data()
    bad = {"sos_id": "x", "lat": 123.0, "lon": 2.0, "received_at": T0.isoformat()}
    broken = {"lat": "nowhere"}
    result = engine.intake_batch([bad, good, broken, good])  # and a duplicate
    assert list(result) == [good["sos_id"]]
    assert _count(engine, DispatchIncidentSos) == 1
    assert engine.intake_batch([bad, broken]) == {}

