"""Signed webhooks push orders to the platform; a 2xx answer starts the one-hour clock."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from fastapi.testclient import TestClient

from tests.factories import PASSWORD, create_account, login
from tests.watch.test_api import API, APOLOGY
from tocsin.core.auth import Role
from tocsin.watch.config import WatchSettings
from tocsin.watch.lifecycle import WatchState
from tocsin.watch.webhook import sign, verify


def test_signature_round_trip_and_refusals() -> None:
    body = b'{"order_id": 1}'
    header = sign("s3cret", body, at=1_700_000_000)
    assert verify("s3cret", header, body, now=1_700_000_100)
    assert not verify("s3cret", header, body + b" ", now=1_700_000_100)
    assert not verify("other", header, body, now=1_700_000_100)
    assert not verify("s3cret", header, body, now=1_700_001_000)  # stale: a replay
    assert not verify("s3cret", "garbage", body)


class Receiver(BaseHTTPRequestHandler):
    received: list[tuple[str, bytes]] = []

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
        type(self).received.append((self.headers.get("X-Tocsin-Signature", ""), body))
        self.send_response(204)
        self.end_headers()

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def receiver(client: TestClient, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), Receiver)
    Receiver.received = []
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    # The operator's allowed hosts (SSRF guard): this loopback server only.
    monkeypatch.setenv("TOCSIN_WATCH_WEBHOOK_HOSTS", f"127.0.0.1:{server.server_address[1]}")
    # The worker read its settings at start: read them again, as a restart would.
    client.app.state.runtime.state(WatchState).settings = WatchSettings()  # type: ignore[attr-defined]
    yield f"http://127.0.0.1:{server.server_address[1]}/tocsin"
    server.shutdown()
    server.server_close()
    thread.join(5)


def test_order_is_pushed_signed_and_received(client: TestClient, receiver: str) -> None:
    account = create_account(client, Role.platform)
    admin = login(client, Role.admin)
    r = client.post(f"{API}/platforms", headers=admin, json={
        "name": "x", "display_name": "X", "account": account, "webhook_url": receiver})
    assert r.status_code == 201, r.text
    secret = r.json()["webhook_secret"]
    assert secret and r.json()["has_webhook"]
    r = client.post(f"{API}/reports", data={"url": "https://x.example/w/1", "platform": "x",
                                            "category": "terrorism_apology", "excerpt": APOLOGY})
    mod = login(client, Role.moderator)
    r = client.post(f"{API}/orders", headers=mod, json={
        "item_id": r.json()["item_id"], "legal_basis": "TCO Art. 3", "reason": "apology",
        "emergency": True})
    assert r.status_code == 201, r.text
    deadline = time.monotonic() + 20
    while not Receiver.received and time.monotonic() < deadline:
        time.sleep(0.1)
    (signature, body), *_ = Receiver.received
    assert verify(secret, signature, body)
    assert json.loads(body)["order_id"] == r.json()["id"]
    while time.monotonic() < deadline:
        (order,) = client.get(f"{API}/orders", headers=mod).json()
        if order["status"] == "received":
            break
        time.sleep(0.1)
    assert order["status"] == "received" and order["deadline_at"]
    # The secret is given once: listing or re-reading the platform never shows it.
    assert "webhook_secret" not in client.get(f"{API}/platforms").text
    token = client.post("/api/v1/auth/token", data={"username": account, "password": PASSWORD})
    assert token.status_code == 200
