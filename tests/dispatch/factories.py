"""Factories of the dispatch tests: engines on the test database, units, SOS events."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from tests.factories import login, make_user
from tocsin.core.auth.roles import Role
from tocsin.core.db import session_scope
from tocsin.core.outbox import add_event
from tocsin.dispatch import units
from tocsin.dispatch.engine import DispatchEngine, engine_of
from tocsin.dispatch.models import DispatchUnit

T0 = dt.datetime(2015, 11, 13, 21, 40, tzinfo=dt.UTC)
BATACLAN = (48.8631, 2.3708)


class FakeClock:
    """An injectable clock that only moves when the test says so."""

    def __init__(self, start: dt.datetime = T0) -> None:
        self.now = start

    def __call__(self) -> dt.datetime:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += dt.timedelta(seconds=seconds)


def sos_data(
    lat: float = BATACLAN[0], lon: float = BATACLAN[1], *, situation: str = "attack",
    received_at: dt.datetime = T0, sos_id: str | None = None,
) -> dict[str, Any]:
    """An ``sos.created`` payload as the sos domain publishes it."""
    return {
        "sos_id": sos_id or uuid.uuid4().hex,
        "lat": lat,
        "lon": lon,
        "accuracy_m": 15.0,
        "situation": situation,
        "people": 2,
        "received_at": received_at.isoformat(),
    }


def add_unit(
    engine: DispatchEngine, callsign: str, lat: float, lon: float, *, account: bool = True,
) -> tuple[str, int | None]:
    """Commit an available unit (with its own unit account); return (unit id, user id)."""
    with session_scope(engine.sessions) as session:
        user_id = make_user(session, role=Role.unit).id if account else None
        unit = units.create_unit(session, callsign=callsign, username=None, lat=lat, lon=lon,
                                 off_duty=False, now=engine.clock())
        unit.user_id = user_id
        session.flush()
        unit_id = unit.id
    with engine.sessions() as session:
        engine.sync_touched_ids(session, {unit_id})
    return unit_id, user_id


def unit_row(session: Session, unit_id: str) -> DispatchUnit:
    unit = session.get(DispatchUnit, unit_id, populate_existing=True)
    assert unit is not None
    return unit


def api_unit(
    client: TestClient, dispatcher: dict[str, str], callsign: str, lat: float, lon: float
) -> tuple[str, dict[str, str]]:
    """Create a unit account and its unit through the API; return (unit id, its headers)."""
    name = f"unit-{callsign.lower()}-{uuid.uuid4().hex[:6]}"
    headers = login(client, Role.unit, username=name)
    response = client.post("/api/v1/dispatch/units", headers=dispatcher,
                           json={"callsign": callsign, "username": name, "lat": lat, "lon": lon})
    assert response.status_code == 201, response.text
    return response.json()["id"], headers


def publish_sos(client: TestClient, data: dict[str, Any]) -> None:
    """Commit an ``sos.created`` event through the worker's outbox (as the sos domain does)."""
    with session_scope(client.app.state.runtime.sessions) as session:  # type: ignore[attr-defined]
        add_event(session, "sos.created", data)


def engine_for(client: TestClient) -> DispatchEngine:
    return engine_of(client.app.state.runtime)  # type: ignore[attr-defined]
