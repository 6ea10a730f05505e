"""Privacy at rest and against probing: sealed columns, hashed secrets, no triangulation."""

from __future__ import annotations

import itertools
import math

from fastapi.testclient import TestClient
from sqlalchemy import text
from sqlalchemy.orm import Session

from tests.shelter.helpers import (
    HOST_ADDRESS,
    HOST_DIRECTIONS,
    follow,
    make_offer,
    make_request,
)
from tocsin.core.auth import Principal
from tocsin.core.db import session_scope
from tocsin.shelter import geo, requests, service
from tocsin.shelter.config import ShelterSettings
from tocsin.shelter.lifecycle import ShelterState
from tocsin.shelter.schemas import OfferCreate, RequestCreate

CITIZEN = Principal(user_id=None, username="citizen", role=None)


def test_place_and_texts_are_sealed_and_tokens_hashed(client: TestClient) -> None:
    offer_id, mtoken = make_offer(client)
    request_id, rtoken = make_request(client, note="Je suis au 3 rue Oberkampf")
    runtime = client.app.state.runtime  # type: ignore[attr-defined]
    with session_scope(runtime.sessions) as session:
        offer_row = session.execute(text("SELECT * FROM shelter_offer")).mappings().one()
        request_row = session.execute(text("SELECT * FROM shelter_request")).mappings().one()
    raw = repr(dict(offer_row)) + repr(dict(request_row))
    for plain in (HOST_ADDRESS, "Lilas", HOST_DIRECTIONS, "4417", "48.866123", "2.364123",
                  "Canapé", "Oberkampf", mtoken, rtoken):
        assert plain not in raw, plain
    for column in ("location", "address", "directions", "note"):
        value = bytes(offer_row[column])
        assert HOST_ADDRESS.encode() not in value and b"48.866" not in value
    assert offer_row["manage_token_hash"] != mtoken and len(offer_row["manage_token_hash"]) == 64
    # The seeker's exact location is not stored at all: only a cell and its centre.
    assert "lat" not in request_row and request_row["cell"] == geo.cell_of(48.8571, 2.3521).index
    assert offer_id and request_id


def _offer(session: Session, lat: float, lon: float) -> str:
    data = OfferCreate.model_validate({
        "lat": lat, "lon": lon, "address": "secret", "capacity": 2,
        "ends_at": service.utcnow() + service.dt.timedelta(hours=5), "access": "stairs",
    })
    offer, _ = service.create_offer(session, data=data, actor=CITIZEN)
    return offer.id


def _probe(session: Session, lat: float, lon: float, config: ShelterSettings) -> list[tuple]:
    request, _ = requests.create_request(
        session, data=RequestCreate(lat=lat, lon=lon, people=1), actor=CITIZEN, config=config
    )
    found = requests.find_matches(session, request=request, config=config)
    return [(m.offer_id, m.cell.index, m.distance_band, round(m.distance_km, 9), m.remaining)
            for m in found]


def test_moving_the_request_cannot_pin_a_host_below_its_cell(db: Session) -> None:
    """Two hosts at opposite corners of one cell answer every probe identically.

    An attacker moves its request point over a fine grid (every 300 m over 6 km); if any
    answer differed between the two hosts, the answers would carry sub-cell information. They
    never do, so no sequence of probes, however clever, can place a host inside its cell.
    """
    config = ShelterSettings(max_proposals=50)
    home = geo.cell_of(48.8661234, 2.3641234)
    corners = [(lat, lon) for lat, lon in geo.boundary(home.index)]
    # Two points well inside the cell, near opposite vertices (85% of the way from the centre).
    a = (home.lat + 0.85 * (corners[0][0] - home.lat), home.lon + 0.85 * (corners[0][1] - home.lon))
    b = (home.lat + 0.85 * (corners[3][0] - home.lat), home.lon + 0.85 * (corners[3][1] - home.lon))
    assert geo.cell_of(*a).index == geo.cell_of(*b).index == home.index
    assert geo.haversine_km(*a, *b) > 0.6
    first, second = _offer(db, *a), _offer(db, *b)
    db.flush()
    step_lat, step_lon = 0.00135, 0.00135 / math.cos(math.radians(48.86))  # about 150 m
    seen_bands: set[str] = set()
    for i, j in itertools.product(range(-20, 21, 2), range(-20, 21, 2)):
        answer = _probe(db, home.lat + i * step_lat, home.lon + j * step_lon, config)
        by_offer = {row[0]: row[1:] for row in answer}
        assert set(by_offer) in ({first, second}, set())
        if by_offer:
            assert by_offer[first] == by_offer[second]
            seen_bands.add(by_offer[first][1])
    assert {"under1km", "from1to2km"} <= seen_bands  # the probes did move across bands


def test_answers_depend_on_the_seekers_cell_only(db: Session) -> None:
    config = ShelterSettings()
    _offer(db, 48.8661234, 2.3641234)
    db.flush()
    seeker = geo.cell_of(48.8571, 2.3521)
    bounds = geo.boundary(seeker.index)
    answers = set()
    for lat, lon in [(seeker.lat, seeker.lon)] + [
        (seeker.lat + 0.8 * (vlat - seeker.lat), seeker.lon + 0.8 * (vlon - seeker.lon))
        for vlat, vlon in bounds
    ]:
        assert geo.cell_of(lat, lon).index == seeker.index
        answers.add(tuple(_probe(db, lat, lon, config)))
    assert len(answers) == 1


def test_proposals_give_bands_never_distances_or_points(client: TestClient) -> None:
    make_offer(client)
    request_id, rtoken = make_request(client)
    body = client.get(f"/api/v1/shelter/requests/{request_id}/proposals",
                      headers=follow(rtoken)).json()
    proposal = body["proposals"][0]
    assert set(proposal) == {
        "offer_id", "cell", "boundary", "distance_band", "remaining", "access", "pets",
        "languages", "common_languages", "note", "ends_at",
    }
    assert proposal["distance_band"] in {code for _, code in geo.BANDS}


def test_creating_requests_is_rate_limited_per_address(client: TestClient) -> None:
    """Minting device tokens does not help: requests are limited per address too."""
    client.app.state.runtime.states.put(ShelterState(  # type: ignore[attr-defined]
        settings=ShelterSettings(address_per_minute=5, address_burst=5)))
    codes = []
    for n in range(8):
        response = client.post("/api/v1/shelter/requests",
                               json={"lat": 48.85, "lon": 2.35, "people": 1},
                               headers={"X-Device-Token": f"fresh-{n}"})
        codes.append(response.status_code)
    assert codes[:5] == [201] * 5 and codes[5:] == [429] * 3
    assert "Retry-After" in response.headers
