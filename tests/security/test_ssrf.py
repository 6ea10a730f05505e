"""Outbound HTTP only to the operator's hosts: no request to arbitrary internal addresses (SSRF).

Every place the server calls out is tried with internal targets (cloud metadata, loopback
services, private ranges, ``file:``, credentials in the URL): alert webhooks and Web Push
endpoints, watch feeds and platform webhooks. A loopback "internal service" counts every request
it receives: it must receive none, also when an allowed host answers with a redirect to it, and
when the operator withdraws a host after a URL was registered.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from fastapi.testclient import TestClient

from tests.factories import create_account, login
from tocsin.core.auth.roles import Role
from tocsin.core.db import session_scope
from tocsin.core.outbound import url_problem
from tocsin.watch import webhook
from tocsin.watch.config import WatchSettings
from tocsin.watch.lifecycle import WatchState

INTERNAL_TARGETS = [
    "http://169.254.169.254/latest/meta-data/",
    "http://[fd00::1]/",
    "http://10.0.0.7/admin",
    "http://192.168.1.1/",
    "https://127.0.0.1:5432/",
    "https://localhost:4222/",
    "http://0.0.0.0:8000/",
    "file:///etc/passwd",
    "gopher://127.0.0.1:6379/_FLUSHALL",
    "https://user:pass@feeds.example.org/x",
    "https://feeds.example.org.evil.example/x",
    "https://evil.example/?u=https://feeds.example.org",
]


class Internal(BaseHTTPRequestHandler):
    """A service on loopback that nothing should reach; it answers every request with a hop."""

    hits: list[str] = []
    redirect_to = ""

    def _any(self) -> None:
        Internal.hits.append(f"{self.command} {self.path}")
        if self.redirect_to and self.path.startswith("/hop"):
            self.send_response(302)
            self.send_header("Location", self.redirect_to)
            self.end_headers()
            return
        self.send_response(200)
        self.end_headers()
        self.wfile.write(b"<feed xmlns='http://www.w3.org/2005/Atom'></feed>")

    do_GET = do_POST = _any

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def internal() -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), Internal)
    Internal.hits, Internal.redirect_to = [], ""
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()
    thread.join(5)


def test_url_guard_refuses_internal_and_unlisted_targets() -> None:
    allowed = "feeds.example.org,*.push.example"
    for url in [*INTERNAL_TARGETS, "http://feeds.example.org/x", "https://push.example/x"]:
        assert url_problem(url, allowed) is not None, url
    assert url_problem("https://feeds.example.org/x", allowed) is None
    assert url_problem("https://eu.push.example/x", allowed) is None
    assert url_problem("https://anything.example/x", "") is not None  # nothing listed: nothing


def test_registration_of_internal_targets_is_refused_everywhere(
    client: TestClient, internal: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("TOCSIN_WATCH_FEED_HOSTS", "feeds.example.org")
    monkeypatch.setenv("TOCSIN_WATCH_WEBHOOK_HOSTS", "platform.example")
    # The worker read its settings at start: read them again, as a restart would.
    client.app.state.runtime.state(WatchState).settings = WatchSettings()  # type: ignore[attr-defined]
    moderator, admin = login(client, Role.moderator), login(client, Role.admin)
    assert client.post("/api/v1/watch/platforms", headers=admin, json={
        "name": "forum", "display_name": "Forum"}).status_code == 201
    tried = 0
    for url in [*INTERNAL_TARGETS, f"{internal}/feed"]:
        routes = [
            ("/api/v1/watch/feeds", moderator, {"url": url, "platform": "forum",
                                                "keywords": ["x"]}),
            ("/api/v1/watch/platforms", admin, {"name": f"p{tried}", "display_name": "P",
                                                "webhook_url": url}),
            ("/api/v1/alerts/webhooks", admin, {"url": url}),
            ("/api/v1/alerts/subscriptions", {}, {
                "endpoint": url, "lat": 48.86, "lon": 2.35,
                "keys": {"p256dh": "B" * 87, "auth": "a" * 22}}),
        ]
        for path, headers, body in routes:
            response = client.post(path, headers=headers, json=body)
            assert response.status_code == 422, (path, url, response.text)
            tried += 1
    assert client.get("/api/v1/watch/feeds", headers=moderator).json() == []
    assert Internal.hits == []
    assert tried == 4 * (len(INTERNAL_TARGETS) + 1)


def test_allowed_feed_redirecting_inside_is_not_followed(
    client: TestClient, internal: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """An allowed host that answers 302 to an internal address: the hop is not taken."""
    with ThreadingHTTPServer(("127.0.0.1", 0), Internal) as inner:
        thread = threading.Thread(target=inner.serve_forever, daemon=True)
        thread.start()
        inner_url = f"http://127.0.0.1:{inner.server_address[1]}/secret"
        Internal.redirect_to = inner_url
        monkeypatch.setenv("TOCSIN_WATCH_FEED_HOSTS", internal.removeprefix("http://"))
        client.app.state.runtime.state(WatchState).settings = WatchSettings()  # type: ignore[attr-defined]
        moderator, admin = login(client, Role.moderator), login(client, Role.admin)
        client.post("/api/v1/watch/platforms", headers=admin,
                    json={"name": "forum", "display_name": "Forum"})
        feed = client.post("/api/v1/watch/feeds", headers=moderator, json={
            "url": f"{internal}/hop", "platform": "forum", "keywords": ["x"]})
        assert feed.status_code == 201, feed.text
        polled = client.post(f"/api/v1/watch/feeds/{feed.json()['id']}/poll", headers=moderator)
        assert polled.status_code == 502, polled.text
        inner.shutdown()
        thread.join(5)
    assert Internal.hits == ["GET /hop"], "only the allowed host was called, once"


def test_a_withdrawn_host_is_not_called_at_delivery(
    client: TestClient, internal: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A platform webhook registered while allowed is not called once the operator withdraws it."""
    monkeypatch.setenv("TOCSIN_WATCH_WEBHOOK_HOSTS", internal.removeprefix("http://"))
    client.app.state.runtime.state(WatchState).settings = WatchSettings()  # type: ignore[attr-defined]
    admin = login(client, Role.admin)
    account = create_account(client, Role.platform)
    made = client.post("/api/v1/watch/platforms", headers=admin, json={
        "name": "relay", "display_name": "Relay", "account": account,
        "webhook_url": f"{internal}/hook"})
    assert made.status_code == 201, made.text
    monkeypatch.setenv("TOCSIN_WATCH_WEBHOOK_HOSTS", "")
    client.app.state.runtime.state(WatchState).settings = WatchSettings()  # type: ignore[attr-defined]  # the operator withdrew it and restarted
    report = client.post("/api/v1/watch/reports", data={
        "url": "https://x.example/w/1", "platform": "relay", "category": "terrorism_apology",
        "excerpt": "Gloire aux martyrs du Bataclan, frappez encore"})
    assert report.status_code in (200, 201), report.text
    order = client.post("/api/v1/watch/orders", headers=login(client, Role.moderator), json={
        "item_id": report.json()["item_id"], "legal_basis": "TCO Art. 3", "reason": "apology",
        "emergency": True})
    assert order.status_code == 201, order.text
    time.sleep(1.0)  # the order_issued consumer runs the delivery
    runtime = client.app.state.runtime  # type: ignore[attr-defined]
    with session_scope(runtime.sessions) as session:
        assert webhook.deliver(session, order_id=order.json()["id"]) is False
    assert Internal.hits == []
