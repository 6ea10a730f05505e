"""Bad input gets a clear 4xx and changes nothing (rows counted, state checked)."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from tests.shelter.helpers import (
    follow,
    make_offer,
    make_request,
    manage,
    offer_body,
    request_body,
)
from tocsin.core.db import session_scope
from tocsin.shelter.models import ShelterOffer, ShelterRequest

API = "/api/v1/shelter"


def counts(client: TestClient) -> tuple[int, int, list[tuple[str, int, str]]]:
    runtime = client.app.state.runtime  # type: ignore[attr-defined]
    with session_scope(runtime.sessions) as session:
        offers = session.scalar(select(func.count()).select_from(ShelterOffer)) or 0
        requests = session.scalar(select(func.count()).select_from(ShelterRequest)) or 0
        states = [(r.id, r.remaining, r.status) for r in session.scalars(select(ShelterOffer))]
        states += [(r.id, r.people, r.status) for r in session.scalars(select(ShelterRequest))]
        return offers, requests, sorted(states)


PAST = (dt.datetime.now(dt.UTC) - dt.timedelta(minutes=5)).isoformat()
FAR = (dt.datetime.now(dt.UTC) + dt.timedelta(days=90)).isoformat()


@pytest.mark.parametrize("override", [
    {"capacity": 0}, {"capacity": 500}, {"capacity": -2}, {"ends_at": PAST}, {"ends_at": FAR},
    {"ends_at": "2026-11-23T20:00:00"}, {"lat": 91}, {"lon": -181}, {"lat": "north"},
    {"address": ""}, {"access": "ladder"}, {"languages": ["français"]}, {"note": "x" * 281},
    {"owner": "me"},
])
def test_bad_offers_are_refused(client: TestClient, override: dict[str, Any]) -> None:
    before = counts(client)
    response = client.post(f"{API}/offers", json=offer_body(**override))
    assert response.status_code == 422, response.text
    assert response.json()["error"]["code"] == "invalid_input"
    assert counts(client) == before


@pytest.mark.parametrize("override", [
    {"people": 0}, {"people": 99}, {"lat": -95}, {"lon": 200}, {"access_need": "rocket"},
])
def test_bad_requests_are_refused(client: TestClient, override: dict[str, Any]) -> None:
    before = counts(client)
    response = client.post(f"{API}/requests", json=request_body(**override))
    assert response.status_code == 422, response.text
    assert counts(client) == before


def test_accepting_someone_elses_request_changes_nothing(client: TestClient) -> None:
    mine, my_token = make_offer(client)
    theirs, their_token = make_offer(client, lat=48.87, lon=2.37)
    request_id, rtoken = make_request(client)
    client.post(f"{API}/requests/{request_id}/ask", json={"offer_id": theirs},
                headers=follow(rtoken))
    before = counts(client)
    # My token, my offer, but the request asked another host.
    stolen = client.post(f"{API}/offers/{mine}/requests/{request_id}/accept",
                         headers=manage(my_token))
    assert stolen.status_code == 404, stolen.text
    # My token on their offer.
    forged = client.post(f"{API}/offers/{theirs}/requests/{request_id}/accept",
                         headers=manage(my_token))
    assert forged.status_code == 403
    # No token at all.
    assert client.post(f"{API}/offers/{theirs}/requests/{request_id}/accept").status_code == 403
    assert client.post(f"{API}/offers/{mine}/requests/{request_id}/decline",
                       headers=manage(my_token)).status_code == 404
    assert counts(client) == before
    assert client.post(f"{API}/offers/{theirs}/requests/{request_id}/accept",
                       headers=manage(their_token)).status_code == 200


def test_address_before_acceptance_and_with_wrong_token(client: TestClient) -> None:
    offer_id, _ = make_offer(client)
    request_id, rtoken = make_request(client)
    before = counts(client)
    response = client.get(f"{API}/requests/{request_id}/address", headers=follow(rtoken))
    assert response.status_code == 403 and response.json()["error"]["code"] == "not_accepted"
    _, other_token = make_request(client)
    assert client.get(f"{API}/requests/{request_id}/address",
                      headers=follow(other_token)).status_code == 403
    assert client.get(f"{API}/requests/{'0' * 32}/address",
                      headers=follow(rtoken)).status_code == 404
    assert client.get(f"{API}/offers/{offer_id}", headers=manage(rtoken)).status_code == 403
    after = counts(client)
    assert after[0] == before[0] and after[1] == before[1] + 1


def test_accepting_twice_or_a_cancelled_request(client: TestClient) -> None:
    offer_id, token = make_offer(client)
    request_id, rtoken = make_request(client)
    assert client.post(f"{API}/offers/{offer_id}/requests/{request_id}/accept",
                       headers=manage(token)).status_code == 404  # never asked this offer
    client.post(f"{API}/requests/{request_id}/ask", json={"offer_id": offer_id},
                headers=follow(rtoken))
    assert client.post(f"{API}/offers/{offer_id}/requests/{request_id}/accept",
                       headers=manage(token)).status_code == 200
    before = counts(client)
    again = client.post(f"{API}/offers/{offer_id}/requests/{request_id}/accept",
                        headers=manage(token))
    assert again.status_code == 409
    assert counts(client) == before
    cancelled = client.post(f"{API}/requests/{request_id}/cancel", headers=follow(rtoken))
    assert cancelled.json()["status"] == "cancelled"
    own = client.get(f"{API}/offers/{offer_id}", headers=manage(token)).json()
    assert own["remaining"] == own["capacity"]


def test_edit_below_given_places_and_bad_areas(client: TestClient) -> None:
    offer_id, token = make_offer(client, capacity=3)
    request_id, rtoken = make_request(client, people=2)
    client.post(f"{API}/requests/{request_id}/ask", json={"offer_id": offer_id},
                headers=follow(rtoken))
    client.post(f"{API}/offers/{offer_id}/requests/{request_id}/accept", headers=manage(token))
    before = counts(client)
    shrink = client.patch(f"{API}/offers/{offer_id}", json={"capacity": 1}, headers=manage(token))
    assert shrink.status_code == 409
    past = client.patch(f"{API}/offers/{offer_id}", json={"ends_at": PAST}, headers=manage(token))
    assert past.status_code == 422
    half = client.patch(f"{API}/offers/{offer_id}", json={"lat": 48.9}, headers=manage(token))
    assert half.status_code == 422
    assert counts(client) == before
    for box in ({"south": 49, "west": 2.3, "north": 48.8, "east": 2.4},
                {"south": 40, "west": 2.3, "north": 49, "east": 2.4},
                {"south": 48.8, "west": 2.3, "north": 49}):
        assert client.get(f"{API}/areas", params=box).status_code == 422
