"""Group commit: concurrent SOS share transactions; a failed commit never yields a 201."""

from __future__ import annotations

import asyncio
import concurrent.futures
import time
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session

from tests.sos.factories import count_rows, sos_body
from tocsin.core.db import make_engine, make_sessionmaker
from tocsin.core.settings import Settings
from tocsin.sos import service
from tocsin.sos.intake import SosBatcher
from tocsin.sos.lifecycle import SosState
from tocsin.sos.schemas import SosIn


@pytest.fixture(autouse=True)
def _thread_writer(monkeypatch: pytest.MonkeyPatch) -> None:
    # These tests patch the thread writer's transaction; the process writer has its own
    # (tests/sos/test_writer_process.py).
    monkeypatch.setenv("TOCSIN_SOS_WRITER", "thread")


def _batcher(client: TestClient) -> SosBatcher:
    batcher = client.app.state.runtime.state(SosState).batcher  # type: ignore[attr-defined]
    assert isinstance(batcher, SosBatcher)
    return batcher


def test_concurrent_requests_share_transactions(
    client: TestClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    real = service.insert_batch

    def slow(session: Session, *, items: list[service.NewSos]) -> list[service.Ack]:
        time.sleep(0.02)  # a slow disk: requests pile up while a batch commits
        return real(session, items=items)

    monkeypatch.setattr(service, "insert_batch", slow)
    bodies = [sos_body() for _ in range(80)]
    with concurrent.futures.ThreadPoolExecutor(max_workers=40) as pool:
        responses = list(pool.map(lambda b: client.post("/api/v1/sos", json=b), bodies))
    assert all(r.status_code == 201 for r in responses)
    stats = _batcher(client).stats
    assert stats.items == 80
    assert stats.batches < 40, stats
    assert stats.largest >= 5, stats
    assert count_rows(client) == 80


async def test_batcher_commits_a_burst_in_few_transactions(settings: Settings) -> None:
    engine = make_engine(settings.resolved_database_url)
    batcher = SosBatcher(make_sessionmaker(engine))
    batcher.start()
    try:
        items = [service.prepare(SosIn.model_validate(sos_body())) for _ in range(200)]
        acks = await asyncio.gather(*(batcher.submit(item) for item in items))
    finally:
        batcher.stop()
        engine.dispose()
    assert [a.id for a in acks] == [i.id for i in items]
    assert all(a.created for a in acks)
    assert batcher.stats.items == 200
    assert batcher.stats.batches <= 10, batcher.stats


async def test_duplicates_inside_one_batch_map_to_one_sos(settings: Settings) -> None:
    engine = make_engine(settings.resolved_database_url)
    batcher = SosBatcher(make_sessionmaker(engine))
    body = SosIn.model_validate(sos_body())
    batcher.start()
    try:
        acks = await asyncio.gather(*(batcher.submit(service.prepare(body)) for _ in range(5)))
    finally:
        batcher.stop()
        engine.dispose()
    assert len({a.id for a in acks}) == 1
    assert len({a.follow_up_token for a in acks}) == 1
    assert sum(a.created for a in acks) == 1


def test_failed_commit_is_a_503_and_stores_nothing(
    client: TestClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken(session: Session, *, items: list[Any]) -> list[Any]:
        raise OperationalError("INSERT", {}, Exception("disk I/O error"))

    monkeypatch.setattr(service, "insert_batch", broken)
    body = sos_body()
    response = client.post("/api/v1/sos", json=body)
    assert response.status_code == 503
    assert response.headers["Retry-After"]
    assert count_rows(client) == 0
    monkeypatch.undo()
    retry = client.post("/api/v1/sos", json=body)
    assert retry.status_code == 201
    assert count_rows(client) == 1


def test_deeply_nested_json_is_a_400_not_a_500(client: TestClient) -> None:
    deep = b'{"a":' * 50_000 + b"1" + b"}" * 50_000
    response = client.post("/api/v1/sos", content=deep,
                           headers={"Content-Type": "application/json"})
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "bad_request"
    assert count_rows(client) == 0
