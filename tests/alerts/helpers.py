"""Shared helpers of the alerts tests: alert bodies and the two-person publication."""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path
from typing import Any

from fastapi.testclient import TestClient

from tests.factories import login
from tocsin.core.auth.roles import Role

SHARED_CAP = Path(__file__).resolve().parents[2].parent / "shared" / "data" / "cap"
SCHEMA = SHARED_CAP / "cap12.xsd"
# A polygon over central Paris (lat, lon), closed.
PARIS = [(48.85, 2.32), (48.875, 2.33), (48.87, 2.37), (48.845, 2.365), (48.85, 2.32)]


def future(hours: float = 2) -> str:
    return (dt.datetime.now(dt.UTC) + dt.timedelta(hours=hours)).replace(microsecond=0).isoformat()


def alert_body(**overrides: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "status": "Actual",
        "categories": ["Security"],
        "urgency": "Immediate",
        "severity": "Extreme",
        "certainty": "Observed",
        "response_types": ["Shelter"],
        "expires": future(),
        "infos": [
            {"language": "fr-FR", "event": "Attaque", "headline": "Attaque en cours, 11e",
             "description": "Fusillade en cours dans le 11e arrondissement.",
             "instruction": "Restez à l'abri, éloignez-vous des fenêtres."},
            {"language": "en-GB", "event": "Attack", "headline": "Attack under way, 11th",
             "description": "Shooting under way in the 11th district.",
             "instruction": "Stay inside, away from windows."},
        ],
        "area": {"desc": "Paris 11e", "polygon": [list(p) for p in PARIS]},
    }
    body.update(overrides)
    return body


def authorities(client: TestClient) -> tuple[dict[str, str], dict[str, str]]:
    return login(client, Role.authority), login(client, Role.authority)


def publish(client: TestClient, a: dict[str, str], b: dict[str, str],
            **overrides: Any) -> dict[str, Any]:
    """Compose as ``a``, approve as ``b``; return the published alert."""
    r = client.post("/api/v1/alerts", json=alert_body(**overrides), headers=a)
    assert r.status_code == 201, r.text
    alert = r.json()
    if alert["state"] == "pending":
        r = client.post(f"/api/v1/alerts/{alert['id']}/approve", headers=b)
        assert r.status_code == 200, r.text
        alert = r.json()
    assert alert["state"] == "published"
    return alert


def shift_dates(xml: bytes, *, to: dt.datetime | None = None) -> bytes:
    """Move a sample's dates so the message is current (imports refuse expired messages)."""
    text = xml.decode()
    stamps = re.findall(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d[-+]\d\d:\d\d", text)
    if not stamps:
        return xml
    first = min(dt.datetime.fromisoformat(s) for s in stamps)
    delta = (to or dt.datetime.now(dt.UTC) - dt.timedelta(minutes=5)) - first
    for stamp in set(stamps):
        moved = dt.datetime.fromisoformat(stamp) + delta
        text = text.replace(stamp, moved.replace(microsecond=0).isoformat())
    return text.encode()
