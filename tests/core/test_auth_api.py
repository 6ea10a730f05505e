"""Login, tokens, the sign-in throttle and account administration through the HTTP API."""

from __future__ import annotations

import datetime as dt

from fastapi.testclient import TestClient
from sqlalchemy import func, select

from tests.factories import PASSWORD, create_account, login
from tocsin.core.auth import service
from tocsin.core.auth.models import UserAccount
from tocsin.core.auth.roles import Role
from tocsin.core.db import session_scope


def _user_count(client: TestClient) -> int:
    with session_scope(client.app.state.runtime.sessions) as session:  # type: ignore[attr-defined]
        return int(session.scalar(select(func.count()).select_from(UserAccount)) or 0)


def test_login_returns_bearer_token_that_identifies_the_account(client: TestClient) -> None:
    name = create_account(client, Role.dispatcher)
    response = client.post("/api/v1/auth/token", data={"username": name, "password": PASSWORD})
    assert response.status_code == 200
    body = response.json()
    assert body["token_type"] == "bearer" and body["role"] == "dispatcher"
    me = client.get("/api/v1/auth/me", headers={"Authorization": f"Bearer {body['access_token']}"})
    assert me.json() == {"username": name, "role": "dispatcher"}


def test_wrong_password_and_unknown_user_get_the_same_401(client: TestClient) -> None:
    name = create_account(client, Role.unit)
    wrong = client.post("/api/v1/auth/token", data={"username": name, "password": "nope-nope-1"})
    unknown = client.post("/api/v1/auth/token", data={"username": "ghost", "password": "x"})
    assert wrong.status_code == unknown.status_code == 401
    assert wrong.json()["error"]["message"] == unknown.json()["error"]["message"]


def test_repeated_failures_from_one_address_wait_with_retry_after(client: TestClient) -> None:
    """From the guesser's address only: tests/core/test_login_throttle.py shows the owner
    elsewhere still gets in."""
    name = create_account(client, Role.authority)
    for _ in range(5):
        client.post("/api/v1/auth/token", data={"username": name, "password": "bad-password-1"})
    locked = client.post("/api/v1/auth/token", data={"username": name, "password": PASSWORD})
    assert locked.status_code == 429
    assert int(locked.headers["Retry-After"]) >= 1


def test_logout_revokes_the_token(client: TestClient) -> None:
    headers = login(client, Role.analyst)
    assert client.get("/api/v1/auth/me", headers=headers).status_code == 200
    assert client.post("/api/v1/auth/logout", headers=headers).status_code == 204
    again = client.get("/api/v1/auth/me", headers=headers)
    assert again.status_code == 401
    assert again.headers["WWW-Authenticate"] == "Bearer"


def test_expired_token_is_refused(client: TestClient) -> None:
    name = create_account(client, Role.moderator)
    runtime = client.app.state.runtime  # type: ignore[attr-defined]
    with session_scope(runtime.sessions) as session:
        user = session.scalar(select(UserAccount).where(UserAccount.username == name))
        assert user is not None
        past = dt.datetime.now(dt.UTC) - dt.timedelta(hours=2)
        token = service.issue_token(session, user=user, ttl=dt.timedelta(hours=1), now=past)
    response = client.get("/api/v1/auth/me", headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 401
    assert "expired" in response.json()["error"]["message"]


def test_garbage_token_is_refused(client: TestClient) -> None:
    response = client.get("/api/v1/auth/me", headers={"Authorization": "Bearer " + "x" * 500})
    assert response.status_code == 401


def test_admin_creates_account_and_it_is_audited(client: TestClient) -> None:
    admin = login(client, Role.admin)
    body = {"username": "prefet.paris", "password": "Tres-Long-Secret-75", "role": "authority"}
    response = client.post("/api/v1/users", json=body, headers=admin)
    assert response.status_code == 201
    assert response.json()["role"] == "authority"
    audit = client.get("/api/v1/audit", params={"action": "create_account"}, headers=admin).json()
    assert [e["object_id"] for e in audit["entries"]] == ["prefet.paris"]


def test_bad_account_requests_are_refused_and_change_nothing(client: TestClient) -> None:
    admin = login(client, Role.admin)
    create_account(client, Role.unit, username="patrol.one")
    before = _user_count(client)
    cases = [
        ({"username": "new.user", "password": "Tres-Long-Secret-75", "role": "wizard"}, 422),
        ({"username": "new.user", "password": "", "role": "unit"}, 422),
        ({"username": "new.user", "password": "short1A", "role": "unit"}, 422),
        ({"username": "new.user", "password": "aaaaaaaaaaaaaaaa", "role": "unit"}, 422),
        ({"username": "patrol.one", "password": "Tres-Long-Secret-75", "role": "unit"}, 409),
        ({"username": "x", "password": "Tres-Long-Secret-75", "role": "unit"}, 422),
        ({"username": "new.user", "role": "unit"}, 422),
        ({"username": "new.user", "password": "Tres-Long-Secret-75", "role": "unit", "x": 1}, 422),
    ]
    for body, status in cases:
        response = client.post("/api/v1/users", json=body, headers=admin)
        assert response.status_code == status, (body, response.text)
        error = response.json()["error"]
        assert error["code"] and error["message"]
    assert _user_count(client) == before


def test_malformed_wrong_type_and_oversized_bodies(client: TestClient) -> None:
    admin = login(client, Role.admin)
    json_headers = {**admin, "Content-Type": "application/json"}
    malformed = client.post("/api/v1/users", content=b'{"username": ', headers=json_headers)
    assert malformed.status_code == 422
    assert "JSON" in malformed.json()["error"]["message"]
    wrong_type = client.post(
        "/api/v1/users", content=b"<x/>", headers={**admin, "Content-Type": "image/png"}
    )
    assert wrong_type.status_code == 415
    huge = client.post("/api/v1/users", content=b"{" + b" " * 2_000_000 + b"}",
                       headers=json_headers)
    assert huge.status_code == 413
    assert huge.json()["error"]["code"] == "payload_too_large"


def test_deactivated_account_loses_its_tokens(client: TestClient) -> None:
    admin = login(client, Role.admin)
    unit = login(client, Role.unit, username="patrol.two")
    response = client.patch("/api/v1/users/patrol.two", json={"is_active": False}, headers=admin)
    assert response.status_code == 200
    assert client.get("/api/v1/auth/me", headers=unit).status_code == 401
    missing = client.patch("/api/v1/users/nobody", json={"is_active": False}, headers=admin)
    assert missing.status_code == 404


def test_admin_cannot_lock_everyone_out(client: TestClient) -> None:
    admin = login(client, Role.admin, username="only.admin")
    own = client.patch("/api/v1/users/only.admin", json={"is_active": False}, headers=admin)
    assert own.status_code == 409 and "own account" in own.json()["error"]["message"]
    second = login(client, Role.admin, username="second.admin")
    assert client.patch(
        "/api/v1/users/only.admin", json={"is_active": False}, headers=second
    ).status_code == 200
    last = client.patch("/api/v1/users/second.admin", json={"is_active": False}, headers=second)
    assert last.status_code == 409
