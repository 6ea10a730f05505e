"""Advisories reach a subscribed organisation's browser by Web Push (real receiver, VAPID)."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from tests.alerts.receivers import Receiver, serve, verify_vapid
from tests.alerts.test_fanout import Browser
from tests.cyber.helpers import ADVISORY, analysts
from tests.factories import login
from tocsin.core.auth import Role


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    with serve() as found:
        yield found


def test_advisory_is_pushed_to_the_subscriber(make_app: Callable[..., FastAPI],
                                              receiver: Receiver,
                                              monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TOCSIN_ALERTS_PUSH_HOSTS", f"127.0.0.1:{receiver.port}")
    with TestClient(make_app()) as client:
        org = login(client, Role.organisation)
        browser = Browser()
        sub = client.post("/api/v1/cyber/subscriptions", headers=org, json={
            "sectors": ["local_authority"],
            "push": {"endpoint": f"{receiver.base}/push/org", "keys": browser.keys}})
        assert sub.status_code == 201, sub.text
        alice, bob = analysts(client)
        advisory = client.post("/api/v1/cyber/advisories", json=ADVISORY, headers=alice).json()
        client.post(f"/api/v1/cyber/advisories/{advisory['id']}/submit", headers=alice)
        assert client.post(f"/api/v1/cyber/advisories/{advisory['id']}/approve", json={},
                           headers=bob).status_code == 200
        deadline = time.monotonic() + 20
        while not receiver.requests:
            assert time.monotonic() < deadline, "no push arrived"
            time.sleep(0.1)
        push = receiver.requests[0]
        assert push.path == "/push/org"
        claims, key = verify_vapid(push.headers["authorization"])
        assert claims["aud"] == receiver.base
        # One VAPID key for the worker: the one browsers get for the alerts signs this too.
        assert key == client.get("/api/v1/alerts/push/key").json()["public_key"]
        assert push.headers["topic"] == advisory["id"]  # a revision replaces an undelivered one
        message = browser.decrypt(push.body)
        assert message["advisory_id"] == advisory["id"] and message["title"] == ADVISORY["title"]
