"""An open dispatch stream ends with its session (issue 19, finding 6), is audited, and is bounded.

The tester's stream kept delivering new SOS after logout, revoke-all and deactivation. Now the
stream re-checks its session every few seconds and before it sends anything, and closes with a
``closed`` event once the session, the account, its role or its 2FA requirement no longer
admit it.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import select, update

from tests.dispatch.test_stream import StreamReader, lonely_sos_body
from tests.factories import PASSWORD, make_user
from tests.served import serve_in_thread as serve
from tocsin.core import live
from tocsin.core.audit.models import AuditEntry
from tocsin.core.auth.models import UserAccount
from tocsin.core.auth.roles import Role
from tocsin.core.db import session_scope

S = "/api/v1/dispatch/stream"
# The stream's re-check interval is a few seconds; this leaves room on a loaded machine.
CLOSES_WITHIN = 15.0


def _account(app: FastAPI, base: str, role: Role = Role.dispatcher) -> tuple[str, str]:
    with session_scope(app.state.runtime.sessions) as session:
        name = make_user(session, role=role).username
    response = httpx.post(f"{base}/api/v1/auth/token",
                          data={"username": name, "password": PASSWORD})
    assert response.status_code == 200, response.text
    return name, str(response.json()["access_token"])


def _bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def _open(base: str, token: str) -> StreamReader:
    ticket = httpx.post(f"{base}{S}/ticket", headers=_bearer(token))
    assert ticket.status_code == 200, ticket.text
    reader = StreamReader(f"{base}{S}?ticket={ticket.json()['ticket']}")
    assert reader.status == 200
    reader.wait_for(lambda name, _: name == "ready")
    return reader


def _closes(reader: StreamReader) -> list[tuple[str, Any]]:
    """Wait for the server to end the stream; return every event it sent after ``ready``."""
    reader._thread.join(CLOSES_WITHIN)
    assert not reader._thread.is_alive(), "the stream is still open"
    seen = []
    while not reader.events.empty():
        seen.append(reader.events.get_nowait())
    return seen


def _logout(app: FastAPI, base: str, name: str, token: str) -> None:
    assert httpx.post(f"{base}/api/v1/auth/logout", headers=_bearer(token)).status_code == 204


def _revoke_all(app: FastAPI, base: str, name: str, token: str) -> None:
    _, admin = _account(app, base, Role.admin)
    done = httpx.post(f"{base}/api/v1/users/{name}/sessions/revoke", headers=_bearer(admin))
    assert done.status_code == 200, done.text


def _deactivate(app: FastAPI, base: str, name: str, token: str) -> None:
    _, admin = _account(app, base, Role.admin)
    done = httpx.patch(f"{base}/api/v1/users/{name}", headers=_bearer(admin),
                       json={"is_active": False})
    assert done.status_code == 200, done.text


def _inactive_in_database(app: FastAPI, base: str, name: str, token: str) -> None:
    """The account is off even if nothing revoked its tokens (an operator's direct change)."""
    with session_scope(app.state.runtime.sessions) as session:
        session.execute(update(UserAccount).where(UserAccount.username == name)
                        .values(is_active=False))


def _role_changed(app: FastAPI, base: str, name: str, token: str) -> None:
    with session_scope(app.state.runtime.sessions) as session:
        session.execute(update(UserAccount).where(UserAccount.username == name)
                        .values(role=Role.unit.value))


def _2fa_now_required(app: FastAPI, base: str, name: str, token: str) -> None:
    _, admin = _account(app, base, Role.admin)
    done = httpx.put(f"{base}/api/v1/auth/mfa/policy/dispatcher", headers=_bearer(admin),
                     json={"required": True})
    assert done.status_code == 200, done.text


@pytest.mark.parametrize("end", [_logout, _revoke_all, _deactivate, _inactive_in_database,
                                 _role_changed, _2fa_now_required],
                         ids=lambda f: f.__name__.strip("_"))
def test_the_stream_closes_when_its_session_no_longer_admits_it(
    make_app: Callable[..., FastAPI], end: Callable[[FastAPI, str, str, str], None]
) -> None:
    app = make_app()
    with serve(app) as base:
        name, token = _account(app, base)
        reader = _open(base, token)
        try:
            end(app, base, name, token)
            ack = httpx.post(f"{base}/api/v1/sos", json=lonely_sos_body()).json()
            seen = _closes(reader)
        finally:
            reader.close()
    names = [n for n, _ in seen]
    assert names[-1:] == ["closed"], names
    late = [d for n, d in seen if n == "sos.created" and d["data"]["sos_id"] == ack["id"]]
    assert late == [], "an SOS reached a stream whose session had ended"


def test_opening_the_stream_is_audited_with_what_it_carries(
    make_app: Callable[..., FastAPI],
) -> None:
    app = make_app()
    with serve(app) as base:
        name, token = _account(app, base)
        reader = _open(base, token)
        reader.close()
    with session_scope(app.state.runtime.sessions) as session:
        entries = session.scalars(select(AuditEntry).where(AuditEntry.actor == name)).all()
    opened = [e for e in entries if e.object_type == "dispatch_stream"]
    assert len(opened) == 1, [(e.action, e.object_type) for e in entries]
    assert opened[0].action == "read_sensitive" and opened[0].role == "dispatcher"
    assert "sos.position" in opened[0].reason  # it names the sealed trail points it carries
    assert len(opened[0].object_id) == 16  # the public id of the session that opened it


def test_one_account_holds_a_bounded_number_of_streams(
    make_app: Callable[..., FastAPI],
) -> None:
    app = make_app()
    runtime = app.state.runtime
    runtime.states.put(live.LiveHub(
        runtime, live.LiveSettings(per_address=10, per_account=2, total=10)))
    with serve(app) as base:
        _, token = _account(app, base)
        readers = [_open(base, token), _open(base, token)]
        try:
            ticket = httpx.post(f"{base}{S}/ticket", headers=_bearer(token)).json()["ticket"]
            third = httpx.get(f"{base}{S}?ticket={ticket}",
                              headers={"Accept": "text/event-stream"})
            assert third.status_code == 429, third.text
            assert "account" in third.json()["error"]["message"]
            # Another account from the same address still gets in.
            _, other = _account(app, base)
            readers.append(_open(base, other))
        finally:
            for reader in readers:
                reader.close()
