"""Feed polling against a real HTTP server on loopback (a thread serving an Atom file)."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from fastapi.testclient import TestClient

from tests.factories import login
from tests.watch.test_api import API, _setup_platform
from tocsin.core.auth import Role
from tocsin.watch.config import WatchSettings
from tocsin.watch.lifecycle import WatchState, poll_all

ATOM = """<?xml version="1.0" encoding="utf-8"?>
<feed xmlns="http://www.w3.org/2005/Atom">
  <title>Forum public</title><id>urn:forum</id><updated>2026-11-13T22:00:00Z</updated>
  <entry><title>Gloire aux martyrs du Bataclan</title><id>urn:1</id>
    <link href="https://forum.example/t/1"/><updated>2026-11-13T22:00:00Z</updated>
    <summary>Les frères sont des héros, vive le califat</summary>
    <author><name>anon42</name></author></entry>
  <entry><title>Recette de la tarte aux pommes</title><id>urn:2</id>
    <link href="https://forum.example/t/2"/><updated>2026-11-13T22:00:00Z</updated>
    <summary>Beurre, farine, pommes</summary></entry>
  <entry><title>Le CALIFAT a frappé Paris</title><id>urn:3</id>
    <link href="https://forum.example/t/3"/><updated>2026-11-13T22:00:00Z</updated>
    <summary>bravo</summary></entry>
</feed>"""


class FeedHandler(BaseHTTPRequestHandler):
    body = ATOM.encode()
    requests: list[str] = []

    def do_GET(self) -> None:
        type(self).requests.append(self.headers.get("If-None-Match") or "")
        if self.path == "/broken":
            self.send_response(200)
            self.send_header("Content-Type", "text/html")
            self.end_headers()
            self.wfile.write(b"<html><p>not a feed")
            return
        if self.headers.get("If-None-Match") == '"v1"':
            self.send_response(304)
            self.end_headers()
            return
        self.send_response(200)
        self.send_header("Content-Type", "application/atom+xml")
        self.send_header("ETag", '"v1"')
        self.end_headers()
        self.wfile.write(self.body)

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def feed_server(client: TestClient, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), FeedHandler)
    FeedHandler.requests = []
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    # The operator's allowed hosts (SSRF guard): this loopback server only.
    monkeypatch.setenv("TOCSIN_WATCH_FEED_HOSTS", f"127.0.0.1:{server.server_address[1]}")
    # The worker read its settings at start: read them again, as a restart would.
    client.app.state.runtime.state(WatchState).settings = WatchSettings()  # type: ignore[attr-defined]
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()
    thread.join(5)


def test_feed_entries_matching_keywords_become_items(client: TestClient,
                                                     feed_server: str) -> None:
    _setup_platform(client, "forum")
    mod = login(client, Role.moderator)
    r = client.post(f"{API}/feeds", headers=mod, json={
        "url": f"{feed_server}/feed.atom", "platform": "forum", "keywords": ["califat", "martyrs"]})
    assert r.status_code == 201, r.text
    feed_id = r.json()["id"]
    r = client.post(f"{API}/feeds/{feed_id}/poll", headers=mod)
    assert r.json() == {"entries": 3, "matched": 2, "new_items": 2}
    items = client.get(f"{API}/queue", headers=mod).json()["items"]
    assert {i["url"] for i in items} == {"https://forum.example/t/1", "https://forum.example/t/3"}
    assert all(i["source"] == "feed" and i["report_count"] == 0 for i in items)
    top = next(i for i in items if i["url"].endswith("/1"))
    assert top["category"] == "terrorism_apology" and top["author_handle"] == "anon42"
    # Second poll: conditional GET, the server answers 304, nothing new.
    r = client.post(f"{API}/feeds/{feed_id}/poll", headers=mod)
    assert r.json() == {"entries": 0, "matched": 0, "new_items": 0}
    assert FeedHandler.requests[-1] == '"v1"'


def test_unreadable_or_unknown_feeds_are_refused(client: TestClient, feed_server: str) -> None:
    _setup_platform(client, "forum")
    mod = login(client, Role.moderator)
    r = client.post(f"{API}/feeds", headers=mod, json={
        "url": f"{feed_server}/feed", "platform": "nowhere", "keywords": ["x"]})
    assert r.status_code == 422 and "unknown platform" in r.text
    r = client.post(f"{API}/feeds", headers=mod, json={
        "url": "ftp://example.org/feed", "platform": "forum", "keywords": ["x"]})
    assert r.status_code == 422
    r = client.post(f"{API}/feeds", headers=mod, json={
        "url": f"{feed_server}/broken", "platform": "forum", "keywords": ["x"]})
    r = client.post(f"{API}/feeds/{r.json()['id']}/poll", headers=mod)
    assert r.status_code == 502 and r.json()["error"]["code"] == "feed_unavailable"


def test_background_round_polls_every_feed_and_survives_a_broken_one(
        client: TestClient, feed_server: str) -> None:
    _setup_platform(client, "forum")
    mod = login(client, Role.moderator)
    for path in ("/broken", "/feed.atom"):
        r = client.post(f"{API}/feeds", headers=mod, json={
            "url": f"{feed_server}{path}", "platform": "forum", "keywords": ["califat"]})
        assert r.status_code == 201
    runtime = client.app.state.runtime  # type: ignore[attr-defined]
    assert poll_all(runtime) == 2
    assert poll_all(runtime) == 0  # 304 for the good feed, still broken for the other
