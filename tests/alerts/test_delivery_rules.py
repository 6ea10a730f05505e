"""Delivery rules through the real app and receivers: 410 ends a push subscription, 429 waits for
its Retry-After, a slow platform holds only its own host's slots, planning streams by pages."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import select

from tests.alerts.helpers import authorities, publish
from tests.alerts.receivers import Receiver, serve
from tests.alerts.test_fanout import Browser, _wait_settled
from tests.factories import login
from tocsin.alerts import planning
from tocsin.alerts.models import AlertDelivery, AlertSubscription
from tocsin.core.auth.roles import Role
from tocsin.core.db import utcnow


@pytest.fixture
def receivers() -> Iterator[tuple[Receiver, Receiver]]:
    with serve() as first, serve() as second:
        yield first, second


@pytest.fixture
def rules_client(make_app: Callable[..., FastAPI], receivers: tuple[Receiver, Receiver],
                 monkeypatch: pytest.MonkeyPatch) -> Iterator[TestClient]:
    hosts = ",".join(f"127.0.0.1:{r.port}" for r in receivers)
    monkeypatch.setenv("TOCSIN_ALERTS_WEBHOOK_HOSTS", hosts)
    monkeypatch.setenv("TOCSIN_ALERTS_PUSH_HOSTS", hosts)
    monkeypatch.setenv("TOCSIN_ALERTS_RETRY_BASE_SECONDS", "0.05")
    monkeypatch.setenv("TOCSIN_ALERTS_MAX_ATTEMPTS", "3")
    monkeypatch.setenv("TOCSIN_ALERTS_TIMEOUT_SECONDS", "15")
    monkeypatch.setenv("TOCSIN_ALERTS_PER_HOST", "2")
    monkeypatch.setenv("TOCSIN_ALERTS_CONCURRENCY", "4")
    with TestClient(make_app()) as client:
        yield client


def _subscribe(client: TestClient, url: str, browser: Browser) -> str:
    r = client.post("/api/v1/alerts/subscriptions", json={
        "endpoint": url, "keys": browser.keys, "lat": 48.86, "lon": 2.35})
    assert r.status_code == 201, r.text
    return str(r.json()["id"])


def test_gone_unsubscribes_and_busy_waits_for_retry_after(
        rules_client: TestClient, receivers: tuple[Receiver, Receiver]) -> None:
    client, (receiver, _) = rules_client, receivers
    gone = _subscribe(client, f"{receiver.base}/gone/1", Browser())
    busy_browser = Browser()
    _subscribe(client, f"{receiver.base}/busy/1", busy_browser)
    a, b = authorities(client)
    alert = publish(client, a, b)
    counts = _wait_settled(client, alert["id"], a, expect_total=2)
    assert counts == {"sent": 1, "failed": 1, "pending": 0}
    busy = [r for r in receiver.requests if r.path == "/busy/1"]
    assert len(busy) == 2  # the 429, then the retry
    # Backoff alone would have retried after 0.05 s; the push service asked for 1 s.
    assert busy_browser.decrypt(busy[1].body)["alert_id"] == alert["id"]
    assert len([r for r in receiver.requests if r.path == "/gone/1"]) == 1  # never retried
    runtime = client.app.state.runtime  # type: ignore[attr-defined]
    with runtime.sessions() as session:
        sub = session.get(AlertSubscription, gone)
        assert sub is not None and sub.expires_at <= utcnow()
        dead = session.scalars(select(AlertDelivery).where(
            AlertDelivery.subscription_id == gone)).one()
        assert dead.status == "dead" and "410" in (dead.last_error or "")
    # The next alert no longer targets the ended subscription.
    second = publish(client, a, b)
    _wait_settled(client, second["id"], a, expect_total=1)
    assert len([r for r in receiver.requests if r.path == "/gone/1"]) == 1


def test_busy_retry_waits_the_announced_delay(
        rules_client: TestClient, receivers: tuple[Receiver, Receiver]) -> None:
    client, (receiver, _) = rules_client, receivers
    browser = Browser()
    _subscribe(client, f"{receiver.base}/busy/2", browser)
    a, b = authorities(client)
    alert = publish(client, a, b)
    _wait_settled(client, alert["id"], a, expect_total=1)
    stamps = []
    for _ in range(50):
        stamps = [r for r in receiver.requests if r.path == "/busy/2"]
        if len(stamps) == 2:
            break
        time.sleep(0.05)
    assert len(stamps) == 2
    # The receiver records no time; the settled wait above took at least the Retry-After.
    runtime = client.app.state.runtime  # type: ignore[attr-defined]
    with runtime.sessions() as session:
        row = session.scalars(select(AlertDelivery).where(
            AlertDelivery.alert_id == alert["id"])).one()
        assert row.status == "sent" and row.attempts == 2
        assert row.sent_at is not None
        assert (row.sent_at - row.created_at).total_seconds() >= 1.0


def test_a_slow_platform_holds_only_its_own_host(
        rules_client: TestClient, receivers: tuple[Receiver, Receiver]) -> None:
    """Four webhooks on a host answering after 5 s, two on another: with two slots per host and
    four sends in flight per worker, the fast host's are not queued behind the slow ones."""
    client, (slow, fast) = rules_client, receivers
    platform = login(client, Role.platform)
    for n in range(4):
        r = client.post("/api/v1/alerts/webhooks", json={"url": f"{slow.base}/slow/{n}"},
                        headers=platform)
        assert r.status_code == 201, r.text
    for n in range(2):
        r = client.post("/api/v1/alerts/webhooks", json={"url": f"{fast.base}/hook/{n}"},
                        headers=platform)
        assert r.status_code == 201, r.text
    a, b = authorities(client)
    start = time.monotonic()
    alert = publish(client, a, b)
    while len(fast.requests) < 2:
        assert time.monotonic() - start < 4.5, "the fast host waited for the slow one"
        time.sleep(0.02)
    # The slow host never had more than its two slots busy at once.
    time.sleep(1.0)
    assert len(slow.requests) == 2
    counts = _wait_settled(client, alert["id"], a, expect_total=6)
    assert counts["sent"] == 6


def test_planning_commits_page_by_page(rules_client: TestClient,
                                       receivers: tuple[Receiver, Receiver],
                                       monkeypatch: pytest.MonkeyPatch) -> None:
    """Each page of the area's subscribers is committed (visible to every worker) before the
    next is read, so sending starts on the first page; planning again adds nothing."""
    client, (receiver, _) = rules_client, receivers
    for n in range(12):
        _subscribe(client, f"{receiver.base}/push/{n}", Browser())
    runtime = client.app.state.runtime  # type: ignore[attr-defined]
    a, b = authorities(client)
    plan = planning.plan_streaming
    asked: list[str] = []
    # The worker's own planning is held back, so this test's call is the only one.
    monkeypatch.setattr(planning, "plan_streaming",
                        lambda factory, alert_id, **kw: asked.append(alert_id) or 0)
    monkeypatch.setattr(planning, "CHUNK", 5)
    alert = publish(client, a, b, status="Exercise")
    deadline = time.monotonic() + 10
    while alert["id"] not in asked:
        assert time.monotonic() < deadline, "the worker never asked to plan"
        time.sleep(0.05)
    seen: list[int] = []

    def on_chunk(added: int) -> None:
        with runtime.sessions() as other:  # another connection: only committed rows
            seen.append(len(other.scalars(select(AlertDelivery.id).where(
                AlertDelivery.alert_id == alert["id"])).all()))

    assert plan(runtime.sessions, alert["id"], on_chunk=on_chunk) == 12
    assert seen == [5, 10, 12]
    assert plan(runtime.sessions, alert["id"], on_chunk=on_chunk) == 0  # idempotent
    assert seen == [5, 10, 12]
    _wait_settled(client, alert["id"], a, expect_total=12)  # the worker sends what was planned
