"""First 2FA enrolment needs an activation code from an administrator (issue 19, finding 11).

Before, whoever had an account's password could enrol their own authenticator on it (and so
keep the account once the owner noticed); the code proves the enrolment is the owner's.
"""

from __future__ import annotations

import datetime as dt

from fastapi.testclient import TestClient
from sqlalchemy import select, update

from tests.core.test_mfa import code
from tests.factories import PASSWORD, create_account, login
from tocsin.core.auth.roles import Role
from tocsin.core.db import session_scope

TOKEN = "/api/v1/auth/token"


def _issue(client: TestClient, admin: dict[str, str], name: str) -> str:
    r = client.post(f"/api/v1/users/{name}/mfa/activation", headers=admin)
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["username"] == name and body["expires_at"]
    return str(body["activation_code"])


def test_the_password_alone_cannot_enrol(client: TestClient) -> None:
    headers = login(client, Role.dispatcher, username="op.act")
    assert client.post("/api/v1/auth/mfa/totp", headers=headers).status_code == 422
    guessed = client.post("/api/v1/auth/mfa/totp", json={"activation_code": "abcd-efgh-jkmn-pqrs"},
                          headers=headers)
    assert guessed.status_code == 403
    assert guessed.json()["error"]["code"] == "invalid_activation_code"
    assert not client.get("/api/v1/auth/mfa", headers=headers).json()["pending"]


def test_an_admin_code_enrols_once(client: TestClient) -> None:
    admin = login(client, Role.admin)
    headers = login(client, Role.analyst, username="analyst.act")
    activation = _issue(client, admin, "analyst.act")
    started = client.post("/api/v1/auth/mfa/totp", json={"activation_code": activation},
                          headers=headers)
    assert started.status_code == 200, started.text
    secret = started.json()["secret"]
    # Confirming needs the activation code too, and spends it.
    missing = client.post("/api/v1/auth/mfa/totp/confirm", json={"code": code(secret)},
                          headers=headers)
    assert missing.status_code == 422 and "activation_code" in missing.text
    ok = client.post("/api/v1/auth/mfa/totp/confirm",
                     json={"code": code(secret), "activation_code": activation.upper()},
                     headers=headers)
    assert ok.status_code == 200, ok.text
    # Stored only hashed, and spent.
    from tocsin.core.auth.models import AccountCode

    runtime = client.app.state.runtime  # type: ignore[attr-defined]
    with session_scope(runtime.sessions) as session:
        row = session.scalars(select(AccountCode)).one()
        assert activation.replace("-", "") not in row.code_hash and row.used_at is not None
    # After a reset (lost phone), the old code does not enrol again: a new one is needed.
    assert client.post("/api/v1/users/analyst.act/mfa/reset", headers=admin).status_code == 204
    again = login_again(client, "analyst.act")
    reused = client.post("/api/v1/auth/mfa/totp", json={"activation_code": activation},
                         headers=again)
    assert reused.status_code == 403
    fresh = _issue(client, admin, "analyst.act")
    assert client.post("/api/v1/auth/mfa/totp", json={"activation_code": fresh},
                       headers=again).status_code == 200
    actions = [e["action"] for e in client.get("/api/v1/audit", headers=admin).json()["entries"]]
    assert actions.count("mfa_activation_issued") == 2


def test_a_new_code_replaces_the_old_and_codes_expire(client: TestClient) -> None:
    admin = login(client, Role.admin)
    headers = login(client, Role.unit, username="patrol.act")
    first = _issue(client, admin, "patrol.act")
    second = _issue(client, admin, "patrol.act")
    assert first != second
    refused = client.post("/api/v1/auth/mfa/totp", json={"activation_code": first},
                          headers=headers)
    assert refused.status_code == 403
    from tocsin.core.auth.models import AccountCode

    runtime = client.app.state.runtime  # type: ignore[attr-defined]
    with session_scope(runtime.sessions) as session:
        session.execute(update(AccountCode).values(
            expires_at=dt.datetime.now(dt.UTC) - dt.timedelta(seconds=1)))
    expired = client.post("/api/v1/auth/mfa/totp", json={"activation_code": second},
                          headers=headers)
    assert expired.status_code == 403


def test_another_accounts_code_does_not_work(client: TestClient) -> None:
    admin = login(client, Role.admin)
    mine = login(client, Role.unit, username="patrol.mine")
    create_account(client, Role.unit, username="patrol.other")
    other = _issue(client, admin, "patrol.other")
    r = client.post("/api/v1/auth/mfa/totp", json={"activation_code": other}, headers=mine)
    assert r.status_code == 403


def test_only_admins_issue_codes_and_unknown_accounts_are_named(client: TestClient) -> None:
    admin = login(client, Role.admin)
    for role in (Role.dispatcher, Role.analyst, Role.partner):
        other = login(client, role)
        r = client.post("/api/v1/users/nobody/mfa/activation", headers=other)
        assert r.status_code == 403, role
    assert client.post("/api/v1/users/nobody/mfa/activation").status_code == 401
    missing = client.post("/api/v1/users/nobody/mfa/activation", headers=admin)
    assert missing.status_code == 404
    org = create_account(client, Role.organisation)
    not_offered = client.post(f"/api/v1/users/{org}/mfa/activation", headers=admin)
    assert not_offered.status_code == 422


def login_again(client: TestClient, name: str) -> dict[str, str]:
    r = client.post(TOKEN, data={"username": name, "password": PASSWORD})
    assert r.status_code == 200, r.text
    return {"Authorization": f"Bearer {r.json()['access_token']}"}
