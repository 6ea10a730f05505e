"""Small factories for tests: accounts and logged-in headers."""

from __future__ import annotations

import itertools

from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from tocsin.core.auth import service as auth_service
from tocsin.core.auth.models import UserAccount
from tocsin.core.auth.roles import Role
from tocsin.core.db import session_scope

PASSWORD = "Correct-Horse-42"
_counter = itertools.count(1)


def make_user(db: Session, *, role: Role | str = Role.dispatcher, username: str | None = None,
              password: str = PASSWORD) -> UserAccount:
    """Add an account in ``db`` (flushed, not committed)."""
    name = username or f"{Role(role).value}{next(_counter)}"
    return auth_service.create_user(db, username=name, password=password, role=str(Role(role)))


def create_account(client: TestClient, role: Role | str, username: str | None = None) -> str:
    """Commit an account in the client's database and return its username."""
    runtime = client.app.state.runtime  # type: ignore[attr-defined]
    with session_scope(runtime.sessions) as session:
        user = make_user(session, role=role, username=username)
        return user.username


def login(client: TestClient, role: Role | str, username: str | None = None) -> dict[str, str]:
    """Create an account with ``role`` and return bearer headers for it."""
    name = create_account(client, role, username)
    response = client.post("/api/v1/auth/token", data={"username": name, "password": PASSWORD})
    assert response.status_code == 200, response.text
    return {"Authorization": f"Bearer {response.json()['access_token']}"}
