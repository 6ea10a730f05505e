"""The dispatch API end to end on a started worker (both modes): roles, bad input, the flow."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from tests.dispatch.factories import BATACLAN, api_unit, publish_sos, sos_data
from tests.factories import login
from tests.sos.factories import post_sos
from tests.waiting import wait_for
from tocsin.core.auth.roles import Role
from tocsin.dispatch.config import DispatchConfig
from tocsin.dispatch.engine import DispatchOptions
from tocsin.dispatch.models import DispatchIncidentSos, DispatchUnit

U = "/api/v1/dispatch"


@pytest.fixture
def dispatch_client(make_app: Callable[..., FastAPI]) -> Any:
    app = make_app()
    app.state.runtime.states.put(
        DispatchOptions(config=DispatchConfig(offer_timeout_s=60, candidates=3)))
    with TestClient(app) as client:
        yield client


def test_sos_to_offer_to_accept_on_scene_close(dispatch_client: TestClient) -> None:
    client = dispatch_client
    dispatcher = login(client, Role.dispatcher)
    near, near_h = api_unit(client, dispatcher, "PS-11", 48.8640, 2.3712)
    _far, _ = api_unit(client, dispatcher, "PS-12", 48.8800, 2.3900)
    ack = post_sos(client, lat=BATACLAN[0], lon=BATACLAN[1], situation="attack")

    def offer() -> Any:
        me = client.get(f"{U}/units/me", headers=near_h).json()
        return me if me["assignment"] else None

    me = wait_for(offer)
    assert me["assignment"]["status"] == "offered" and me["unit"]["status"] == "offered"
    assert me["incident"]["sos_count"] == 1 and me["incident"]["situation"] == "attack"
    queue = client.get(f"{U}/incidents", headers=dispatcher).json()
    assert [i["id"] for i in queue] == [me["incident"]["id"]]
    detail = client.get(f"{U}/incidents/{queue[0]['id']}", headers=dispatcher).json()
    assert [s["sos_id"] for s in detail["sos"]] == [ack["id"]]
    points = client.get(f"{U}/sos", headers=dispatcher).json()
    assert [(p["sos_id"], p["incident_id"]) for p in points] == [(ack["id"], queue[0]["id"])]
    proposals = client.get(f"{U}/incidents/{queue[0]['id']}/proposals", headers=dispatcher)
    assert [p["callsign"] for p in proposals.json()] == ["PS-12"]  # PS-11 is busy
    offer_id = me["assignment"]["id"]
    assert client.post(f"{U}/assignments/{offer_id}/accept", headers=near_h).status_code == 200
    again = client.post(f"{U}/assignments/{offer_id}/accept", headers=near_h)
    assert again.status_code == 409
    assert client.post(f"{U}/assignments/{offer_id}/on-scene", headers=near_h).status_code == 200
    assert client.post(f"{U}/assignments/{offer_id}/close", headers=near_h).status_code == 200
    units = {u["id"]: u for u in client.get(f"{U}/units", headers=dispatcher).json()}
    assert units[near]["status"] == "available"
    assert client.get(f"{U}/incidents", headers=dispatcher).json() == []


def test_unit_may_not_report_for_another_unit(dispatch_client: TestClient) -> None:
    client = dispatch_client
    dispatcher = login(client, Role.dispatcher)
    mine, mine_h = api_unit(client, dispatcher, "A-1", 48.85, 2.35)
    other, _ = api_unit(client, dispatcher, "A-2", 48.86, 2.36)
    ok = client.post(f"{U}/units/{mine}/position", headers=mine_h,
                     json={"lat": 48.851, "lon": 2.351})
    assert ok.status_code == 200 and ok.json()["lat"] == 48.851
    refused = client.post(f"{U}/units/{other}/position", headers=mine_h,
                          json={"lat": 1.0, "lon": 1.0})
    assert refused.status_code == 403
    unknown = client.post(f"{U}/units/nope/position", headers=mine_h, json={"lat": 1, "lon": 1})
    assert unknown.status_code == 404
    for bad in ({"lat": 91, "lon": 2}, {"lat": 48, "lon": -181}, {"lat": "x", "lon": 2},
                {"lat": 48, "lon": 2, "extra": 1}, {"lat": 48}):
        response = client.post(f"{U}/units/{mine}/position", headers=mine_h, json=bad)
        assert response.status_code == 422, bad
    with client.app.state.runtime.sessions() as session:  # type: ignore[attr-defined]
        row = session.get(DispatchUnit, other)
        assert row is not None and (row.lat, row.lon) == (48.86, 2.36)  # nothing stored
        row = session.get(DispatchUnit, mine)
        assert row is not None and (row.lat, row.lon) == (48.851, 2.351)


def test_offer_not_yours_and_bad_registry_input(dispatch_client: TestClient) -> None:
    client = dispatch_client
    dispatcher = login(client, Role.dispatcher)
    _, a_h = api_unit(client, dispatcher, "B-1", 48.8632, 2.3709)
    _, b_h = api_unit(client, dispatcher, "B-2", 48.90, 2.40)
    publish_sos(client, sos_data())
    me = wait_for(lambda: client.get(f"{U}/units/me", headers=a_h).json()["assignment"])
    stolen = client.post(f"{U}/assignments/{me['id']}/accept", headers=b_h)
    assert stolen.status_code == 403
    assert client.post(f"{U}/assignments/nope/accept", headers=b_h).status_code == 404
    still = client.get(f"{U}/units/me", headers=a_h).json()
    assert still["assignment"]["status"] == "offered" and still["unit"]["status"] == "offered"
    # Registry: duplicates, a non-unit account, half a position, unknown units.
    dup = client.post(f"{U}/units", headers=dispatcher, json={"callsign": "B-1"})
    assert dup.status_code == 409
    staff = client.post(f"{U}/units", headers=dispatcher,
                        json={"callsign": "C-1", "username": "nobody-here"})
    assert staff.status_code == 404
    half = client.post(f"{U}/units", headers=dispatcher, json={"callsign": "C-2", "lat": 48.0})
    assert half.status_code == 422
    bad = client.post(f"{U}/units", headers=dispatcher, json={"callsign": "<script>"})
    assert bad.status_code == 422
    incident = me["incident_id"]
    ghost = client.post(f"{U}/incidents/{incident}/assign", headers=dispatcher,
                        json={"unit_id": "ghost"})
    assert ghost.status_code == 404
    merge = client.post(f"{U}/incidents/merge", headers=dispatcher,
                        json={"target_id": incident, "source_ids": [incident]})
    assert merge.status_code == 422


def test_roles_are_checked(dispatch_client: TestClient) -> None:
    client = dispatch_client
    unit_h = login(client, Role.unit)
    citizen_like = login(client, Role.platform)
    assert client.get(f"{U}/incidents", headers=unit_h).status_code == 403
    assert client.get(f"{U}/incidents").status_code == 401
    assert client.post(f"{U}/units", headers=unit_h, json={"callsign": "X"}).status_code == 403
    assert client.get(f"{U}/units/me", headers=citizen_like).status_code == 403
    assert client.get(f"{U}/units/me", headers=unit_h).status_code == 404  # no unit linked
    admin = login(client, Role.admin)
    assert client.post(f"{U}/units", headers=admin, json={"callsign": "ADM-1"}).status_code == 201
    assert client.post(f"{U}/stream/ticket", headers=unit_h).status_code == 403
    # The stream answers 406 to a request that does not ask for an event stream.
    dispatcher = login(client, Role.dispatcher)
    assert client.get(f"{U}/stream", headers=dispatcher).status_code == 406
    assert client.get(f"{U}/stream?ticket=forged", headers={"Accept": "text/event-stream"}
                      ).status_code == 401


def test_crash_recovery_dispatches_every_acknowledged_sos(
    make_app: Callable[..., FastAPI],
) -> None:
    """SOS committed (events published) while no dispatch consumer ran are all dispatched."""
    from tocsin.core.db import session_scope
    from tocsin.core.outbox import OutboxEvent
    from tocsin.sos import service as sos_service
    from tocsin.sos.schemas import SosIn

    app = make_app()
    runtime = app.state.runtime
    spots = [(48.8631, 2.3708), (48.8540, 2.3600), (48.8720, 2.3520), (48.8420, 2.3800)]
    with session_scope(runtime.sessions) as session:
        for i in range(40):
            lat, lon = spots[i % 4]
            sos_service.create_sos(session, data=SosIn(
                lat=lat, lon=lon, accuracy_m=10, situation="hidden",
                client_id=f"crash-{i:04d}-abcdefgh",
            ))
        # The events went out while nobody listened: nothing is left in the outbox to replay.
        session.flush()
        for row in session.scalars(select(OutboxEvent)):
            row.published_at = row.created_at
    with TestClient(app) as client:
        dispatcher = login(client, Role.dispatcher)
        for n in range(4):
            api_unit(client, dispatcher, f"R-{n}", spots[n][0] + 0.001, spots[n][1])
        def attached() -> bool:  # recovery runs beside serving, in the background
            with runtime.sessions() as session:
                return session.scalar(
                    select(func.count()).select_from(DispatchIncidentSos)) == 40

        wait_for(attached)
        queue = client.get(f"{U}/incidents", headers=dispatcher).json()
        assert len(queue) == 4 and sorted(i["sos_count"] for i in queue) == [10, 10, 10, 10]

        # Units registered after start: the escalation tick offers the waiting incidents.
        def offered() -> bool:
            rows = client.get(f"{U}/incidents", headers=dispatcher).json()
            return all(i["assignments"] for i in rows)

        wait_for(offered)


def test_closing_an_incident_closes_its_sos(dispatch_client: TestClient) -> None:
    client = dispatch_client
    dispatcher = login(client, Role.dispatcher)
    ack = post_sos(client, situation="injured")
    queue = wait_for(lambda: client.get(f"{U}/incidents", headers=dispatcher).json())
    closed = client.post(f"{U}/incidents/{queue[0]['id']}/close", headers=dispatcher,
                         json={"reason": "handled"})
    assert closed.status_code == 200 and closed.json()["status"] == "closed"
    again = client.post(f"{U}/incidents/{queue[0]['id']}/close", headers=dispatcher,
                        json={"reason": "handled"})
    assert again.status_code == 409
    detail = client.get(f"/api/v1/sos/{ack['id']}", headers=dispatcher).json()
    assert detail["status"] == "closed"
