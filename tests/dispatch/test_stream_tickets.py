"""Stream tickets (issue 19, finding 7): one stream, once, for 60 s, dead with their session.

A ticket used to be a 60-second bearer token: it opened every dispatcher route, could mint the
next ticket after its session ended, and was no session its owner could see. The stream is
opened over a real socket (a test client would wait for an endless response forever).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterator

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import update

from tests.dispatch.test_stream_revocation import _account, _bearer
from tests.served import serve_in_thread
from tocsin.core.auth.roles import Role
from tocsin.core.db import session_scope, utcnow

S = "/api/v1/dispatch/stream"
EVENTS = {"Accept": "text/event-stream"}


@pytest.fixture
def served(make_app: Callable[..., FastAPI]) -> Iterator[tuple[FastAPI, str]]:
    app = make_app()
    with serve_in_thread(app) as base:
        yield app, base


def _ticket(base: str, token: str) -> str:
    response = httpx.post(f"{base}{S}/ticket", headers=_bearer(token))
    assert response.status_code == 200, response.text
    assert response.json()["expires_in"] == 60
    return str(response.json()["ticket"])


def _open(base: str, ticket: str, headers: dict[str, str] = EVENTS) -> httpx.Response:
    """Open the stream with ``ticket``; the answer's status and body, unless it streams."""
    with httpx.stream("GET", f"{base}{S}", params={"ticket": ticket}, headers=headers,
                      timeout=10) as response:
        if response.status_code != 200:
            response.read()
        return response


def test_a_ticket_opens_no_other_route(served: tuple[FastAPI, str]) -> None:
    app, base = served
    _, token = _account(app, base)
    ticket = _bearer(_ticket(base, token))
    for method, path in [("GET", "/api/v1/dispatch/incidents"), ("GET", "/api/v1/auth/me"),
                         ("POST", f"{S}/ticket"), ("GET", "/api/v1/auth/sessions")]:
        assert httpx.request(method, f"{base}{path}", headers=ticket).status_code == 401, path
    # Not even the stream itself as a bearer header: a ticket goes in the query, once.
    with httpx.stream("GET", f"{base}{S}", headers={**ticket, **EVENTS}, timeout=10) as opened:
        assert opened.status_code == 401


def test_a_ticket_is_not_a_session(served: tuple[FastAPI, str]) -> None:
    app, base = served
    _, token = _account(app, base)
    before = httpx.get(f"{base}/api/v1/auth/sessions", headers=_bearer(token)).json()
    _ticket(base, token)
    after = httpx.get(f"{base}/api/v1/auth/sessions", headers=_bearer(token)).json()
    assert [s["id"] for s in after] == [s["id"] for s in before]


def test_a_ticket_dies_with_its_session(served: tuple[FastAPI, str]) -> None:
    app, base = served
    _, token = _account(app, base)
    ticket = _ticket(base, token)
    assert httpx.post(f"{base}/api/v1/auth/logout", headers=_bearer(token)).status_code == 204
    assert _open(base, ticket).status_code == 401


def test_a_ticket_minted_before_2fa_was_required_does_not_open_the_stream(
    served: tuple[FastAPI, str],
) -> None:
    app, base = served
    _, token = _account(app, base)
    ticket = _ticket(base, token)
    _, admin = _account(app, base, Role.admin)
    required = httpx.put(f"{base}/api/v1/auth/mfa/policy/dispatcher", headers=_bearer(admin),
                         json={"required": True})
    assert required.status_code == 200, required.text
    refused = _open(base, ticket)
    assert refused.status_code == 403, refused.status_code
    assert "two-factor" in refused.json()["error"]["message"]


def test_an_expired_ticket_is_refused(served: tuple[FastAPI, str]) -> None:
    from tocsin.core.auth.tickets import StreamTicket

    app, base = served
    _, token = _account(app, base)
    ticket = _ticket(base, token)
    with session_scope(app.state.runtime.sessions) as session:
        session.execute(update(StreamTicket).values(
            expires_at=utcnow() - dt.timedelta(seconds=1)))
    assert _open(base, ticket).status_code == 401


def test_a_ticket_is_bound_to_its_route(served: tuple[FastAPI, str]) -> None:
    from tocsin.core.auth import tickets

    app, base = served
    _, token = _account(app, base)
    with session_scope(app.state.runtime.sessions) as session:
        other = tickets.issue(session, session_token=token, route="elsewhere.stream")
    assert _open(base, other).status_code == 401


def test_a_ticket_opens_the_stream_once_and_a_bad_request_does_not_spend_it(
    served: tuple[FastAPI, str],
) -> None:
    app, base = served
    _, token = _account(app, base)
    ticket = _ticket(base, token)
    assert _open(base, ticket, headers={}).status_code == 406  # no Accept: kept
    assert _open(base, ticket).status_code == 200
    assert _open(base, ticket).status_code == 401  # once


def test_other_roles_get_no_ticket(served: tuple[FastAPI, str]) -> None:
    app, base = served
    for role in (Role.unit, Role.admin, Role.authority):
        _, token = _account(app, base, role)
        assert httpx.post(f"{base}{S}/ticket", headers=_bearer(token)).status_code == 403
    assert httpx.post(f"{base}{S}/ticket").status_code == 401
