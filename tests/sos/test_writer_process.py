"""The SOS group commit in a child process (embedded mode's default: ``tocsin.sos.writer``)."""

from __future__ import annotations

import asyncio
import concurrent.futures
import os
import signal
import time
from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from tests.conftest import SEAL_KEY
from tests.sos.factories import count_rows, sos_body
from tocsin.core.db import make_engine, make_sessionmaker
from tocsin.core.outbox import OutboxEvent
from tocsin.core.seal import Sealer
from tocsin.core.settings import Settings
from tocsin.sos import service
from tocsin.sos.lifecycle import SosState
from tocsin.sos.models import Sos
from tocsin.sos.schemas import SosIn
from tocsin.sos.writer import WriterProcess


@pytest.fixture
def process_client(settings: Settings, make_app, monkeypatch: pytest.MonkeyPatch
                   ) -> Iterator[TestClient]:
    if not settings.is_sqlite:
        pytest.skip("the writer process serves embedded mode (a SQLite file)")
    monkeypatch.setenv("TOCSIN_SOS_WRITER", "process")
    with TestClient(make_app(), raise_server_exceptions=True) as test_client:
        yield test_client


def _writer(client: TestClient) -> WriterProcess:
    batcher = client.app.state.runtime.state(SosState).batcher  # type: ignore[attr-defined]
    assert isinstance(batcher, WriterProcess)
    return batcher


def test_sos_commit_in_the_child_sealed_and_with_their_event(
    process_client: TestClient, settings: Settings
) -> None:
    bodies = [sos_body() for _ in range(60)]
    with concurrent.futures.ThreadPoolExecutor(max_workers=30) as pool:
        responses = list(pool.map(lambda b: process_client.post("/api/v1/sos", json=b), bodies))
    assert [r.status_code for r in responses] == [201] * 60
    writer = _writer(process_client)
    assert writer.child_pid is not None and writer.child_pid != os.getpid()
    assert writer.stats.items == 60 and writer.stats.batches < 60, writer.stats
    assert count_rows(process_client) == 60
    engine = make_engine(settings.resolved_database_url, pool_size=1)
    try:
        with engine.connect() as conn:
            # Sealed at rest with the worker's key: the stored text is not the plaintext.
            raw = conn.exec_driver_sql("SELECT text FROM sos LIMIT 1").scalar_one()
            assert isinstance(raw, bytes) and b"cach" not in raw
            ids = {r.json()["id"] for r in responses}
            events = conn.execute(select(OutboxEvent.subject, OutboxEvent.payload)).all()
        created = [e for e in events if e.subject == "sos.created"]
        assert len(created) == 60
    finally:
        engine.dispose()
    # The worker's relay was handed the events: dispatch saw every SOS.
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        detail = process_client.app.state.runtime  # type: ignore[attr-defined]
        with detail.sessions() as session:
            published = session.scalar(
                select(OutboxEvent.id).where(OutboxEvent.published_at.is_(None)).limit(1))
        if published is None:
            break
        time.sleep(0.1)
    assert published is None, "an sos.created event stayed unpublished"
    assert ids


def test_a_retry_gets_the_same_sos(process_client: TestClient) -> None:
    body = sos_body()
    first = process_client.post("/api/v1/sos", json=body)
    again = process_client.post("/api/v1/sos", json=body)
    assert (first.status_code, again.status_code) == (201, 200)
    assert first.json()["id"] == again.json()["id"]
    assert first.json()["follow_up_token"] == again.json()["follow_up_token"]
    assert count_rows(process_client) == 1


def test_a_killed_child_is_a_503_then_a_new_child_records(process_client: TestClient) -> None:
    writer = _writer(process_client)
    old = writer.child_pid
    assert old is not None
    os.kill(old, signal.SIGKILL)
    time.sleep(0.3)  # the worker sees its socket close
    statuses = [process_client.post("/api/v1/sos", json=sos_body()).status_code
                for _ in range(3)]
    assert statuses[-1] == 201, statuses
    assert set(statuses) <= {201, 503}
    assert writer.child_pid not in (None, old)
    assert count_rows(process_client) == statuses.count(201)


async def test_duplicates_across_pipelined_batches_map_to_one_sos(settings: Settings) -> None:
    if not settings.is_sqlite:
        pytest.skip("a SQLite file only")
    engine = make_engine(settings.resolved_database_url)
    from tocsin.core import seal

    seal.attach(engine, Sealer(SEAL_KEY))
    writer = WriterProcess(make_sessionmaker(engine), batch_max=3)
    body = SosIn.model_validate(sos_body())
    await asyncio.to_thread(writer.start)
    try:
        items = [service.prepare(body) for _ in range(10)]
        items += [service.prepare(SosIn.model_validate(sos_body())) for _ in range(20)]
        acks = await asyncio.gather(*(writer.submit(item) for item in items))
    finally:
        await asyncio.to_thread(writer.stop)
        engine.dispose()
    assert len({a.id for a in acks[:10]}) == 1
    assert sum(a.created for a in acks[:10]) == 1
    assert all(a.created for a in acks[10:])
    check = make_engine(settings.resolved_database_url, pool_size=1)
    try:
        with check.connect() as conn:
            assert conn.execute(select(Sos.id)).all().__len__() == 21
    finally:
        check.dispose()


def test_a_child_that_cannot_start_leaves_the_thread_writer(
    settings: Settings, make_app, monkeypatch: pytest.MonkeyPatch
) -> None:
    if not settings.is_sqlite:
        pytest.skip("the writer process serves embedded mode (a SQLite file)")

    def refuse(self: WriterProcess) -> None:
        raise OSError("no process for you")

    monkeypatch.setattr(WriterProcess, "start", refuse)
    monkeypatch.setenv("TOCSIN_SOS_WRITER", "process")
    with TestClient(make_app(), raise_server_exceptions=True) as client:
        batcher = client.app.state.runtime.state(SosState).batcher  # type: ignore[attr-defined]
        assert type(batcher).__name__ == "SosBatcher"
        assert client.post("/api/v1/sos", json=sos_body()).status_code == 201
        assert count_rows(client) == 1
