"""No password, token, seal key or sealed plaintext in the logs of a real ``tocsin serve``.

The worker is a real subprocess (its own log configuration, with the operator's redacted access
log turned on: it is off by default), on this test's database in both modes. The test logs in
(rightly and wrongly), uses the token,
writes sealed fields, follows an SOS with its secret token, looks a safety mark up by its code and
opens a dispatch stream ticket; then reads everything the process printed.
"""

from __future__ import annotations

import secrets
from pathlib import Path
from types import SimpleNamespace

import httpx
import pytest
from sqlalchemy.orm import Session, sessionmaker

from tests.factories import PASSWORD
from tests.security.test_sealed_dump import write_sensitive_everywhere
from tests.served import free_port
from tests.sos.test_crash import serve
from tocsin.core.auth import service as auth_service
from tocsin.core.db import make_engine, make_sessionmaker, session_scope
from tocsin.core.settings import Settings


class _Http:
    """The TestClient face that ``write_sensitive_everywhere`` and the factories expect, over
    the served worker: requests go to the real process, accounts are committed in its database
    (``app.state.runtime.sessions``), and every token the server hands out is remembered so the
    log is searched for it too."""

    def __init__(self, http: httpx.Client, sessions: sessionmaker[Session]) -> None:
        self.http = http
        self.app = SimpleNamespace(state=SimpleNamespace(runtime=SimpleNamespace(
            sessions=sessions)))
        self.handed: list[str] = []

    def post(self, url: str, **kwargs: object) -> httpx.Response:
        response = self.http.post(url, **kwargs)  # type: ignore[arg-type]
        if url == "/api/v1/auth/token" and response.status_code == 200:
            self.handed.append(response.json()["access_token"])
        return response

    def get(self, url: str, **kwargs: object) -> httpx.Response:
        return self.http.get(url, **kwargs)  # type: ignore[arg-type]


def test_logs_hold_no_secret(settings: Settings, tmp_path: Path,
                             monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TOCSIN_ALERTS_WEBHOOK_HOSTS", "relay.example")
    monkeypatch.setenv("TOCSIN_WATCH_WEBHOOK_HOSTS", "platform.example")
    monkeypatch.setenv("TOCSIN_ACCESS_LOG", "redacted")
    port, log = free_port(), tmp_path / "serve.log"
    engine = make_engine(settings.resolved_database_url, pool_size=1)
    accounts: dict[str, str] = {}
    with session_scope(make_sessionmaker(engine)) as session:
        for role in ("authority", "admin", "dispatcher", "platform"):
            name = f"{role}{secrets.token_hex(3)}"
            auth_service.create_user(session, username=name, password=PASSWORD, role=role)
            accounts[role] = name
    secrets_seen: list[str] = [PASSWORD, settings.seal_key]
    tag = secrets.token_hex(8).upper()
    with serve(settings, port, log), httpx.Client(base_url=f"http://127.0.0.1:{port}",
                                                   timeout=20) as http:
        wrong = http.post("/api/v1/auth/token", data={"username": accounts["admin"],
                                                      "password": "Wrong-Password-77"})
        assert wrong.status_code == 401
        secrets_seen.append("Wrong-Password-77")
        tokens = {}
        for role, name in accounts.items():
            answer = http.post("/api/v1/auth/token", data={"username": name, "password": PASSWORD})
            assert answer.status_code == 200, answer.text
            tokens[role] = answer.json()["access_token"]
        secrets_seen += tokens.values()
        bearer = {"Authorization": f"Bearer {tokens['dispatcher']}"}
        assert http.get("/api/v1/auth/me", headers=bearer).status_code == 200
        ticket = http.post("/api/v1/dispatch/stream/ticket", headers=bearer)
        assert ticket.status_code in (200, 201), ticket.text
        secrets_seen += [str(v) for v in ticket.json().values() if isinstance(v, str)
                         and len(v) >= 16]

        # The shared writer logs in and creates accounts through the real factories, against
        # the served worker and its database: nothing here stands in for another module.
        adapter = _Http(http, make_sessionmaker(engine))
        handed: list[str] = []
        secrets_seen += write_sensitive_everywhere(adapter, tag, handed)  # type: ignore[arg-type]
        secrets_seen += handed + adapter.handed

        sos = http.post("/api/v1/sos", json={"lat": 48.86, "lon": 2.37, "accuracy_m": 10,
                                             "situation": "hidden", "client_id": tag.lower()})
        follow_token = sos.json()["follow_up_token"]
        secrets_seen.append(follow_token)
        assert http.get(f"/api/v1/sos/{sos.json()['id']}/follow-up",
                        headers={"X-Follow-Up-Token": follow_token}).status_code == 200
        assert http.post("/api/v1/auth/logout", headers=bearer).status_code == 204
        assert http.get("/api/v1/auth/me", headers=bearer).status_code == 401
        # A request made last, with a marker in its path: the log read below holds it, so the
        # search covers everything this run printed (not an early or empty file).
        last = f"/api/v1/last-request-{secrets.token_hex(4)}"
        assert http.get(last).status_code == 404
    engine.dispose()
    text = log.read_text(errors="replace")
    assert "POST /api/v1/auth/token" in text, "the access log must be on for this test to mean"
    assert last in text, "the log must hold the whole run"
    leaked = [s for s in secrets_seen if s and s in text]
    assert leaked == [], f"secrets in the log: {leaked}\n{text[-3000:]}"
