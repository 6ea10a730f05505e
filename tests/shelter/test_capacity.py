"""Capacity bookkeeping under concurrent acceptances: never overbooked, in both modes."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor

from fastapi.testclient import TestClient
from sqlalchemy import select

from tests.shelter.helpers import follow, make_offer, make_request, manage
from tocsin.core.auth import Principal
from tocsin.core.db import session_scope
from tocsin.core.errors import DomainError
from tocsin.shelter import service
from tocsin.shelter.models import ShelterOffer, ShelterRequest

API = "/api/v1/shelter"
HOST = Principal(user_id=None, username="citizen", role=None)


def _asked(client: TestClient, offer_id: str, people: int, n: int) -> list[str]:
    ids = []
    for _ in range(n):
        request_id, rtoken = make_request(client, people=people)
        asked = client.post(f"{API}/requests/{request_id}/ask", json={"offer_id": offer_id},
                            headers=follow(rtoken))
        assert asked.status_code == 200, asked.text
        ids.append(request_id)
    return ids


def test_two_seekers_cannot_overbook_over_http(client: TestClient) -> None:
    offer_id, token = make_offer(client, capacity=3)
    first, second = _asked(client, offer_id, people=2, n=2)
    barrier = threading.Barrier(2)

    def accept(request_id: str) -> int:
        barrier.wait()
        return client.post(f"{API}/offers/{offer_id}/requests/{request_id}/accept",
                           headers=manage(token)).status_code

    with ThreadPoolExecutor(2) as pool:
        codes = sorted(pool.map(accept, [first, second]))
    assert codes == [200, 409]
    own = client.get(f"{API}/offers/{offer_id}", headers=manage(token)).json()
    assert own["remaining"] == 1


def test_many_concurrent_accepts_in_separate_transactions(client: TestClient) -> None:
    """Eight accepts of 2 people each race for 5 places: exactly two win, 1 place is left."""
    offer_id, token = make_offer(client, capacity=5)
    ids = _asked(client, offer_id, people=2, n=8)
    factory = client.app.state.runtime.sessions  # type: ignore[attr-defined]
    barrier = threading.Barrier(len(ids))

    def accept(request_id: str) -> str:
        session = factory()
        try:
            barrier.wait()
            service.accept(session, offer_id=offer_id, token=token, request_id=request_id,
                           actor=HOST)
            session.commit()
            return "won"
        except DomainError as exc:
            session.rollback()
            return exc.code
        finally:
            session.close()

    with ThreadPoolExecutor(len(ids)) as pool:
        outcomes = list(pool.map(accept, ids))
    assert outcomes.count("won") == 2, outcomes
    assert set(outcomes) <= {"won", "no_places_left", "conflict"}
    with session_scope(factory) as session:
        offer = session.get(ShelterOffer, offer_id)
        assert offer is not None and offer.remaining == 1
        accepted = session.scalars(
            select(ShelterRequest.people).where(ShelterRequest.status == "accepted")
        ).all()
        assert sum(accepted) == offer.capacity - offer.remaining
