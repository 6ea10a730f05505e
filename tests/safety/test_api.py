"""The safety check end to end, in both modes: activate, mark, look up, count, purge."""

from __future__ import annotations

import datetime as dt
from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import func, select

from tests.factories import login
from tocsin.core.auth.roles import Role
from tocsin.core.db import session_scope, utcnow
from tocsin.core.outbox import OutboxEvent
from tocsin.retention import purge_all
from tocsin.safety.models import SafetyCheck, SafetyMark

# The 11th arrondissement, roughly (lon, lat).
POLYGON = [[2.36, 48.85], [2.40, 48.85], [2.40, 48.87], [2.36, 48.87]]
INSIDE = {"lat": 48.863, "lon": 2.370}  # near the Bataclan
OUTSIDE = {"lat": 48.80, "lon": 2.30}


def count(client: TestClient, model: Any) -> int:
    runtime = client.app.state.runtime  # type: ignore[attr-defined]
    with session_scope(runtime.sessions) as session:
        return int(session.scalar(select(func.count()).select_from(model)) or 0)


def activate(client: TestClient, area: dict[str, Any] | None = None) -> tuple[int, dict[str, str]]:
    headers = login(client, Role.authority)
    response = client.post("/api/v1/safety/checks", headers=headers, json={
        "name": "Paris 11e — attaques du 13 novembre",
        "area": area or {"type": "polygon", "coordinates": POLYGON},
        "ends_at": (utcnow() + dt.timedelta(days=2)).isoformat(),
    })
    assert response.status_code == 201, response.text
    check_id = int(response.json()["id"])
    approved = client.post(f"/api/v1/safety/checks/{check_id}/approve",
                           headers=login(client, Role.authority))  # a second authority
    assert approved.status_code == 200 and approved.json()["active"], approved.text
    return check_id, headers


def test_full_flow_and_what_relatives_see(client: TestClient) -> None:
    check_id, headers = activate(client)
    listed = client.get("/api/v1/safety/checks").json()
    assert [c["id"] for c in listed] == [check_id] and listed[0]["active"]

    safe = client.post("/api/v1/safety/marks", headers={"X-Device-Token": "phone-1"}, json={
        "check_id": check_id, "status": "safe", **INSIDE, "name": "Hélène Martin",
        "phone": "06 12 34 56 78", "message": "Je suis chez Paul, tout va bien.",
    })
    assert safe.status_code == 201, safe.text
    code = safe.json()["code"]
    assert len(code) == 8

    # A relative with the code sees status, time and the message left for them.
    seen = client.get("/api/v1/safety/lookup", params={"code": code.lower()})
    assert seen.status_code == 200
    assert seen.json()["status"] == "safe"
    assert seen.json()["message"] == "Je suis chez Paul, tout va bien."
    assert set(seen.json()) == {"status", "marked_at", "message"}
    # A relative knowing name and phone (written differently) sees status and time only.
    by_contact = client.post("/api/v1/safety/lookup", json={
        "name": "helene  MARTIN", "phone": "+33 6 12 34 56 78"})
    assert by_contact.status_code == 200
    [match] = by_contact.json()["results"]
    assert set(match) == {"status", "marked_at"} and match["status"] == "safe"
    wrong = client.post("/api/v1/safety/lookup", json={"name": "Hélène Martin",
                                                       "phone": "06 00 00 00 00"})
    assert wrong.json()["results"] == []

    # The same device changes its mind: same mark, same code, new status.
    help_ = client.post("/api/v1/safety/marks", headers={"X-Device-Token": "phone-1"}, json={
        "check_id": check_id, "status": "need_help", **INSIDE})
    assert help_.status_code == 201 and help_.json()["code"] == code
    assert client.get("/api/v1/safety/lookup", params={"code": code}).json()["status"] == (
        "need_help")
    other = client.post("/api/v1/safety/marks", json={"check_id": check_id, "status": "safe"})
    assert other.status_code == 201 and other.json()["code"] != code

    counts = client.get(f"/api/v1/safety/checks/{check_id}/counts", headers=headers).json()
    assert (counts["safe"], counts["need_help"], counts["total"]) == (1, 1, 2)
    assert counts["cells"] and counts["cells"][0]["need_help"] == 1
    assert client.get(f"/api/v1/safety/checks/{check_id}/counts").status_code == 401
    assert client.get(f"/api/v1/safety/checks/{check_id}/counts",
                      headers=login(client, Role.moderator)).status_code == 403

    # "I need help" became an assistance request for the dispatchers (low priority).
    runtime = client.app.state.runtime  # type: ignore[attr-defined]
    with session_scope(runtime.sessions) as session:
        subjects = list(session.scalars(select(OutboxEvent.subject)))
    assert "safety.help_requested" in subjects


def test_message_and_position_are_sealed(client: TestClient) -> None:
    check_id, _ = activate(client)
    client.post("/api/v1/safety/marks", json={
        "check_id": check_id, "status": "need_help", **INSIDE, "message": "blessé au bras"})
    runtime = client.app.state.runtime  # type: ignore[attr-defined]
    with runtime.engine.connect() as conn:
        message, position = conn.exec_driver_sql(
            "SELECT message, position FROM safety_mark").one()
    assert "blessé".encode() not in bytes(message) and b"48.86" not in bytes(position)


def test_circle_area(client: TestClient) -> None:
    check_id, _ = activate(client, {"type": "circle", "lat": 48.863, "lon": 2.370,
                                    "radius_m": 500})
    near = client.post("/api/v1/safety/marks", json={
        "check_id": check_id, "status": "safe", "lat": 48.864, "lon": 2.371})
    assert near.status_code == 201
    far = client.post("/api/v1/safety/marks", json={
        "check_id": check_id, "status": "safe", **OUTSIDE})
    assert far.status_code == 422 and "outside the area" in far.json()["error"]["message"]


def test_bad_input_is_refused_and_stores_nothing(client: TestClient) -> None:
    check_id, headers = activate(client)
    bad_marks = [
        ({"check_id": check_id, "status": "fine"}, 422),
        ({"check_id": check_id, "status": "safe", "lat": 48.86}, 422),
        ({"check_id": check_id, "status": "need_help"}, 422),
        ({"check_id": check_id, "status": "safe", "name": "Paul"}, 422),
        ({"check_id": check_id, "status": "safe", **OUTSIDE}, 422),
        ({"check_id": 9999, "status": "safe"}, 404),
        ({"check_id": check_id, "status": "safe", "message": "x" * 501}, 422),
    ]
    for body, status in bad_marks:
        response = client.post("/api/v1/safety/marks", json=body)
        assert response.status_code == status, (body, response.text)
        assert response.json()["error"]["message"]
    assert count(client, SafetyMark) == 0

    unknown = client.get("/api/v1/safety/lookup", params={"code": "ZZZZ-ZZZZ"})
    assert unknown.status_code == 404 and "unknown safety code" in unknown.text
    assert client.get("/api/v1/safety/lookup", params={"code": "<script>"}).status_code == 422

    bad_checks = [
        {"name": "x", "area": {"type": "circle", "lat": 48.8, "lon": 2.3, "radius_m": 500},
         "ends_at": (utcnow() + dt.timedelta(days=1)).isoformat()},
        {"name": "Bowtie", "area": {"type": "polygon", "coordinates": [
            [2.36, 48.85], [2.40, 48.87], [2.40, 48.85], [2.36, 48.87]]},
         "ends_at": (utcnow() + dt.timedelta(days=1)).isoformat()},
        {"name": "Past", "area": {"type": "circle", "lat": 48.8, "lon": 2.3, "radius_m": 500},
         "ends_at": "2001-01-01T00:00:00Z"},
        {"name": "Too long", "area": {"type": "circle", "lat": 48.8, "lon": 2.3,
                                      "radius_m": 500},
         "ends_at": (utcnow() + dt.timedelta(days=30)).isoformat()},
        {"name": "Far", "area": {"type": "circle", "lat": 95, "lon": 2.3, "radius_m": 500},
         "ends_at": (utcnow() + dt.timedelta(days=1)).isoformat()},
    ]
    for body in bad_checks:
        response = client.post("/api/v1/safety/checks", headers=headers, json=body)
        assert response.status_code == 422, (body, response.text)
    assert count(client, SafetyCheck) == 1


def test_ended_check_refuses_marks_and_marks_are_purged(client: TestClient) -> None:
    check_id, headers = activate(client)
    code = client.post("/api/v1/safety/marks", json={
        "check_id": check_id, "status": "safe"}).json()["code"]
    ended = client.post(f"/api/v1/safety/checks/{check_id}/end", headers=headers)
    assert ended.status_code == 200 and not ended.json()["active"]
    late = client.post("/api/v1/safety/marks", json={"check_id": check_id, "status": "safe"})
    assert late.status_code == 409 and late.json()["error"]["code"] == "safety_check_closed"
    # Relatives can still read it for a week, then it is purged.
    assert client.get("/api/v1/safety/lookup", params={"code": code}).status_code == 200
    runtime = client.app.state.runtime  # type: ignore[attr-defined]
    with session_scope(runtime.sessions) as session:
        counts = purge_all(session, utcnow() + dt.timedelta(days=8))
    assert counts["safety_mark"] == 1 and count(client, SafetyMark) == 0
    assert client.get("/api/v1/safety/lookup", params={"code": code}).status_code == 404


def test_a_check_reaches_the_public_only_once_a_second_authority_approves(
        client: TestClient) -> None:
    author = login(client, Role.authority)
    proposed = client.post("/api/v1/safety/checks", headers=author, json={
        "name": "Alerte non vérifiée", "area": {"type": "polygon", "coordinates": POLYGON},
        "ends_at": (utcnow() + dt.timedelta(days=1)).isoformat()})
    assert proposed.status_code == 201 and not proposed.json()["approved"]
    check_id = proposed.json()["id"]
    assert client.get("/api/v1/safety/checks").json() == []  # not listed to the public
    refused = client.post("/api/v1/safety/marks", json={"check_id": check_id, "status": "safe"})
    assert refused.status_code == 409 and "second authority" in refused.text
    pending = client.get("/api/v1/safety/checks/pending", headers=author)
    assert [c["id"] for c in pending.json()] == [check_id]
    assert client.get("/api/v1/safety/checks/pending").status_code == 401
    for role in (Role.dispatcher, Role.moderator, Role.analyst):
        r = client.post(f"/api/v1/safety/checks/{check_id}/approve", headers=login(client, role))
        assert r.status_code == 403, (role, r.text)
    alone = client.post(f"/api/v1/safety/checks/{check_id}/approve", headers=author)
    assert alone.status_code == 409 and "another authority" in alone.text
    approved = client.post(f"/api/v1/safety/checks/{check_id}/approve",
                           headers=login(client, Role.authority))
    assert approved.status_code == 200 and approved.json()["active"]
    assert [c["id"] for c in client.get("/api/v1/safety/checks").json()] == [check_id]
    again = client.post(f"/api/v1/safety/checks/{check_id}/approve",
                        headers=login(client, Role.admin))
    assert again.status_code == 409
    assert client.post("/api/v1/safety/marks", json={
        "check_id": check_id, "status": "safe"}).status_code == 201
