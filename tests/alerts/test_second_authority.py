"""Nothing reaches the public or a platform on one authority's word (issue 19, finding 4).

Exercise and Test messages used to publish at once: one authority alone made a webhook fire. Every
status, composed or imported, and every Update and Cancel now waits for a second authority.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from tests.alerts.helpers import SHARED_CAP, alert_body, authorities, publish, shift_dates
from tests.alerts.receivers import Receiver, serve
from tests.factories import login
from tocsin.core.auth.roles import Role

XML = {"Content-Type": "application/cap+xml"}


@pytest.fixture
def hooked(make_app: Callable[..., FastAPI],
           monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[TestClient, Receiver]]:
    """A worker whose platform webhook points at a loopback receiver."""
    with serve() as receiver:
        monkeypatch.setenv("TOCSIN_ALERTS_WEBHOOK_HOSTS", f"127.0.0.1:{receiver.port}")
        monkeypatch.setenv("TOCSIN_ALERTS_RETRY_BASE_SECONDS", "0.05")
        with TestClient(make_app()) as client:
            hook = client.post("/api/v1/alerts/webhooks", json={"url": f"{receiver.base}/hook"},
                               headers=login(client, Role.platform))
            assert hook.status_code == 201, hook.text
            yield client, receiver


def _public(client: TestClient, alert_id: str) -> bool:
    listed = {a["id"] for a in client.get("/api/v1/alerts").json()["alerts"]}
    return alert_id in listed or alert_id in client.get("/alerts.atom").text


def _hooks_for(receiver: Receiver, alert_id: str) -> int:
    return sum(alert_id.encode() in r.body for r in receiver.requests if r.path == "/hook")


def _wait_hook(receiver: Receiver, alert_id: str, timeout: float = 20) -> None:
    deadline = time.monotonic() + timeout
    while _hooks_for(receiver, alert_id) == 0:
        assert time.monotonic() < deadline, "the approved alert never reached the webhook"
        time.sleep(0.05)


@pytest.mark.parametrize("status", ["Actual", "Exercise", "Test"])
def test_every_status_waits_for_a_second_authority(
        hooked: tuple[TestClient, Receiver], status: str) -> None:
    client, receiver = hooked
    a, b = authorities(client)
    r = client.post("/api/v1/alerts", json=alert_body(status=status), headers=a)
    assert r.status_code == 201, r.text
    alert = r.json()
    assert alert["state"] == "pending"
    assert client.get(f"/api/v1/alerts/{alert['id']}").status_code == 404
    assert client.get(f"/api/v1/alerts/{alert['id']}.cap").status_code == 404
    assert not _public(client, alert["id"])
    own = client.post(f"/api/v1/alerts/{alert['id']}/approve", headers=a)
    assert own.status_code == 403 and "two-person" in own.json()["error"]["message"]
    time.sleep(0.5)  # long enough for a fan-out of a (wrongly) published message to start
    assert _hooks_for(receiver, alert["id"]) == 0
    counts = client.get(f"/api/v1/alerts/{alert['id']}/deliveries", headers=a).json()
    assert counts == {"sent": 0, "pending": 0, "failed": 0}

    ok = client.post(f"/api/v1/alerts/{alert['id']}/approve", headers=b)
    assert ok.status_code == 200, ok.text
    assert ok.json()["state"] == "published" and ok.json()["approver"] != ok.json()["author"]
    _wait_hook(receiver, alert["id"])


def test_updates_and_cancels_of_an_exercise_wait_too(client: TestClient) -> None:
    a, b = authorities(client)
    first = publish(client, a, b, status="Exercise")
    r = client.post(f"/api/v1/alerts/{first['id']}/update",
                    json=alert_body(status="Exercise", severity="Minor"), headers=a)
    assert r.status_code == 201, r.text
    assert r.json()["state"] == "pending"
    assert client.get(f"/api/v1/alerts/{first['id']}").json()["state"] == "published"
    assert client.post(f"/api/v1/alerts/{r.json()['id']}/approve", headers=a).status_code == 403
    upd = client.post(f"/api/v1/alerts/{r.json()['id']}/approve", headers=b).json()
    assert upd["state"] == "published"
    c = client.post(f"/api/v1/alerts/{upd['id']}/cancel", json={"note": "Fin"}, headers=b)
    assert c.status_code == 201 and c.json()["state"] == "pending"
    assert client.get(f"/api/v1/alerts/{upd['id']}").json()["state"] == "published"
    assert client.post(f"/api/v1/alerts/{c.json()['id']}/approve", headers=b).status_code == 403
    done = client.post(f"/api/v1/alerts/{c.json()['id']}/approve", headers=a).json()
    assert done["state"] == "published" and done["msg_type"] == "Cancel"


@pytest.mark.parametrize("status", ["Exercise", "Test"])
def test_an_imported_exercise_or_test_waits(client: TestClient, status: str) -> None:
    a, b = authorities(client)
    body = shift_dates((SHARED_CAP / "earthquake.cap").read_bytes())
    body = body.replace(b"<status>Actual</status>", f"<status>{status}</status>".encode())
    assert f"<status>{status}</status>".encode() in body
    r = client.post("/api/v1/alerts/import", content=body, headers={**a, **XML})
    assert r.status_code == 201, r.text
    imported = r.json()
    assert imported["state"] == "pending" and imported["status"] == status
    assert client.get(f"/api/v1/alerts/{imported['id']}.cap").status_code == 404
    assert client.post(f"/api/v1/alerts/{imported['id']}/approve", headers=a).status_code == 403
    ok = client.post(f"/api/v1/alerts/{imported['id']}/approve", headers=b)
    assert ok.status_code == 200 and ok.json()["state"] == "published"
