"""A unit declines: the next one is offered at once, the decliner never again for that incident,
and escalation goes on (timeouts, units coming on duty) without starving other incidents."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from tests.dispatch.factories import BATACLAN, FakeClock, add_unit, api_unit, sos_data
from tests.factories import login
from tests.sos.factories import post_sos
from tests.waiting import wait_for
from tocsin.core.auth.roles import Role
from tocsin.core.db import session_scope
from tocsin.dispatch import assign, units
from tocsin.dispatch.config import DispatchConfig
from tocsin.dispatch.engine import DispatchEngine, DispatchOptions
from tocsin.dispatch.models import DispatchAssignment

U = "/api/v1/dispatch"


class _CountingClock(FakeClock):
    """The test's clock, counting its reads: each escalation tick reads it once."""

    reads = 0

    def __call__(self) -> dt.datetime:
        self.reads += 1
        return super().__call__()


@pytest.fixture
def clocked(make_app: Callable[..., FastAPI]) -> Iterator[tuple[TestClient, _CountingClock]]:
    """A started worker whose dispatch runs on a clock the test moves (escalation included)."""
    app = make_app()
    clock = _CountingClock()
    app.state.runtime.states.put(DispatchOptions(
        config=DispatchConfig(offer_timeout_s=60, candidates=3, escalation_tick_s=0.1),
        clock=clock))
    with TestClient(app) as client:
        yield client, clock


def _offer(client: TestClient, headers: dict[str, str]) -> Any:
    me = client.get(f"{U}/units/me", headers=headers).json()
    return me["assignment"] if me["assignment"] and me["assignment"]["status"] == "offered" \
        else None


def test_decline_offers_the_next_unit_and_never_the_decliner_again(
    clocked: tuple[TestClient, _CountingClock],
) -> None:
    client, clock = clocked
    dispatcher = login(client, Role.dispatcher)
    crew = {name: api_unit(client, dispatcher, name, lat, lon) for name, lat, lon in [
        ("A-NEAR", 48.8635, 2.3710), ("B-MID", 48.8660, 2.3730), ("C-FAR", 48.8700, 2.3800)]}
    post_sos(client, lat=BATACLAN[0], lon=BATACLAN[1], situation="hidden")

    first = wait_for(lambda: _offer(client, crew["A-NEAR"][1]))
    incident_id = first["incident_id"]
    declined = client.post(f"{U}/assignments/{first['id']}/decline", headers=crew["A-NEAR"][1])
    assert declined.status_code == 200 and declined.json()["status"] == "declined"
    # The next nearest is offered at once (no tick needed), the decliner is free again.
    second = _offer(client, crew["B-MID"][1])
    assert second is not None and second["incident_id"] == incident_id and second["rank"] == 2
    assert _offer(client, crew["A-NEAR"][1]) is None
    mine = client.get(f"{U}/units/me", headers=crew["A-NEAR"][1]).json()
    assert mine["unit"]["status"] == "available"
    # Declining twice, or someone else's offer: 409 / 403, nothing changes.
    again = client.post(f"{U}/assignments/{first['id']}/decline", headers=crew["A-NEAR"][1])
    assert again.status_code == 409
    other = client.post(f"{U}/assignments/{second['id']}/decline", headers=crew["A-NEAR"][1])
    assert other.status_code == 403
    assert _offer(client, crew["B-MID"][1])["id"] == second["id"]

    assert client.post(f"{U}/assignments/{second['id']}/decline",
                       headers=crew["B-MID"][1]).status_code == 200
    third = _offer(client, crew["C-FAR"][1])
    assert third is not None and third["rank"] == 3
    # C does not answer: escalation expires the offer. A and B are free, but they declined
    # this incident: neither is offered it again; it waits, open, for the dispatcher...
    clock.advance(61)
    wait_for(lambda: _offer(client, crew["C-FAR"][1]) is None)
    # Several escalation ticks pass (no request runs meanwhile: each read is a tick's).
    reads = clock.reads
    wait_for(lambda: clock.reads >= reads + 3, what="three escalation ticks")
    assert _offer(client, crew["A-NEAR"][1]) is None
    assert _offer(client, crew["B-MID"][1]) is None
    queue = client.get(f"{U}/incidents", headers=dispatcher).json()
    assert [i["id"] for i in queue] == [incident_id]
    # ...or for a unit that has not had it: escalation continues when one comes on duty.
    d_id, d_headers = api_unit(client, dispatcher, "D-NEW", 48.8900, 2.4000)
    fourth = wait_for(lambda: _offer(client, d_headers))
    assert fourth["incident_id"] == incident_id and fourth["rank"] == 4
    detail = client.get(f"{U}/incidents/{incident_id}", headers=dispatcher).json()
    history = [(a["unit_id"], a["status"]) for a in detail["assignments"]]
    assert history == [(crew["A-NEAR"][0], "declined"), (crew["B-MID"][0], "declined"),
                       (crew["C-FAR"][0], "expired"), (d_id, "offered")]


def test_incidents_every_unit_declined_do_not_starve_the_queue(
    engine: DispatchEngine, clock: FakeClock,
) -> None:
    """Urgent incidents that the only free unit declined stay at the head of the queue; the
    escalation tick looks past them and offers that unit the incident waiting behind them."""
    unit_id, user_id = add_unit(engine, "SOLO", 48.8631, 2.3708)
    urgent = []
    for n in range(3):
        incident_id = engine.intake(sos_data(48.80 + n * 0.02, 2.30, situation="attack"))
        assert incident_id is not None
        urgent.append(incident_id)
        with session_scope(engine.sessions) as session:
            [offer] = assign.live_assignments(session, incident_id=incident_id)
            assert offer.unit_id == unit_id
            assign.decline(session, assignment_id=offer.id, user_id=user_id, now=clock())
    # A less urgent SOS while the unit is off duty: its incident waits with no offer.
    with session_scope(engine.sessions) as session:
        units.set_duty(session, unit_id=unit_id, user_id=user_id, on_duty=False, now=clock())
    later = engine.intake(sos_data(48.95, 2.45, situation="other"))
    assert later is not None and _live(engine, later) == []
    with session_scope(engine.sessions) as session:
        units.set_duty(session, unit_id=unit_id, user_id=user_id, on_duty=True, now=clock())
    engine.rebuild()
    # One offer per tick at most (batch=1): the three urgent incidents come first in the
    # queue, the unit declined them all, so the tick must look past them.
    with engine.decision() as session:
        assign.escalate_due(session, index=engine.index, config=engine.config, now=clock(),
                            batch=1)
    assert [a.unit_id for a in _live(engine, later)] == [unit_id]
    for incident_id in urgent:
        assert _live(engine, incident_id) == []
        with engine.sessions() as session:
            rows = session.query(DispatchAssignment).filter_by(incident_id=incident_id).all()
            assert [(a.unit_id, a.status) for a in rows] == [(unit_id, "declined")]


def _live(engine: DispatchEngine, incident_id: str) -> list[DispatchAssignment]:
    with engine.sessions() as session:
        return assign.live_assignments(session, incident_id=incident_id)
