"""The unit's brief of its offer (issue 20, unit page): people, the caller's latest words.

A crew in a car must know how many people wait and what the caller last wrote; only the unit
the offer is addressed to reads it, only while the offer or mission is in force, and each read
of the sealed text is audited under that unit's account.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import select

from tests.dispatch.factories import BATACLAN, api_unit
from tests.factories import login
from tests.sos.factories import post_sos
from tests.waiting import wait_for
from tocsin.core.audit.models import AuditEntry
from tocsin.core.auth.roles import Role
from tocsin.dispatch.config import DispatchConfig
from tocsin.dispatch.engine import DispatchOptions

U = "/api/v1/dispatch"


@pytest.fixture
def client(make_app: Callable[..., FastAPI]) -> Any:
    app = make_app()
    app.state.runtime.states.put(
        DispatchOptions(config=DispatchConfig(offer_timeout_s=60, candidates=3)))
    with TestClient(app) as test_client:
        yield test_client


def _offer(client: TestClient, headers: dict[str, str]) -> dict[str, Any]:
    me: dict[str, Any] = wait_for(lambda: (lambda m: m if m["assignment"] else None)(
        client.get(f"{U}/units/me", headers=headers).json()))
    return me


def test_the_unit_reads_people_and_the_latest_words_audited(client: TestClient) -> None:
    dispatcher = login(client, Role.dispatcher)
    _unit, unit_h = api_unit(client, dispatcher, "PS-11", 48.8640, 2.3712)
    first = post_sos(client, lat=BATACLAN[0], lon=BATACLAN[1], situation="hostage", people=3,
                     text="Cachés dans la loge")
    me = _offer(client, unit_h)
    post_sos(client, lat=BATACLAN[0], lon=BATACLAN[1] + 0.0002, situation="injured", people=2,
             text=None)
    wait_for(lambda: client.get(f"{U}/units/me", headers=unit_h).json()["incident"]
             ["sos_count"] == 2)
    sent = client.post(f"/api/v1/sos/{first['id']}/messages", json={"text": "Ils rechargent"},
                       headers={"X-Follow-Up-Token": first["follow_up_token"]})
    assert sent.status_code == 201, sent.text
    brief = client.get(f"{U}/assignments/{me['assignment']['id']}/brief", headers=unit_h)
    assert brief.status_code == 200, brief.text
    body = brief.json()
    assert body["people"] == 5 and body["sos_count"] == 2
    assert body["latest_text"] == "Ils rechargent"
    assert abs(body["lat"] - BATACLAN[0]) < 0.001
    runtime = client.app.state.runtime  # type: ignore[attr-defined]
    with runtime.sessions() as session:
        reads = session.scalars(select(AuditEntry).where(AuditEntry.object_type == "sos")).all()
    assert reads and all(r.role == "unit" and "brief" in r.reason for r in reads)


def test_another_unit_or_role_may_not_read_the_brief(client: TestClient) -> None:
    dispatcher = login(client, Role.dispatcher)
    _unit, unit_h = api_unit(client, dispatcher, "PS-11", 48.8640, 2.3712)
    _other, other_h = api_unit(client, dispatcher, "PS-12", 48.8800, 2.3900)
    post_sos(client, lat=BATACLAN[0], lon=BATACLAN[1], situation="attack")
    me = _offer(client, unit_h)
    path = f"{U}/assignments/{me['assignment']['id']}/brief"
    assert client.get(path, headers=other_h).status_code == 403
    for role in (Role.dispatcher, Role.authority, Role.admin):
        assert client.get(path, headers=login(client, role)).status_code == 403, role
    assert client.get(path).status_code == 401


def test_no_brief_once_the_mission_is_over(client: TestClient) -> None:
    dispatcher = login(client, Role.dispatcher)
    _unit, unit_h = api_unit(client, dispatcher, "PS-11", 48.8640, 2.3712)
    post_sos(client, lat=BATACLAN[0], lon=BATACLAN[1], situation="attack")
    offer_id = _offer(client, unit_h)["assignment"]["id"]
    assert client.post(f"{U}/assignments/{offer_id}/decline", headers=unit_h).status_code == 200
    refused = client.get(f"{U}/assignments/{offer_id}/brief", headers=unit_h)
    assert refused.status_code == 409, refused.text
