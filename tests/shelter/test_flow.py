"""The whole flow over HTTP, and the property the issue asks for: the exact address and point
appear only in the host's own views and in the accepted seeker's reveal."""

from __future__ import annotations

import json
import re

import httpx
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from tests.factories import login
from tests.shelter.helpers import (
    HOST_ADDRESS,
    HOST_DIRECTIONS,
    follow,
    make_offer,
    make_request,
    manage,
    offer_body,
    request_body,
)
from tocsin.core.audit.models import AuditEntry
from tocsin.core.auth import Role
from tocsin.core.db import session_scope
from tocsin.core.outbox import OutboxEvent

API = "/api/v1/shelter"
SECRETS = (HOST_ADDRESS, HOST_DIRECTIONS, "48.866123", "2.364123", "4417")


def leaks(body: str) -> list[str]:
    return [secret for secret in SECRETS if secret in body]


def test_offer_request_accept_reveal_and_nothing_leaks(client: TestClient) -> None:
    allowed: list[str] = []   # responses that may hold the place: host's own, accepted reveal
    others: list[str] = []    # every other response of the flow

    created = client.post(f"{API}/offers", json=offer_body())
    assert created.status_code == 201, created.text
    allowed.append(created.text)
    offer = created.json()
    offer_id, mtoken = offer["id"], offer["manage_token"]
    assert offer["address"] == HOST_ADDRESS and offer["remaining"] == 3
    assert offer["manage_path"] == f"/shelter#manage={offer_id}.{mtoken}"

    own = client.get(f"{API}/offers/{offer_id}", headers=manage(mtoken))
    assert own.status_code == 200
    allowed.append(own.text)

    areas = client.get(f"{API}/areas", params={"south": 48.8, "west": 2.3, "north": 49.0,
                                               "east": 2.45})
    assert areas.status_code == 200
    others.append(areas.text)
    assert [a["offers"] for a in areas.json()["areas"]] == [1]
    assert areas.json()["areas"][0]["cell"] == offer["cell"]

    made = client.post(f"{API}/requests", json=request_body())
    assert made.status_code == 201, made.text
    others.append(made.text)
    request_id, rtoken = made.json()["id"], made.json()["token"]

    props = client.get(f"{API}/requests/{request_id}/proposals", headers=follow(rtoken))
    assert props.status_code == 200
    others.append(props.text)
    proposals = props.json()["proposals"]
    assert [p["offer_id"] for p in proposals] == [offer_id]
    assert proposals[0]["distance_band"] in ("from1to2km", "from2to5km")
    assert proposals[0]["common_languages"] == ["en"]
    assert "lat" not in proposals[0] and "address" not in proposals[0]

    early = client.get(f"{API}/requests/{request_id}/address", headers=follow(rtoken))
    assert early.status_code == 403 and early.json()["error"]["code"] == "not_accepted"
    others.append(early.text)

    asked = client.post(f"{API}/requests/{request_id}/ask", json={"offer_id": offer_id},
                        headers=follow(rtoken))
    assert asked.status_code == 200, asked.text
    assert asked.json()["status"] == "asked"
    others.append(asked.text)

    still_early = client.get(f"{API}/requests/{request_id}/address", headers=follow(rtoken))
    assert still_early.status_code == 403
    others.append(still_early.text)

    waiting = client.get(f"{API}/offers/{offer_id}/requests", headers=manage(mtoken))
    assert waiting.status_code == 200
    others.append(waiting.text)  # the host sees the seeker's needs, not a location
    assert waiting.json()["requests"][0]["people"] == 2

    accepted = client.post(f"{API}/offers/{offer_id}/requests/{request_id}/accept",
                           headers=manage(mtoken))
    assert accepted.status_code == 200, accepted.text
    others.append(accepted.text)
    assert accepted.json()["requests"][0]["status"] == "accepted"

    view = client.get(f"{API}/requests/{request_id}", headers=follow(rtoken))
    assert view.json()["status"] == "accepted" and view.json()["offer"]["remaining"] == 1
    others.append(view.text)

    reveal = client.get(f"{API}/requests/{request_id}/address", headers=follow(rtoken))
    assert reveal.status_code == 200, reveal.text
    allowed.append(reveal.text)
    shown = reveal.json()
    assert shown["address"] == HOST_ADDRESS and shown["directions"] == HOST_DIRECTIONS
    assert abs(shown["lat"] - 48.8661234) < 1e-9 and "openstreetmap.org" in shown["directions_url"]

    # A second seeker, never accepted, sees the capacity go down and nothing else.
    other_id, other_token = make_request(client, people=1)
    props2 = client.get(f"{API}/requests/{other_id}/proposals", headers=follow(other_token))
    others.append(props2.text)
    assert props2.json()["proposals"][0]["remaining"] == 1
    refused = client.get(f"{API}/requests/{other_id}/address", headers=follow(other_token))
    others.append(refused.text)
    assert refused.status_code == 403

    for body in allowed:
        assert HOST_ADDRESS in body
    for body in others:
        assert leaks(body) == [], body
    runtime = client.app.state.runtime  # type: ignore[attr-defined]
    with session_scope(runtime.sessions) as session:
        payloads = session.scalars(select(OutboxEvent.payload)).all()
        assert payloads and all(leaks(json.dumps(p)) == [] for p in payloads)
        reveals = session.scalar(select(func.count()).select_from(AuditEntry).where(
            AuditEntry.action == "read_sensitive", AuditEntry.object_id == offer_id,
            AuditEntry.reason.contains(request_id)))
        assert reveals == 1


def test_decline_then_ask_another_host(client: TestClient) -> None:
    first, first_token = make_offer(client)
    second, _ = make_offer(client, lat=48.87, lon=2.37)
    request_id, rtoken = make_request(client)
    client.post(f"{API}/requests/{request_id}/ask", json={"offer_id": first},
                headers=follow(rtoken))
    declined = client.post(f"{API}/offers/{first}/requests/{request_id}/decline",
                           headers=manage(first_token))
    assert declined.status_code == 200 and declined.json()["requests"] == []
    view = client.get(f"{API}/requests/{request_id}", headers=follow(rtoken)).json()
    assert view["status"] == "declined" and view["offer"] is None
    props = client.get(f"{API}/requests/{request_id}/proposals", headers=follow(rtoken)).json()
    assert [p["offer_id"] for p in props["proposals"]] == [second]
    again = client.post(f"{API}/requests/{request_id}/ask", json={"offer_id": first},
                        headers=follow(rtoken))
    assert again.status_code == 409
    asked = client.post(f"{API}/requests/{request_id}/ask", json={"offer_id": second},
                        headers=follow(rtoken))
    assert asked.status_code == 200 and asked.json()["offer"]["offer_id"] == second


def test_host_pause_edit_close(client: TestClient) -> None:
    offer_id, token = make_offer(client)
    request_id, rtoken = make_request(client)
    paused = client.post(f"{API}/offers/{offer_id}/pause", headers=manage(token))
    assert paused.status_code == 200 and paused.json()["status"] == "paused"
    props = client.get(f"{API}/requests/{request_id}/proposals", headers=follow(rtoken)).json()
    assert props["proposals"] == []
    assert client.post(f"{API}/offers/{offer_id}/resume", headers=manage(token)).json()[
        "status"] == "open"
    edited = client.patch(f"{API}/offers/{offer_id}", headers=manage(token),
                          json={"capacity": 5, "note": "Lit double", "access": "wheelchair"})
    assert edited.status_code == 200, edited.text
    assert edited.json()["capacity"] == 5 and edited.json()["remaining"] == 5
    assert edited.json()["note"] == "Lit double"
    client.post(f"{API}/requests/{request_id}/ask", json={"offer_id": offer_id},
                headers=follow(rtoken))
    closed = client.post(f"{API}/offers/{offer_id}/close", headers=manage(token))
    assert closed.json()["status"] == "closed"
    view = client.get(f"{API}/requests/{request_id}", headers=follow(rtoken)).json()
    assert view["status"] == "declined"
    assert client.post(f"{API}/offers/{offer_id}/resume", headers=manage(token)).status_code == 409


def test_dispatcher_files_a_group_request(client: TestClient) -> None:
    offer_id, _ = make_offer(client, capacity=8)
    headers = login(client, Role.dispatcher)
    made = client.post(f"{API}/group-requests", json=request_body(people=6), headers=headers)
    assert made.status_code == 201, made.text
    rid, rtoken = made.json()["id"], made.json()["token"]
    props = client.get(f"{API}/requests/{rid}/proposals", headers=follow(rtoken)).json()
    assert [p["offer_id"] for p in props["proposals"]] == [offer_id]
    assert client.post(f"{API}/group-requests", json=request_body()).status_code == 401


HOST_VIEWS = re.compile(
    r"^/api/v1/shelter/offers(/[0-9a-f]{32}(/(pause|resume|close))?)?$"
)
REVEAL = re.compile(r"^/api/v1/shelter/requests/[0-9a-f]{32}/address$")


def test_every_response_of_every_flow_keeps_the_place_private(client: TestClient) -> None:
    """Record every response of every flow; only host views and the reveal hold the place."""
    seen: list[tuple[str, str, int, str]] = []

    def record(response: httpx.Response) -> None:
        response.read()
        seen.append((response.request.method, response.request.url.path,
                     response.status_code, response.text))

    client.event_hooks["response"].append(record)
    moderator = login(client, Role.moderator)
    dispatcher = login(client, Role.dispatcher)
    offer_id, mtoken = make_offer(client)
    other_offer, other_token = make_offer(client, lat=48.8661234, lon=2.3641299,
                                          address=HOST_ADDRESS + " bis")
    client.get(f"{API}/areas", params={"south": 48.8, "west": 2.3, "north": 49.0, "east": 2.45})
    rid, rtoken = make_request(client)
    gid = client.post(f"{API}/group-requests", json=request_body(people=1),
                      headers=dispatcher).json()["id"]
    for path in ("", "/proposals", "/address"):
        client.get(f"{API}/requests/{rid}{path}", headers=follow(rtoken))
    client.post(f"{API}/requests/{rid}/ask", json={"offer_id": other_offer},
                headers=follow(rtoken))
    client.get(f"{API}/offers/{other_offer}/requests", headers=manage(other_token))
    client.post(f"{API}/offers/{other_offer}/requests/{rid}/decline", headers=manage(other_token))
    client.post(f"{API}/requests/{rid}/report", json={"offer_id": other_offer, "reason": "fake"},
                headers=follow(rtoken))
    client.post(f"{API}/requests/{rid}/ask", json={"offer_id": offer_id}, headers=follow(rtoken))
    client.post(f"{API}/offers/{offer_id}/requests/{rid}/report", json={"reason": "other"},
                headers=manage(other_token))
    client.post(f"{API}/offers/{offer_id}/requests/{rid}/accept", headers=manage(mtoken))
    client.get(f"{API}/requests/{rid}", headers=follow(rtoken))
    client.get(f"{API}/requests/{rid}/address", headers=follow(rtoken))
    client.get(f"{API}/requests/{rid}/address", headers=follow(other_token))
    client.patch(f"{API}/offers/{offer_id}", json={"note": "ok"}, headers=manage(mtoken))
    client.post(f"{API}/offers/{offer_id}/pause", headers=manage(mtoken))
    client.get(f"{API}/offers/{offer_id}", headers=manage(rtoken))
    client.get(f"{API}/moderation/reports", headers=moderator)
    client.post(f"{API}/moderation/reports/1/decision", headers=moderator,
                json={"decision": "restore", "reason": "fine"})
    client.post(f"{API}/requests/{rid}/cancel", headers=follow(rtoken))
    client.post(f"{API}/offers/{offer_id}/close", headers=manage(mtoken))
    client.get(f"{API}/requests/{gid}/proposals", headers=follow(rtoken))
    client.get("/openapi.json")

    allowed_hits = 0
    for method, path, status, body in seen:
        private = status < 300 and (
            (HOST_VIEWS.match(path) and method in ("GET", "POST", "PATCH"))
            or (REVEAL.match(path) and method == "GET")
        )
        if private:
            allowed_hits += 1
            assert HOST_ADDRESS in body
        else:
            assert leaks(body) == [], (method, path, status, body)
    assert allowed_hits >= 6 and len(seen) >= 25
