"""Abuse reports from either side, hiding pending review, and the moderator's decisions."""

from __future__ import annotations

from fastapi.testclient import TestClient
from sqlalchemy import func, select

from tests.factories import login
from tests.shelter.helpers import follow, make_offer, make_request, manage
from tocsin.core.audit.models import AuditEntry
from tocsin.core.auth import Role
from tocsin.core.db import session_scope

API = "/api/v1/shelter"
BOX = {"south": 48.8, "west": 2.3, "north": 49.0, "east": 2.45}


def _asked(client: TestClient, offer_id: str) -> tuple[str, str]:
    request_id, rtoken = make_request(client, people=1)
    response = client.post(f"{API}/requests/{request_id}/ask", json={"offer_id": offer_id},
                           headers=follow(rtoken))
    assert response.status_code == 200
    return request_id, rtoken


def test_reported_offer_is_hidden_until_a_moderator_restores_it(client: TestClient) -> None:
    offer_id, mtoken = make_offer(client)
    request_id, rtoken = _asked(client, offer_id)
    onlooker, onlooker_token = make_request(client, people=1)

    # Someone who never dealt with the offer cannot hide it.
    refused = client.post(f"{API}/requests/{onlooker}/report", headers=follow(onlooker_token),
                          json={"offer_id": offer_id, "reason": "fake"})
    assert refused.status_code == 403

    report = client.post(f"{API}/requests/{request_id}/report", headers=follow(rtoken),
                         json={"offer_id": offer_id, "reason": "unsafe", "text": "Menaçant"})
    assert report.status_code == 201, report.text
    proposals = client.get(f"{API}/requests/{onlooker}/proposals",
                           headers=follow(onlooker_token)).json()["proposals"]
    assert proposals == []
    assert client.get(f"{API}/areas", params=BOX).json()["areas"] == []
    accept = client.post(f"{API}/offers/{offer_id}/requests/{request_id}/accept",
                         headers=manage(mtoken))
    assert accept.status_code == 409
    assert client.get(f"{API}/offers/{offer_id}", headers=manage(mtoken)).json()[
        "moderation"] == "pending"

    moderator = login(client, Role.moderator)
    queue = client.get(f"{API}/moderation/reports", headers=moderator)
    assert queue.status_code == 200
    (item,) = queue.json()["reports"]
    assert item["text"] == "Menaçant" and item["offer_cell"] and "address" not in item
    decided = client.post(f"{API}/moderation/reports/{item['id']}/decision", headers=moderator,
                          json={"decision": "restore", "reason": "checked with the host"})
    assert decided.status_code == 200 and decided.json()["status"] == "restored"
    again = client.post(f"{API}/moderation/reports/{item['id']}/decision", headers=moderator,
                        json={"decision": "remove", "reason": "second thoughts"})
    assert again.status_code == 409
    proposals = client.get(f"{API}/requests/{onlooker}/proposals",
                           headers=follow(onlooker_token)).json()["proposals"]
    assert [p["offer_id"] for p in proposals] == [offer_id]
    runtime = client.app.state.runtime  # type: ignore[attr-defined]
    with session_scope(runtime.sessions) as session:
        assert session.scalar(select(func.count()).select_from(AuditEntry).where(
            AuditEntry.action == "shelter_moderation_restore")) == 1


def test_removed_offer_is_closed_and_its_address_withheld(client: TestClient) -> None:
    offer_id, mtoken = make_offer(client)
    request_id, rtoken = _asked(client, offer_id)
    client.post(f"{API}/offers/{offer_id}/requests/{request_id}/accept", headers=manage(mtoken))
    client.post(f"{API}/requests/{request_id}/report", headers=follow(rtoken),
                json={"offer_id": offer_id, "reason": "harassment"})
    moderator = login(client, Role.moderator)
    (item,) = client.get(f"{API}/moderation/reports", headers=moderator).json()["reports"]
    client.post(f"{API}/moderation/reports/{item['id']}/decision", headers=moderator,
                json={"decision": "remove", "reason": "confirmed"})
    own = client.get(f"{API}/offers/{offer_id}", headers=manage(mtoken)).json()
    assert own["status"] == "closed" and own["moderation"] == "removed"
    assert client.get(f"{API}/requests/{request_id}/address",
                      headers=follow(rtoken)).status_code == 409
    assert client.post(f"{API}/offers/{offer_id}/resume", headers=manage(mtoken)).status_code == 409


def test_host_reports_a_request(client: TestClient) -> None:
    offer_id, mtoken = make_offer(client)
    request_id, rtoken = _asked(client, offer_id)
    other_offer, other_token = make_offer(client, lat=48.87, lon=2.37)
    stranger = client.post(f"{API}/offers/{other_offer}/requests/{request_id}/report",
                           headers=manage(other_token), json={"reason": "fake"})
    assert stranger.status_code == 404
    report = client.post(f"{API}/offers/{offer_id}/requests/{request_id}/report",
                         headers=manage(mtoken), json={"reason": "harassment", "text": "insultes"})
    assert report.status_code == 201
    view = client.get(f"{API}/requests/{request_id}", headers=follow(rtoken)).json()
    assert view["status"] == "declined"
    moderator = login(client, Role.moderator)
    (item,) = client.get(f"{API}/moderation/reports", headers=moderator).json()["reports"]
    assert item["target"] == "request" and item["request_note"] == "Deux touristes bloqués."


def test_moderation_routes_refuse_other_roles(client: TestClient) -> None:
    assert client.get(f"{API}/moderation/reports").status_code == 401
    for role in (Role.dispatcher, Role.admin, Role.analyst, Role.unit):
        headers = login(client, role)
        assert client.get(f"{API}/moderation/reports", headers=headers).status_code == 403
        assert client.post(f"{API}/moderation/reports/1/decision", headers=headers,
                           json={"decision": "restore", "reason": "nope"}).status_code == 403
    for role in (Role.moderator, Role.admin):
        headers = login(client, role)
        assert client.post(f"{API}/group-requests", headers=headers,
                           json={"lat": 48.85, "lon": 2.35, "people": 3}).status_code == 403
