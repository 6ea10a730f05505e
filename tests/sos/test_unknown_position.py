"""An SOS sent without a position, explicitly "position unknown" (issue 20, SOS page).

A phone without GPS (or with location refused) must still be able to call for help: the body
says ``"position_unknown": true`` instead of lat/lon/accuracy_m. Anything half-given is refused
(422 naming the field), so a client cannot send a position by mistake as "unknown" or the
reverse. Dispatch holds such an SOS aside (no incident, no unit sent to a made-up point) until
its first position arrives from the phone, then clusters it as any other.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from tests.factories import login
from tests.sos.factories import sos_body
from tests.waiting import wait_for
from tocsin.core.auth.roles import Role

UNKNOWN = {"lat": ..., "lon": ..., "accuracy_m": ..., "position_unknown": True}


@pytest.fixture
def client(make_app: Callable[..., FastAPI]) -> Any:
    with TestClient(make_app()) as test_client:
        yield test_client


def test_sos_without_position_is_recorded_and_shown_as_unknown(client: TestClient) -> None:
    response = client.post("/api/v1/sos", json=sos_body(**UNKNOWN))
    assert response.status_code == 201, response.text
    ack = response.json()
    dispatcher = login(client, Role.dispatcher)
    detail = client.get(f"/api/v1/sos/{ack['id']}", headers=dispatcher).json()
    assert detail["lat"] is None and detail["lon"] is None and detail["position_unknown"]
    unlocated = wait_for(lambda: client.get("/api/v1/dispatch/sos/unlocated",
                                            headers=dispatcher).json())
    assert [u["sos_id"] for u in unlocated] == [ack["id"]]
    assert client.get("/api/v1/dispatch/incidents", headers=dispatcher).json() == []


def test_the_first_position_puts_it_on_the_map(client: TestClient) -> None:
    ack = client.post("/api/v1/sos", json=sos_body(**UNKNOWN)).json()
    dispatcher = login(client, Role.dispatcher)
    wait_for(lambda: client.get("/api/v1/dispatch/sos/unlocated", headers=dispatcher).json())
    sent = client.post(f"/api/v1/sos/{ack['id']}/positions",
                       headers={"X-Follow-Up-Token": ack["follow_up_token"]},
                       json={"lat": 48.8631, "lon": 2.3708, "accuracy_m": 50})
    assert sent.status_code == 204
    queue = wait_for(lambda: client.get("/api/v1/dispatch/incidents",
                                        headers=dispatcher).json())
    assert queue[0]["sos_count"] == 1 and abs(queue[0]["lat"] - 48.8631) < 1e-6
    assert client.get("/api/v1/dispatch/sos/unlocated", headers=dispatcher).json() == []


@pytest.mark.parametrize("overrides", [
    {"lat": ..., "position_unknown": True},  # lon and accuracy given, yet "unknown"
    {"lat": ..., "lon": ..., "accuracy_m": ...},  # nothing, and not said unknown
    {"lon": ...},  # half a position
    {"position_unknown": True},  # a position and "unknown"
])
def test_half_given_positions_are_refused(client: TestClient, overrides: dict[str, Any]) -> None:
    response = client.post("/api/v1/sos", json=sos_body(**overrides))
    assert response.status_code == 422, response.text
    message = response.json()["error"]["message"]
    assert "position" in message or "lat" in message or "lon" in message


def test_unlocated_list_is_for_dispatchers_only(client: TestClient) -> None:
    for role in (Role.unit, Role.authority, Role.admin):
        got = client.get("/api/v1/dispatch/sos/unlocated", headers=login(client, role))
        assert got.status_code == 403
