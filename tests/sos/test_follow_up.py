"""The follow-up channel (token only), sealing at rest, the audited dispatcher read."""

from __future__ import annotations

from fastapi.testclient import TestClient
from sqlalchemy import text

from tests.factories import login
from tests.sos.factories import count_rows, post_sos
from tocsin.core.auth.roles import Role

SECRET = "Deux hommes armés dans le hall, nous sommes au sous-sol"


def _token(ack: dict[str, str]) -> dict[str, str]:
    return {"X-Follow-Up-Token": ack["follow_up_token"]}


def test_citizen_and_dispatcher_talk(client: TestClient) -> None:
    ack = post_sos(client)
    sos = f"/api/v1/sos/{ack['id']}"
    sent = client.post(f"{sos}/messages", json={"text": "Ils approchent"}, headers=_token(ack))
    assert sent.status_code == 201, sent.text
    moved = client.post(
        f"{sos}/positions", json={"lat": 48.8632, "lon": 2.3709, "accuracy_m": 8},
        headers=_token(ack),
    )
    assert moved.status_code == 204, moved.text
    dispatcher = login(client, Role.dispatcher)
    reply = client.post(f"{sos}/reply", json={"text": "Unité en route, restez cachés"},
                        headers=dispatcher)
    assert reply.status_code == 201, reply.text
    seen = client.get(f"{sos}/follow-up", headers=_token(ack))
    assert seen.status_code == 200
    assert [(m["sender"], m["text"]) for m in seen.json()["messages"]] == [
        ("citizen", "Ils approchent"),
        ("dispatcher", "Unité en route, restez cachés"),
    ]
    detail = client.get(sos, params={"reason": "prise en charge"}, headers=dispatcher)
    assert detail.status_code == 200
    body = detail.json()
    assert body["text"].startswith("Nous sommes cachés")
    assert [(p["lat"], p["accuracy_m"]) for p in body["trail"]] == [(48.8632, 8.0)]
    assert len(body["messages"]) == 2


def test_follow_up_needs_the_right_token(client: TestClient) -> None:
    ack = post_sos(client)
    other = post_sos(client)
    sos = f"/api/v1/sos/{ack['id']}"
    for headers in ({}, {"X-Follow-Up-Token": "nope"}, _token(other)):
        assert client.get(f"{sos}/follow-up", headers=headers).status_code == 403
        refused = client.post(f"{sos}/messages", json={"text": "x"}, headers=headers)
        assert refused.status_code == 403
        moved = client.post(
            f"{sos}/positions", json={"lat": 1, "lon": 1, "accuracy_m": 1}, headers=headers
        )
        assert moved.status_code == 403
    assert client.get("/api/v1/sos/unknown/follow-up", headers=_token(ack)).status_code == 403
    assert count_rows(client, "sos_message") == 0
    assert count_rows(client, "sos_position") == 0
    bad = client.post(f"{sos}/positions", json={"lat": 95, "lon": 1, "accuracy_m": 1},
                      headers=_token(ack))
    assert bad.status_code == 422
    assert client.post(f"{sos}/messages", json={"text": "x" * 501},
                       headers=_token(ack)).status_code == 422
    assert count_rows(client, "sos_position") == 0


def test_sensitive_fields_are_sealed_at_rest(client: TestClient) -> None:
    ack = post_sos(client, text=SECRET)
    client.post(f"/api/v1/sos/{ack['id']}/messages", json={"text": SECRET}, headers=_token(ack))
    client.post(
        f"/api/v1/sos/{ack['id']}/positions",
        json={"lat": 48.123456, "lon": 2.654321, "accuracy_m": 7},
        headers=_token(ack),
    )
    runtime = client.app.state.runtime  # type: ignore[attr-defined]
    with runtime.engine.connect() as conn:
        sos_text, client_hash, token_hash = conn.execute(
            text("SELECT text, client_hash, token_hash FROM sos")
        ).one()
        body = conn.execute(text("SELECT body FROM sos_message")).scalar_one()
        point = conn.execute(text("SELECT point FROM sos_position")).scalar_one()
    for blob in (sos_text, body):
        assert b"sous-sol" not in bytes(blob) and "sous-sol".encode("utf-16-le") not in bytes(blob)
    assert b"48.123456" not in bytes(point) and b"2.654321" not in bytes(point)
    assert ack["follow_up_token"] not in token_hash and len(token_hash) == 64
    assert len(client_hash) == 64


def test_dispatcher_reads_are_audited_with_reason(client: TestClient) -> None:
    ack = post_sos(client)
    dispatcher = login(client, Role.dispatcher, username="operatrice1")
    client.get(f"/api/v1/sos/{ack['id']}", params={"reason": "appel 17 en cours"},
               headers=dispatcher)
    admin = login(client, Role.admin)
    entries = client.get(
        "/api/v1/audit", params={"action": "read_sensitive"}, headers=admin
    ).json()
    items = entries["entries"]
    assert any(
        e["actor"] == "operatrice1" and e["object_id"] == ack["id"]
        and e["reason"] == "appel 17 en cours"
        for e in items
    ), entries


def test_closed_sos_takes_no_more_messages(client: TestClient) -> None:
    ack = post_sos(client)
    dispatcher = login(client, Role.dispatcher)
    closed = client.post(f"/api/v1/sos/{ack['id']}/close", headers=dispatcher)
    assert closed.status_code == 200 and closed.json()["status"] == "closed"
    again = client.post(f"/api/v1/sos/{ack['id']}/close", headers=dispatcher)
    assert again.status_code == 200
    late = client.post(f"/api/v1/sos/{ack['id']}/messages", json={"text": "allô"},
                       headers=_token(ack))
    assert late.status_code == 409
    assert client.get(f"/api/v1/sos/{ack['id']}/follow-up",
                      headers=_token(ack)).json()["status"] == "closed"


def test_other_roles_cannot_read_an_sos(client: TestClient) -> None:
    ack = post_sos(client)
    for role in (Role.unit, Role.moderator, Role.admin):
        response = client.get(f"/api/v1/sos/{ack['id']}", headers=login(client, role))
        assert response.status_code == 403
    assert client.get(f"/api/v1/sos/{ack['id']}").status_code == 401
    assert client.get(f"/api/v1/sos/{ack['id']}", headers=_token(ack)).status_code == 401
