"""Changing and resetting a password; every other session dies with the old one.

Issue 19, finding 13: there was no way to change a password, nor for an administrator to reset
a forgotten or leaked one.
"""

from __future__ import annotations

from collections.abc import Callable

from fastapi import FastAPI
from fastapi.testclient import TestClient

from tests.core.test_mfa import code, enrol
from tests.factories import PASSWORD, create_account, login
from tocsin.core.auth.roles import Role

TOKEN = "/api/v1/auth/token"
CHANGE = "/api/v1/auth/password"
REDEEM = "/api/v1/auth/password/reset"
NEW = "Another-Long-Secret-77"


def _token(client: TestClient, name: str, password: str = PASSWORD, **extra: str) -> str:
    r = client.post(TOKEN, data={"username": name, "password": password, **extra})
    assert r.status_code == 200, r.text
    return str(r.json()["access_token"])


def _bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def test_change_needs_the_current_password_and_revokes_other_sessions(
    client: TestClient,
) -> None:
    admin = login(client, Role.admin)
    name = create_account(client, Role.dispatcher, username="op.change")
    here, elsewhere = _bearer(_token(client, name)), _bearer(_token(client, name))
    wrong = client.post(CHANGE, json={"current_password": "Not-The-One-99", "new_password": NEW},
                        headers=here)
    assert wrong.status_code == 403 and wrong.json()["error"]["code"] == "wrong_password"
    weak = client.post(CHANGE, json={"current_password": PASSWORD, "new_password": "short"},
                       headers=here)
    assert weak.status_code == 422
    same = client.post(CHANGE, json={"current_password": PASSWORD, "new_password": PASSWORD},
                       headers=here)
    assert same.status_code == 422
    named = client.post(CHANGE, json={"current_password": PASSWORD,
                                      "new_password": "op.change-Secret-1"}, headers=here)
    assert named.status_code == 422
    assert client.get("/api/v1/auth/me", headers=elsewhere).status_code == 200  # nothing changed
    ok = client.post(CHANGE, json={"current_password": PASSWORD, "new_password": NEW},
                     headers=here)
    assert ok.status_code == 204, ok.text
    assert client.get("/api/v1/auth/me", headers=here).status_code == 200
    assert client.get("/api/v1/auth/me", headers=elsewhere).status_code == 401
    assert client.post(TOKEN, data={"username": name, "password": PASSWORD}).status_code == 401
    _token(client, name, NEW)
    entries = client.get("/api/v1/audit", params={"action": "password_changed"},
                         headers=admin).json()["entries"]
    assert [e["object_id"] for e in entries] == [name]


def test_change_needs_the_second_factor_where_enrolled(client: TestClient) -> None:
    headers = login(client, Role.analyst, username="analyst.pw")
    secret, _ = enrol(client, headers)
    body = {"current_password": PASSWORD, "new_password": NEW}
    missing = client.post(CHANGE, json=body, headers=headers)
    assert missing.status_code == 403 and missing.json()["error"]["code"] == "mfa_required"
    ok = client.post(CHANGE, json={**body, "otp": code(secret, ahead=1)}, headers=headers)
    assert ok.status_code == 204, ok.text


def test_wrong_current_passwords_are_throttled(make_app: Callable[..., FastAPI]) -> None:
    with TestClient(make_app(login_rate_per_minute=10_000)) as client:
        headers = login(client, Role.unit, username="patrol.pw")
        body = {"current_password": "Not-The-One-99", "new_password": NEW}
        codes = [client.post(CHANGE, json=body, headers=headers).status_code for _ in range(6)]
        assert codes == [403] * 5 + [429]


def test_admin_reset_revokes_everything_and_the_code_works_once(client: TestClient) -> None:
    admin = login(client, Role.admin)
    name = create_account(client, Role.authority, username="prefet.reset")
    session = _bearer(_token(client, name))
    issued = client.post(f"/api/v1/users/{name}/password/reset", headers=admin)
    assert issued.status_code == 200, issued.text
    reset_code = issued.json()["reset_code"]
    assert issued.json()["expires_at"]
    # Every session is gone, and the old password no longer opens the account.
    assert client.get("/api/v1/auth/me", headers=session).status_code == 401
    assert client.post(TOKEN, data={"username": name, "password": PASSWORD}).status_code == 401
    weak = client.post(REDEEM, json={"username": name, "code": reset_code, "new_password": "x"})
    assert weak.status_code == 422
    ok = client.post(REDEEM, json={"username": name, "code": reset_code, "new_password": NEW})
    assert ok.status_code == 204, ok.text
    _token(client, name, NEW)
    again = client.post(REDEEM, json={"username": name, "code": reset_code,
                                      "new_password": "Third-Long-Secret-88"})
    assert again.status_code == 401
    actions = [e["action"] for e in client.get("/api/v1/audit", headers=admin).json()["entries"]]
    assert "password_reset_issued" in actions and "password_reset" in actions


def test_a_wrong_code_and_an_unknown_user_answer_alike(client: TestClient) -> None:
    name = create_account(client, Role.unit, username="patrol.rst")
    a = client.post(REDEEM, json={"username": name, "code": "abcd-efgh-jkmn-pqrs",
                                  "new_password": NEW})
    b = client.post(REDEEM, json={"username": "nobody.here", "code": "abcd-efgh-jkmn-pqrs",
                                  "new_password": NEW})
    assert a.status_code == b.status_code == 401
    assert a.json() == b.json()
    assert client.post(TOKEN, data={"username": name, "password": PASSWORD}).status_code == 200


def test_only_admins_reset_and_bad_input_is_named(client: TestClient) -> None:
    admin = login(client, Role.admin)
    for role in (Role.dispatcher, Role.analyst, Role.partner, Role.organisation):
        other = login(client, role)
        assert client.post("/api/v1/users/x.y/password/reset", headers=other).status_code == 403
    assert client.post("/api/v1/users/x.y/password/reset").status_code == 401
    assert client.post("/api/v1/users/x.y/password/reset", headers=admin).status_code == 404
    assert client.post(CHANGE, json={"current_password": PASSWORD}).status_code == 401
    headers = login(client, Role.unit)
    for body in ({}, {"current_password": PASSWORD}, {"current_password": PASSWORD,
                                                      "new_password": NEW, "x": 1}):
        r = client.post(CHANGE, json=body, headers=headers)
        assert r.status_code == 422 and r.json()["error"]["message"]
    r = client.post(REDEEM, json={"username": "a", "code": "b"})
    assert r.status_code == 422
