"""Sessions: a person lists and revokes their own; an admin revokes all of an account's."""

from __future__ import annotations

from fastapi.testclient import TestClient

from tests.factories import PASSWORD, create_account, login
from tocsin.core.auth.roles import Role


def _login(client: TestClient, name: str, agent: str) -> dict[str, str]:
    answer = client.post("/api/v1/auth/token", data={"username": name, "password": PASSWORD},
                         headers={"User-Agent": agent})
    assert answer.status_code == 200
    return {"Authorization": f"Bearer {answer.json()['access_token']}"}


def test_list_and_revoke_own_sessions(client: TestClient) -> None:
    name = create_account(client, Role.dispatcher, username="op.sessions")
    laptop = _login(client, name, "Firefox on the console")
    phone = _login(client, name, "Phone " + "x" * 300)
    listed = client.get("/api/v1/auth/sessions", headers=laptop)
    assert listed.status_code == 200
    sessions = listed.json()
    assert len(sessions) == 2
    current = [s for s in sessions if s["current"]]
    assert len(current) == 1 and current[0]["user_agent"] == "Firefox on the console"
    other = next(s for s in sessions if not s["current"])
    assert len(other["user_agent"]) == 120 and other["ip"]  # cut short: minimal data
    assert current[0]["last_used_at"] is not None

    assert client.delete(f"/api/v1/auth/sessions/{other['id']}", headers=laptop).status_code \
        == 204
    assert client.get("/api/v1/auth/me", headers=phone).status_code == 401
    assert client.get("/api/v1/auth/me", headers=laptop).status_code == 200
    gone = client.delete(f"/api/v1/auth/sessions/{other['id']}", headers=laptop)
    assert gone.status_code == 404


def test_nobody_revokes_another_accounts_session_by_id(client: TestClient) -> None:
    a = create_account(client, Role.unit, username="patrol.a")
    b = login(client, Role.unit, username="patrol.b")
    a_headers = _login(client, a, "a")
    a_id = client.get("/api/v1/auth/sessions", headers=a_headers).json()[0]["id"]
    assert client.delete(f"/api/v1/auth/sessions/{a_id}", headers=b).status_code == 404
    assert client.get("/api/v1/auth/me", headers=a_headers).status_code == 200


def test_admin_revokes_every_session_of_an_account_and_it_is_audited(client: TestClient) -> None:
    admin = login(client, Role.admin)
    name = create_account(client, Role.authority, username="prefet.sessions")
    first, second = _login(client, name, "one"), _login(client, name, "two")
    revoked = client.post(f"/api/v1/users/{name}/sessions/revoke", headers=admin)
    assert revoked.status_code == 200 and revoked.json() == {"revoked": 2}
    assert client.get("/api/v1/auth/me", headers=first).status_code == 401
    assert client.get("/api/v1/auth/me", headers=second).status_code == 401
    missing = client.post("/api/v1/users/nobody/sessions/revoke", headers=admin)
    assert missing.status_code == 404
    entries = client.get("/api/v1/audit", params={"action": "revoke_all_sessions"},
                         headers=admin).json()["entries"]
    assert [(e["object_id"], e["reason"]) for e in entries] == [(name, "2 sessions")]
