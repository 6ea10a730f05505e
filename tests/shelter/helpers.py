"""Small factories for shelter tests: bodies, and an offer or a request made over HTTP."""

from __future__ import annotations

import datetime as dt
import itertools
from typing import Any

from fastapi.testclient import TestClient

HOST_LAT, HOST_LON = 48.8661234, 2.3641234
HOST_ADDRESS = "12 rue des Lilas-Secrètes, 75011 Paris"
HOST_DIRECTIONS = "Bâtiment B, 3e étage, code 4417"
SEEKER_LAT, SEEKER_LON = 48.8571, 2.3521
_devices = itertools.count(1)


def future(hours: float = 12) -> str:
    return (dt.datetime.now(dt.UTC) + dt.timedelta(hours=hours)).isoformat()


def offer_body(**overrides: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "lat": HOST_LAT, "lon": HOST_LON, "address": HOST_ADDRESS,
        "directions": HOST_DIRECTIONS, "capacity": 3, "ends_at": future(),
        "access": "lift", "pets": True, "languages": ["fr", "en"],
        "note": "Canapé et matelas, thé chaud.",
    }
    body.update(overrides)
    return body


def request_body(**overrides: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "lat": SEEKER_LAT, "lon": SEEKER_LON, "people": 2, "access_need": "any",
        "pets": False, "languages": ["en"], "note": "Deux touristes bloqués.",
    }
    body.update(overrides)
    return body


def device() -> dict[str, str]:
    return {"X-Device-Token": f"device-{next(_devices)}"}


def make_offer(client: TestClient, **overrides: Any) -> tuple[str, str]:
    """Create an offer; return (offer id, management token)."""
    response = client.post("/api/v1/shelter/offers", json=offer_body(**overrides),
                           headers=device())
    assert response.status_code == 201, response.text
    data = response.json()
    return data["id"], data["manage_token"]


def make_request(client: TestClient, **overrides: Any) -> tuple[str, str]:
    """Create a request; return (request id, token)."""
    response = client.post("/api/v1/shelter/requests", json=request_body(**overrides),
                           headers=device())
    assert response.status_code == 201, response.text
    data = response.json()
    return data["id"], data["token"]


def manage(token: str) -> dict[str, str]:
    return {"X-Manage-Token": token}


def follow(token: str) -> dict[str, str]:
    return {"X-Request-Token": token}
