"""Reassigning or closing an incident takes a reason, kept in the audit log (issue 20, console).

Without one the API answers 422 naming ``reason`` and changes nothing: an incident closed on
the night of an attack must say why, for whoever reads the log afterwards.
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


def _incident(client: TestClient, headers: dict[str, str]) -> dict[str, Any]:
    post_sos(client, lat=BATACLAN[0], lon=BATACLAN[1], situation="hostage")
    queue: list[dict[str, Any]] = wait_for(
        lambda: client.get(f"{U}/incidents", headers=headers).json())
    return queue[0]


def _audit(client: TestClient, action: str) -> list[str]:
    runtime = client.app.state.runtime  # type: ignore[attr-defined]
    with runtime.sessions() as session:
        return list(session.scalars(
            select(AuditEntry.reason).where(AuditEntry.action == action)))


@pytest.mark.parametrize("body", [None, {}, {"reason": ""}, {"reason": "  "}])
def test_close_without_a_reason_is_refused_and_changes_nothing(
    client: TestClient, body: dict[str, Any] | None
) -> None:
    dispatcher = login(client, Role.dispatcher)
    incident = _incident(client, dispatcher)
    refused = client.post(f"{U}/incidents/{incident['id']}/close", headers=dispatcher, json=body)
    assert refused.status_code == 422, refused.text
    assert "reason" in refused.json()["error"]["message"]
    still = client.get(f"{U}/incidents/{incident['id']}", headers=dispatcher).json()
    assert still["status"] == "open"
    assert _audit(client, "dispatch_close") == []


def test_close_with_a_reason_is_audited_with_it(client: TestClient) -> None:
    dispatcher = login(client, Role.dispatcher)
    incident = _incident(client, dispatcher)
    done = client.post(f"{U}/incidents/{incident['id']}/close", headers=dispatcher,
                       json={"reason": "victimes évacuées, lieu sécurisé"})
    assert done.status_code == 200, done.text
    assert done.json()["status"] == "closed"
    assert _audit(client, "dispatch_close") == ["victimes évacuées, lieu sécurisé"]


def test_reassign_without_a_reason_is_refused_and_keeps_the_unit(client: TestClient) -> None:
    dispatcher = login(client, Role.dispatcher)
    api_unit(client, dispatcher, "PS-11", 48.8640, 2.3712)
    incident = _incident(client, dispatcher)
    before = wait_for(lambda: client.get(f"{U}/incidents/{incident['id']}",
                                         headers=dispatcher).json()["assignments"])
    refused = client.post(f"{U}/incidents/{incident['id']}/reassign", headers=dispatcher,
                          json={})
    assert refused.status_code == 422, refused.text
    assert "reason" in refused.json()["error"]["message"]
    after = client.get(f"{U}/incidents/{incident['id']}", headers=dispatcher).json()
    assert [a["status"] for a in after["assignments"]] == [a["status"] for a in before]
    assert _audit(client, "dispatch_reassign") == []


def test_reassign_with_a_reason_is_audited_with_it(client: TestClient) -> None:
    dispatcher = login(client, Role.dispatcher)
    api_unit(client, dispatcher, "PS-11", 48.8640, 2.3712)
    incident = _incident(client, dispatcher)
    done = client.post(f"{U}/incidents/{incident['id']}/reassign", headers=dispatcher,
                       json={"reason": "PS-11 bloquée boulevard Voltaire"})
    assert done.status_code == 200, done.text
    [reason] = _audit(client, "dispatch_reassign")
    assert reason.startswith("PS-11 bloquée boulevard Voltaire")


def test_other_roles_cannot_close(client: TestClient) -> None:
    dispatcher = login(client, Role.dispatcher)
    incident = _incident(client, dispatcher)
    for role in (Role.unit, Role.authority, Role.admin):
        other = login(client, role)
        refused = client.post(f"{U}/incidents/{incident['id']}/close", headers=other,
                              json={"reason": "pas mon rôle"})
        assert refused.status_code == 403, (role, refused.text)
    assert client.get(f"{U}/incidents/{incident['id']}",
                      headers=dispatcher).json()["status"] == "open"
