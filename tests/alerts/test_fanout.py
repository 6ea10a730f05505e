"""Fan-out to real receivers on loopback: signed webhooks, Web Push (VAPID), retries, targeting."""

from __future__ import annotations

import base64
import datetime as dt
import json
import os
import time
import uuid
from collections.abc import Callable, Iterator

import http_ece
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from tests.alerts.helpers import alert_body, authorities, publish
from tests.alerts.receivers import Receiver, b64url_decode, serve, verify_vapid
from tests.factories import login
from tocsin.alerts import retention
from tocsin.alerts.models import AlertSubscription
from tocsin.alerts.senders import SIGNATURE_HEADER, verify_signature
from tocsin.core.auth.roles import Role
from tocsin.core.db import utcnow


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    with serve() as r:
        yield r


@pytest.fixture
def fan_client(make_app: Callable[..., FastAPI], receiver: Receiver,
               monkeypatch: pytest.MonkeyPatch) -> Iterator[TestClient]:
    monkeypatch.setenv("TOCSIN_ALERTS_WEBHOOK_HOSTS", f"127.0.0.1:{receiver.port}")
    monkeypatch.setenv("TOCSIN_ALERTS_PUSH_HOSTS", f"127.0.0.1:{receiver.port}")
    monkeypatch.setenv("TOCSIN_ALERTS_RETRY_BASE_SECONDS", "0.05")
    monkeypatch.setenv("TOCSIN_ALERTS_MAX_ATTEMPTS", "3")
    monkeypatch.setenv("TOCSIN_ALERTS_TIMEOUT_SECONDS", "15")
    with TestClient(make_app()) as client:
        yield client


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).decode().rstrip("=")


class Browser:
    """A browser's push keys (RFC 8291): an ECDH P-256 pair and a 16-byte auth secret."""

    def __init__(self) -> None:
        self.private = ec.generate_private_key(ec.SECP256R1())
        self.auth = os.urandom(16)
        raw = self.private.public_key().public_bytes(
            serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint)
        self.keys = {"p256dh": _b64(raw), "auth": _b64(self.auth)}

    def decrypt(self, body: bytes) -> dict[str, object]:
        plain = http_ece.decrypt(body, private_key=self.private, auth_secret=self.auth,
                                 version="aes128gcm")
        return json.loads(plain)  # type: ignore[no-any-return]


def _wait_settled(client: TestClient, alert_id: str, headers: dict[str, str],
                  expect_total: int, timeout: float = 40) -> dict[str, int]:
    deadline = time.monotonic() + timeout
    while True:
        counts = client.get(f"/api/v1/alerts/{alert_id}/deliveries", headers=headers).json()
        total = counts["sent"] + counts["failed"] + counts["pending"]
        if total >= expect_total and counts["pending"] == 0:
            return counts  # type: ignore[no-any-return]
        assert time.monotonic() < deadline, counts
        time.sleep(0.1)


def test_webhooks_and_push_reach_real_receivers(fan_client: TestClient,
                                                receiver: Receiver) -> None:
    client = fan_client
    platform = login(client, Role.platform)
    hook = client.post("/api/v1/alerts/webhooks", json={"url": f"{receiver.base}/hook"},
                       headers=platform)
    assert hook.status_code == 201, hook.text
    secret = hook.json()["secret"]
    broken = client.post("/api/v1/alerts/webhooks", json={"url": f"{receiver.base}/fail"},
                         headers=platform)
    assert broken.status_code == 201
    inside, outside = Browser(), Browser()
    for browser, (lat, lon), path in ((inside, (48.86, 2.35), "/push/in"),
                                      (outside, (48.80, 2.20), "/push/out")):
        r = client.post("/api/v1/alerts/subscriptions", json={
            "endpoint": f"{receiver.base}{path}", "keys": browser.keys, "lat": lat, "lon": lon})
        assert r.status_code == 201, r.text
    server_key = client.get("/api/v1/alerts/push/key").json()["public_key"]

    a, b = authorities(client)
    alert = publish(client, a, b)
    counts = _wait_settled(client, alert["id"], a, expect_total=3)
    assert counts == {"sent": 2, "failed": 1, "pending": 0}

    hooks = [r for r in receiver.requests if r.path == "/hook"]
    assert len(hooks) == 1
    assert verify_signature(secret, hooks[0].headers[SIGNATURE_HEADER.lower()], hooks[0].body)
    assert not verify_signature("wrong-secret", hooks[0].headers[SIGNATURE_HEADER.lower()],
                                hooks[0].body)
    assert not verify_signature(secret, hooks[0].headers[SIGNATURE_HEADER.lower()],
                                hooks[0].body + b" ")
    payload = json.loads(hooks[0].body)
    assert payload["alert_id"] == alert["id"] and payload["msg_type"] == "Alert"
    assert payload["cap"].startswith("<?xml")

    pushes = [r for r in receiver.requests if r.path.startswith("/push")]
    assert [p.path for p in pushes] == ["/push/in"]  # the subscriber outside is not targeted
    claims, key = verify_vapid(pushes[0].headers["authorization"])
    assert key == server_key
    assert claims["aud"] == receiver.base and int(claims["exp"]) > time.time()  # type: ignore[call-overload]
    assert str(claims["sub"]).startswith("mailto:")
    assert pushes[0].headers["content-encoding"] == "aes128gcm"
    message = inside.decrypt(pushes[0].body)
    assert message["alert_id"] == alert["id"] and message["headline"]

    fails = [r for r in receiver.requests if r.path == "/fail"]
    assert len(fails) == 3  # retried with backoff, then dead-lettered
    dead = client.get("/api/v1/alerts/dead-letters", headers=a).json()["dead"]
    assert len(dead) == 1 and dead[0]["attempts"] == 3 and "500" in dead[0]["last_error"]
    retry = client.post(f"/api/v1/alerts/dead-letters/{dead[0]['delivery_id']}/retry", headers=a)
    assert retry.status_code == 200
    _wait_settled(client, alert["id"], a, expect_total=3)
    assert len([r for r in receiver.requests if r.path == "/fail"]) == 6


def test_cancel_reaches_the_same_subscribers(fan_client: TestClient, receiver: Receiver) -> None:
    client = fan_client
    browser = Browser()
    client.post("/api/v1/alerts/subscriptions", json={
        "endpoint": f"{receiver.base}/push/x", "keys": browser.keys, "lat": 48.86, "lon": 2.35})
    a, b = authorities(client)
    alert = publish(client, a, b)
    _wait_settled(client, alert["id"], a, expect_total=1)
    r = client.post(f"/api/v1/alerts/{alert['id']}/cancel", json={"note": "Fin"}, headers=a)
    cancel = client.post(f"/api/v1/alerts/{r.json()['id']}/approve", headers=b).json()
    _wait_settled(client, cancel["id"], a, expect_total=1)
    messages = [browser.decrypt(r.body) for r in receiver.requests]
    assert [m["msg_type"] for m in messages] == ["Alert", "Cancel"]


def test_endpoints_outside_the_allowed_hosts_are_refused(client: TestClient) -> None:
    platform = login(client, Role.platform)
    for url in ("http://169.254.169.254/latest/meta-data", "https://intranet.local/hook",
                "http://10.0.0.1/x", "https://user:pw@example.org/x", "file:///etc/passwd"):
        r = client.post("/api/v1/alerts/webhooks", json={"url": url}, headers=platform)
        assert r.status_code == 422, (url, r.text)
    keys = Browser().keys
    r = client.post("/api/v1/alerts/subscriptions", json={
        "endpoint": "http://127.0.0.1:9/push", "keys": keys, "lat": 48.8, "lon": 2.3})
    assert r.status_code == 422
    r = client.post("/api/v1/alerts/subscriptions", json={
        "endpoint": "https://fcm.googleapis.com/fcm/send/abc", "keys": keys, "lat": 48.8,
        "lon": 2.3})
    assert r.status_code == 201
    sub = r.json()
    bad = client.delete(f"/api/v1/alerts/subscriptions/{sub['id']}",
                        headers={"X-Subscription-Token": "nope"})
    assert bad.status_code == 403
    ok = client.delete(f"/api/v1/alerts/subscriptions/{sub['id']}",
                       headers={"X-Subscription-Token": sub["token"]})
    assert ok.status_code == 204
    assert b64url_decode(keys["auth"])


def test_purge_removes_expired_subscriptions(db: Session) -> None:
    now = utcnow()
    for days in (-1, 30):
        db.add(AlertSubscription(
            id=uuid.uuid4().hex, kind="push", endpoint="https://fcm.googleapis.com/x",
            keys={"p256dh": "k", "auth": "a"}, lat=48.86, lon=2.35, h3_cell="893fb4ac4cbffff",
            all_areas=False, token_hash="h", created_at=now,
            expires_at=now + dt.timedelta(days=days)))
    db.flush()
    assert retention.purge(db, now=now) == {"alert_subscription": 1}
    assert db.query(AlertSubscription).count() == 1


def test_a_slow_endpoint_delays_neither_publication_nor_others(
        fan_client: TestClient, receiver: Receiver) -> None:
    client = fan_client
    platform = login(client, Role.platform)
    for path in ("/slow", "/hook"):
        r = client.post("/api/v1/alerts/webhooks", json={"url": f"{receiver.base}{path}"},
                        headers=platform)
        assert r.status_code == 201
    a, b = authorities(client)
    draft = client.post("/api/v1/alerts", json=alert_body(), headers=a).json()
    start = time.monotonic()
    approved = client.post(f"/api/v1/alerts/{draft['id']}/approve", headers=b)
    assert approved.status_code == 200
    assert time.monotonic() - start < 4.0  # publication never waits for the fan-out
    while not any(r.path == "/hook" for r in receiver.requests):
        # The slow endpoint answers after 5 s: the fast one must not wait for it.
        assert time.monotonic() - start < 4.5, "the fast endpoint waited for the slow one"
        time.sleep(0.02)
    counts = _wait_settled(client, draft["id"], a, expect_total=2)
    assert counts == {"sent": 2, "failed": 0, "pending": 0}


def test_followed_zones_meet_the_area(fan_client: TestClient, receiver: Receiver) -> None:
    client = fan_client
    near, far, point = Browser(), Browser(), Browser()
    for browser, body, path in (
        (near, {"lat": 48.80, "lon": 2.20, "radius_km": 15}, "/push/near"),
        (far, {"lat": 49.50, "lon": 3.50, "radius_km": 10}, "/push/far"),
        (point, {"lat": 48.80, "lon": 2.20}, "/push/point"),  # same centre, no zone: outside
    ):
        r = client.post("/api/v1/alerts/subscriptions",
                        json={"endpoint": f"{receiver.base}{path}", "keys": browser.keys, **body})
        assert r.status_code == 201, r.text
    too_wide = client.post("/api/v1/alerts/subscriptions", json={
        "endpoint": f"{receiver.base}/x", "keys": near.keys, "lat": 48.8, "lon": 2.2,
        "radius_km": 500})
    assert too_wide.status_code == 422
    a, b = authorities(client)
    alert = publish(client, a, b)
    _wait_settled(client, alert["id"], a, expect_total=1)
    assert [r.path for r in receiver.requests] == ["/push/near"]
    assert near.decrypt(receiver.requests[0].body)["alert_id"] == alert["id"]
