"""A request can ask only an offer within the matching radius (issue 19, finding 18, shelter).

The proposals stop at ``TOCSIN_SHELTER_MAX_RADIUS_KM``, but ``ask`` took any offer id: a seeker
in Paris could ask a host in Lyon, and learn its coarse area by doing so.
"""

from __future__ import annotations

from collections.abc import Callable

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from tests.shelter.helpers import device, follow, make_offer, make_request

LYON = {"lat": 45.7640, "lon": 4.8357}


def _ask(client: TestClient, request_id: str, token: str, offer_id: str) -> object:
    return client.post(f"/api/v1/shelter/requests/{request_id}/ask",
                       json={"offer_id": offer_id}, headers={**follow(token), **device()})


def test_an_offer_beyond_the_radius_is_refused(client: TestClient) -> None:
    far, _ = make_offer(client, **LYON)
    near, _ = make_offer(client)
    request_id, token = make_request(client)
    r = _ask(client, request_id, token, far)
    assert r.status_code == 422, r.text  # type: ignore[attr-defined]
    assert "10 km" in r.json()["error"]["message"]  # type: ignore[attr-defined]
    view = client.get(f"/api/v1/shelter/requests/{request_id}", headers=follow(token)).json()
    assert view["status"] == "open"
    assert _ask(client, request_id, token, near).status_code == 200  # type: ignore[attr-defined]


def test_the_radius_is_the_configured_one(make_app: Callable[..., FastAPI],
                                          monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TOCSIN_SHELTER_MAX_RADIUS_KM", "0.5")
    with TestClient(make_app()) as client:
        offer, _ = make_offer(client)  # about 1.4 km from the seeker
        request_id, token = make_request(client)
        r = _ask(client, request_id, token, offer)
        assert r.status_code == 422 and "0.5 km" in r.text  # type: ignore[attr-defined]
