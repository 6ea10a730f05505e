"""Transactional outbox: a committed record's event is never lost, a rolled-back one never sent."""

from __future__ import annotations

import asyncio
import datetime as dt
import os
import subprocess
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from tests.reliability.harness import NATS_SERVER, PrivateNats
from tests.waiting import async_wait_for
from tests.waiting import wait_for as _wait
from tocsin.core.bus import BusUnavailable, Event
from tocsin.core.bus.jetstream import JetStreamBus
from tocsin.core.bus.memory import MemoryBus
from tocsin.core.db import make_engine, make_sessionmaker, session_scope, utcnow
from tocsin.core.outbox import OutboxEvent, add_event, pending_count
from tocsin.core.relay import OutboxRelay
from tocsin.core.settings import Settings


def test_event_is_written_only_with_its_transaction(db: Session) -> None:
    add_event(db, "probe.kept", {"n": 1})
    db.flush()
    assert pending_count(db) == 1
    db.rollback()
    assert pending_count(db) == 0


def test_committed_event_reaches_a_subscriber_of_the_running_worker(client: TestClient) -> None:
    runtime = client.app.state.runtime  # type: ignore[attr-defined]
    received: list[Event] = []

    async def handler(event: Event) -> None:
        received.append(event)

    topic = f"probe{uuid.uuid4().hex[:6]}.created"
    durable = f"d{uuid.uuid4().hex[:8]}"

    async def subscribe() -> object:
        return await runtime.bus.subscribe(topic, handler, durable=durable)

    sub = client.portal.call(subscribe)  # type: ignore[union-attr]
    # The JetStream consumer is created by the subscription's task: wait until it exists.
    _wait(lambda: getattr(sub, "_psub", True) is not None, what="consumer created")
    with session_scope(runtime.sessions) as session:
        sent = add_event(session, topic, {"id": 42})
    _wait(lambda: len(received) == 1)
    assert received[0].id == sent.id and received[0].data == {"id": 42}
    with session_scope(runtime.sessions) as session:
        _wait(lambda: pending_count(session) == 0)


def test_events_left_by_a_dead_worker_are_published_by_the_next(settings: Settings) -> None:
    engine = make_engine(settings.resolved_database_url, pool_size=2)
    sessions = make_sessionmaker(engine)
    with session_scope(sessions) as session:  # the worker commits, then dies before relaying
        ids = [add_event(session, "probe.orphan", {"n": n}).id for n in range(5)]

    async def next_worker() -> list[str]:
        bus = MemoryBus()
        got: list[str] = []

        async def handler(event: Event) -> None:
            got.append(event.id)

        await bus.subscribe("probe.*", handler, durable="next")
        relay = OutboxRelay(sessions, bus)
        while await relay.relay_once():
            pass
        await bus.drain()
        await bus.close()
        return got

    assert asyncio.run(next_worker()) == ids
    with sessions() as session:
        assert pending_count(session) == 0
    engine.dispose()


@pytest.fixture
def nats_server(tmp_path: Path) -> Iterator[PrivateNats]:
    if not os.path.exists(NATS_SERVER):
        pytest.fail("nats-server binary not found (install Debian's nats-server)")
    server = PrivateNats(tmp_path / "js")
    server.start()
    yield server
    server.kill()


def test_outbox_survives_the_bus_going_down(settings: Settings, nats_server: PrivateNats) -> None:
    """Kill NATS, commit records' events, restart NATS: every event arrives, duplicates dropped."""
    engine = make_engine(settings.resolved_database_url, pool_size=2)
    sessions = make_sessionmaker(engine)

    async def scenario() -> tuple[list[str], list[str], int]:
        bus = JetStreamBus(nats_server.url, stream="OUTBOXTEST", prefix="outboxtest")
        await bus.connect()
        got: list[str] = []

        async def handler(event: Event) -> None:
            got.append(event.id)

        sub = await bus.subscribe("probe.*", handler, durable="outbox_test")
        relay = OutboxRelay(sessions, bus)

        nats_server.kill()
        with session_scope(sessions) as session:
            ids = [add_event(session, "probe.during_outage", {"n": n}).id for n in range(20)]
        failures = 0
        try:
            await relay.relay_once()
        except BusUnavailable:
            failures += 1
        with sessions() as session:
            assert pending_count(session) == 20, "events must wait in the outbox"

        nats_server.start()
        deadline = asyncio.get_running_loop().time() + 20
        while pending_count_sync() > 0:
            if asyncio.get_running_loop().time() > deadline:
                raise AssertionError("relay did not drain after NATS came back")
            try:
                await relay.relay_once()
            except BusUnavailable:  # still reconnecting
                await asyncio.sleep(0.2)
        # A relay that crashed after publishing but before marking publishes again.
        with session_scope(sessions) as session:
            session.execute(
                update(OutboxEvent)
                .where(OutboxEvent.id.in_(ids[:5]))
                .values(published_at=None, claimed_until=None)
            )
        while await relay.relay_once():
            pass
        await async_wait_for(lambda: len(set(got)) >= 20, 20, what="every event delivered")
        # A fence published after the re-publication and seen handled: any duplicate of the
        # five came before it (one consumer, stream order), so ``got`` is complete.
        fence = Event(subject="probe.fence")
        await bus.publish(fence)
        await async_wait_for(lambda: fence.id in got, 20, what="the fence delivered")
        got.remove(fence.id)
        await sub.stop()
        await bus.close()
        return ids, got, failures

    def pending_count_sync() -> int:
        with sessions() as session:
            return pending_count(session)

    ids, got, failures = asyncio.run(scenario())
    assert failures == 1
    assert sorted(got) == sorted(ids), "each event exactly once, none lost"
    with sessions() as session:
        assert session.scalar(select(func.count()).select_from(OutboxEvent)) == 20
    engine.dispose()


def test_event_written_in_one_worker_reaches_another_process(client: TestClient, mode: str) -> None:
    """Cluster mode: a subscriber in a separate process receives a worker's outbox event."""
    if mode != "cluster":
        pytest.skip("the in-process bus has no other process to reach")
    settings = client.app.state.runtime.settings  # type: ignore[attr-defined]
    env = {
        **os.environ,
        "TOCSIN_BUS_URL": settings.bus_url,
        "TOCSIN_BUS_STREAM": settings.bus_stream,
        "TOCSIN_BUS_PREFIX": settings.bus_prefix,
        "TOCSIN_DATABASE_URL": settings.resolved_database_url,
        "TOCSIN_SEAL_KEY": settings.seal_key,  # payloads travel sealed: the tail opens them
    }
    durable = f"tail_{uuid.uuid4().hex[:8]}"
    listener = subprocess.Popen(
        [sys.executable, "-m", "tocsin", "bus", "tail", "crossproc.*", "--count", "1",
         "--durable", durable, "--timeout", "30"],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    assert listener.stderr is not None
    assert listener.stderr.readline().strip() == "listening"
    runtime = client.app.state.runtime  # type: ignore[attr-defined]
    with session_scope(runtime.sessions) as session:
        sent = add_event(session, "crossproc.created", {"hello": "other process"})
    out, err = listener.communicate(timeout=40)
    assert listener.returncode == 0, err
    received = Event.model_validate_json(out.strip().splitlines()[-1])
    assert received.id == sent.id and received.data == {"hello": "other process"}


def test_published_rows_are_deleted_after_a_minute_pending_ones_never(
    settings: Settings,
) -> None:
    engine = make_engine(settings.resolved_database_url, pool_size=2)
    sessions = make_sessionmaker(engine)
    with session_scope(sessions) as session:
        old, recent, waiting, fresh = (add_event(session, "probe.kept", {"n": n}).id
                                       for n in range(4))
    now = utcnow()
    with session_scope(sessions) as session:
        for row_id, published in ((old, now - dt.timedelta(seconds=90)),
                                  (recent, now - dt.timedelta(seconds=20))):
            session.execute(update(OutboxEvent).where(OutboxEvent.id == row_id)
                            .values(published_at=published))
        # An old row never published (the bus was down): it waits, whatever its age.
        session.execute(update(OutboxEvent).where(OutboxEvent.id == waiting).values(
            created_at=now - dt.timedelta(hours=2), claimed_until=now + dt.timedelta(hours=1)))

    async def relay() -> int:
        bus = MemoryBus()
        sent = await OutboxRelay(sessions, bus).relay_once()  # publishes ``fresh``, then cleans
        await bus.close()
        return sent

    assert asyncio.run(relay()) == 1
    with sessions() as session:
        left = set(session.scalars(select(OutboxEvent.id)))
    engine.dispose()
    assert left == {recent, waiting, fresh}


def test_relay_marks_commit_without_fsync_but_records_with_it(settings: Settings) -> None:
    """Embedded: the relay's own engine is NORMAL (no fsync), the worker's stays FULL."""
    from sqlalchemy import text

    from tocsin.app import build_runtime

    runtime = build_runtime(settings)
    relay_engine = runtime.relay._own_engine
    if not settings.is_sqlite:
        assert relay_engine is None  # PostgreSQL: the relay shares the worker's engine
        runtime.engine.dispose()
        return
    assert relay_engine is not None and relay_engine is not runtime.engine
    full, normal = 2, 1  # PRAGMA synchronous values
    with runtime.engine.connect() as conn:
        assert conn.execute(text("PRAGMA synchronous")).scalar_one() == full
    with relay_engine.connect() as conn:
        assert conn.execute(text("PRAGMA synchronous")).scalar_one() == normal
    with session_scope(runtime.sessions) as session:
        ids = [add_event(session, "probe.relaxed", {"n": n}).id for n in range(3)]

    async def relay_and_stop() -> list[str]:
        got: list[str] = []

        async def handler(event: Event) -> None:
            got.append(event.id)

        await runtime.bus.connect()
        await runtime.bus.subscribe("probe.*", handler, durable="relaxed")
        while await runtime.relay.relay_once():
            pass
        await runtime.bus.drain()  # type: ignore[attr-defined]
        await runtime.relay.stop()
        await runtime.bus.close()
        return got

    assert asyncio.run(relay_and_stop()) == ids
    with runtime.sessions() as session:
        assert pending_count(session) == 0  # the marks, made through the relay's engine
    assert relay_engine.pool.checkedout() == 0  # type: ignore[attr-defined]
    runtime.engine.dispose()
