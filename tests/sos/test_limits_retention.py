"""Rate limits (a flood is stopped, a new device never is) and the retention purge."""

from __future__ import annotations

import datetime as dt
import uuid

from fastapi import HTTPException
from fastapi.testclient import TestClient

from tests.factories import login
from tests.sos.factories import count_rows, post_sos, sos_body
from tocsin.core.auth.roles import Role
from tocsin.core.db import session_scope, utcnow
from tocsin.retention import purge_all
from tocsin.sos import service
from tocsin.sos.config import SosSettings
from tocsin.sos.lifecycle import SosState
from tocsin.sos.limits import SosLimiter
from tocsin.sos.retention import purge


def _frozen_clock(client: TestClient) -> None:
    """No refill during the test: a slow machine must not blur the counts."""
    state = client.app.state.runtime.state(SosState)  # type: ignore[attr-defined]
    state.limiter = SosLimiter(SosSettings(), clock=lambda: 1000.0)


def test_a_venue_of_300_phones_behind_one_nat_all_get_through(client: TestClient) -> None:
    _frozen_clock(client)
    # TestClient sends every request from one address, like a concert hall's NAT.
    for _ in range(300):
        headers = {"X-Device-Token": uuid.uuid4().hex}
        response = client.post("/api/v1/sos", json=sos_body(), headers=headers)
        assert response.status_code == 201, response.text
    assert count_rows(client) == 300


def test_one_device_flooding_is_stopped_but_a_new_device_is_not(client: TestClient) -> None:
    _frozen_clock(client)
    flooder = {"X-Device-Token": "flooding-device-0001"}
    codes = [
        client.post("/api/v1/sos", json=sos_body(), headers=flooder).status_code
        for _ in range(25)
    ]
    assert codes.count(201) == SosSettings().device_burst
    assert codes[-1] == 429
    refused = client.post("/api/v1/sos", json=sos_body(), headers=flooder)
    assert refused.status_code == 429 and int(refused.headers["Retry-After"]) >= 1
    # A first SOS from a new device at the same address goes through, with or without a token.
    assert client.post("/api/v1/sos", json=sos_body()).status_code == 201
    newcomer = {"X-Device-Token": "a-brand-new-phone-42"}
    assert client.post("/api/v1/sos", json=sos_body(), headers=newcomer).status_code == 201
    assert count_rows(client) == SosSettings().device_burst + 2


def test_same_client_id_flood_is_stopped(client: TestClient) -> None:
    _frozen_clock(client)
    body = sos_body()
    codes = [client.post("/api/v1/sos", json=body).status_code for _ in range(15)]
    assert codes[0] == 201 and set(codes[1:10]) == {200} and codes[-1] == 429
    assert count_rows(client) == 1


def test_follow_up_flood_is_stopped(client: TestClient) -> None:
    _frozen_clock(client)
    ack = post_sos(client)
    headers = {"X-Follow-Up-Token": ack["follow_up_token"]}
    codes = [
        client.get(f"/api/v1/sos/{ack['id']}/follow-up", headers=headers).status_code
        for _ in range(40)
    ]
    assert codes.count(200) == SosSettings().follow_up_burst and codes[-1] == 429


def test_purge_removes_expired_sos_with_chat_and_trail(client: TestClient) -> None:
    old = post_sos(client)
    kept_closed = post_sos(client)
    kept_open = post_sos(client)
    token = {"X-Follow-Up-Token": old["follow_up_token"]}
    client.post(f"/api/v1/sos/{old['id']}/messages", json={"text": "au secours"}, headers=token)
    client.post(f"/api/v1/sos/{old['id']}/positions",
                json={"lat": 48.8, "lon": 2.3, "accuracy_m": 5}, headers=token)
    dispatcher = login(client, Role.dispatcher)
    for ack in (old, kept_closed):
        assert client.post(f"/api/v1/sos/{ack['id']}/close", headers=dispatcher).status_code == 200
    runtime = client.app.state.runtime  # type: ignore[attr-defined]
    cfg = SosSettings()
    now = utcnow()
    with session_scope(runtime.sessions) as session:
        sos = service.get_sos(session, sos_id=old["id"])
        sos.closed_at = now - dt.timedelta(days=cfg.retention_days + 1)
    with session_scope(runtime.sessions) as session:
        counts = purge(session, now=now)
    assert counts == {"sos": 1, "sos_message": 1, "sos_position": 1}
    assert count_rows(client) == 2
    # Through ``tocsin purge`` (every domain), far in the future: the open one expires too.
    later = now + dt.timedelta(days=cfg.open_expiry_days + 1)
    with session_scope(runtime.sessions) as session:
        totals = purge_all(session, later)
    assert totals["sos"] == 2
    assert count_rows(client) == 0
    assert kept_open["id"] != kept_closed["id"]


def test_wrong_tokens_never_spend_the_callers_follow_up_budget(client: TestClient) -> None:
    """Issue 19: knowing an SOS id must not be enough to cut its caller off."""
    _frozen_clock(client)
    ack = post_sos(client)
    url = f"/api/v1/sos/{ack['id']}/follow-up"
    wrong = {"X-Follow-Up-Token": "not-the-token"}
    codes = [client.get(url, headers=wrong).status_code for _ in range(80)]
    # Refused (403), then held to the address's budget of wrong tokens (429 with Retry-After).
    assert codes[0] == 403 and codes[-1] == 429
    refused = client.get(url, headers=wrong)
    assert refused.status_code == 429 and int(refused.headers["Retry-After"]) >= 1
    posted = client.post(f"/api/v1/sos/{ack['id']}/messages", json={"text": "x"}, headers=wrong)
    assert posted.status_code == 429
    # The caller (here behind the very same address) still has its whole budget.
    right = {"X-Follow-Up-Token": ack["follow_up_token"]}
    ok = [client.get(url, headers=right).status_code for _ in range(SosSettings().follow_up_burst)]
    assert set(ok) == {200}
    assert client.get(url, headers=right).status_code == 429  # its own flood is still stopped


def test_wrong_token_budget_is_per_address() -> None:
    limiter = SosLimiter(SosSettings(), clock=lambda: 1000.0)
    refusals = 0
    for _ in range(SosSettings().wrong_token_burst + 1):
        try:
            limiter.count_wrong_token(address="198.51.100.7")
        except HTTPException as exc:
            assert exc.status_code == 429
            refusals += 1
    assert refusals == 1
    limiter.count_wrong_token(address="203.0.113.9")  # another address: untouched
    for _ in range(SosSettings().follow_up_burst):
        limiter.check_follow_up(sos_id="a" * 32)  # nor is any SOS's own budget
