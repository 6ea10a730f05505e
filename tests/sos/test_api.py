"""The SOS intake over HTTP: acknowledgement, idempotent retry, bad input, concurrency."""

from __future__ import annotations

import concurrent.futures

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from tests.sos.factories import count_rows, post_sos, sos_body
from tocsin.core.outbox import OutboxEvent
from tocsin.sos.models import Sos


def test_sos_is_acknowledged_after_commit(client: TestClient) -> None:
    ack = post_sos(client)
    assert set(ack) == {"id", "follow_up_token", "received_at"}
    assert len(ack["follow_up_token"]) >= 40
    runtime = client.app.state.runtime  # type: ignore[attr-defined]
    with runtime.sessions() as session:
        sos = session.get(Sos, ack["id"])
        assert sos is not None and sos.status == "open" and sos.situation == "hidden"
        events = session.scalars(select(OutboxEvent).where(OutboxEvent.subject == "sos.created"))
        data = [e.payload["data"] for e in events]
    assert [d["sos_id"] for d in data] == [ack["id"]]
    assert set(data[0]) == {
        "sos_id", "lat", "lon", "accuracy_m", "situation", "people", "received_at"
    }


def test_retry_with_same_client_id_gives_same_sos(client: TestClient) -> None:
    body = sos_body()
    first = client.post("/api/v1/sos", json=body)
    again = client.post("/api/v1/sos", json=body)
    assert first.status_code == 201
    assert again.status_code == 200
    assert again.json() == first.json()
    assert count_rows(client) == 1


def test_minimal_sos(client: TestClient) -> None:
    ack = post_sos(client, people=..., text=..., situation="attack")
    assert ack["id"]


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"lat": 91}, "lat"),
        ({"lat": -90.5}, "lat"),
        ({"lon": 180.01}, "lon"),
        ({"accuracy_m": -1}, "accuracy_m"),
        ({"situation": "party"}, "situation"),
        ({"text": "é" * 1025}, "text"),
        ({"client_id": ...}, "client_id"),
        ({"client_id": "short"}, "client_id"),
        ({"people": 0}, "people"),
        ({"extra": 1}, "extra"),
        ({"lat": "nan"}, "lat"),
    ],
)
def test_bad_input_is_refused_and_stores_nothing(
    client: TestClient, overrides: dict[str, object], field: str
) -> None:
    response = client.post("/api/v1/sos", json=sos_body(**overrides))
    assert response.status_code == 422, response.text
    assert field in response.json()["error"]["message"]
    assert count_rows(client) == 0
    assert count_rows(client, "outbox_event") == 0


def test_not_json_is_refused(client: TestClient) -> None:
    response = client.post(
        "/api/v1/sos", content=b"lat=1", headers={"Content-Type": "text/plain"}
    )
    assert 400 <= response.status_code < 500
    assert count_rows(client) == 0


def test_concurrent_sos_are_all_durable_with_distinct_ids(client: TestClient) -> None:
    bodies = [sos_body() for _ in range(60)]
    with concurrent.futures.ThreadPoolExecutor(max_workers=20) as pool:
        responses = list(pool.map(lambda b: client.post("/api/v1/sos", json=b), bodies))
    assert [r.status_code for r in responses] == [201] * 60
    ids = {r.json()["id"] for r in responses}
    assert len(ids) == 60
    assert count_rows(client) == 60


def test_concurrent_retries_of_one_client_id_make_one_sos(client: TestClient) -> None:
    body = sos_body()
    with concurrent.futures.ThreadPoolExecutor(max_workers=8) as pool:
        responses = list(pool.map(lambda _: client.post("/api/v1/sos", json=body), range(8)))
    assert sorted(r.status_code for r in responses).count(201) == 1
    assert {r.json()["id"] for r in responses} == {responses[0].json()["id"]}
    assert len({r.json()["follow_up_token"] for r in responses}) == 1
    assert count_rows(client) == 1
