"""Events handed from a committing transaction to the worker's relay, published from memory."""

from __future__ import annotations

import asyncio
import datetime as dt

from sqlalchemy import select, update

from tests.waiting import async_wait_for as _until
from tocsin.core.bus import BusUnavailable, Event
from tocsin.core.bus.memory import MemoryBus
from tocsin.core.db import insert_rows, make_engine, make_sessionmaker, session_scope, utcnow
from tocsin.core.outbox import OutboxEvent, hand_over, pending_count
from tocsin.core.relay import OutboxRelay
from tocsin.core.settings import Settings

OUTBOX = OutboxEvent.__table__


def _events(n: int, subject: str = "probe.handed") -> list[Event]:
    return [Event(subject=subject, data={"n": i}) for i in range(n)]


async def _running_relay(settings: Settings, scenario):  # type: ignore[no-untyped-def]
    """Run ``scenario(sessions, relay, got)`` beside a started relay on a fresh engine."""
    engine = make_engine(settings.resolved_database_url, pool_size=4)
    sessions = make_sessionmaker(engine)
    bus = MemoryBus()
    got: list[Event] = []

    async def handler(event: Event) -> None:
        got.append(event)

    await bus.subscribe("probe.*", handler, durable="probe")
    relay = OutboxRelay(sessions, bus, poll_seconds=30)  # no poll during the test: memory only
    relay.start()
    try:
        return await scenario(sessions, relay, got)
    finally:
        await relay.stop()
        await bus.close()
        engine.dispose()


def test_handed_over_events_are_published_without_a_claim_then_marked(settings: Settings) -> None:
    async def scenario(sessions, relay, got):  # type: ignore[no-untyped-def]
        sent = _events(5)

        def write() -> None:
            with session_scope(sessions) as session:
                rows = hand_over(session, sent)
                assert {row["claimed_by"] for row in rows} == {relay.worker_id}
                insert_rows(session, OUTBOX, rows)

        await asyncio.to_thread(write)
        # The relay polls every 30 s: only the hand-over can have published them this soon.
        await _until(lambda: len(got) == 5)
        assert [e.id for e in got] == [e.id for e in sent]
        with sessions() as session:
            await _until(lambda: pending_count(session) == 0)
        return True

    assert asyncio.run(_running_relay(settings, scenario))


def test_a_rolled_back_transaction_hands_nothing_over(settings: Settings) -> None:
    async def scenario(sessions, relay, got):  # type: ignore[no-untyped-def]
        def write() -> list[str]:
            session = sessions()
            insert_rows(session, OUTBOX, hand_over(session, _events(3, "probe.rolled")))
            session.rollback()
            # The same session goes on and commits something else: still nothing rolled back.
            kept = _events(1, "probe.kept")
            insert_rows(session, OUTBOX, hand_over(session, kept))
            session.commit()
            session.close()
            return [kept[0].id]

        kept_ids = await asyncio.to_thread(write)
        await _until(lambda: len(got) >= 1)
        await asyncio.sleep(0.2)
        assert [e.id for e in got] == kept_ids
        return True

    assert asyncio.run(_running_relay(settings, scenario))


def test_rows_leased_to_a_dead_relay_go_out_once_the_lease_runs_out(settings: Settings) -> None:
    engine = make_engine(settings.resolved_database_url, pool_size=2)
    sessions = make_sessionmaker(engine)
    sent = _events(4)
    with session_scope(sessions) as session:
        session.info["outbox_relay_id"] = "a-worker-that-died"  # as a running relay sets it
        insert_rows(session, OUTBOX, hand_over(session, sent))
    with sessions() as session:
        leases = set(session.scalars(select(OutboxEvent.claimed_by)))
    assert leases == {"a-worker-that-died"}

    async def next_worker() -> int:
        bus = MemoryBus()
        relay = OutboxRelay(sessions, bus)
        first = await relay.relay_once()  # leased: not taken yet
        with session_scope(sessions) as session:
            session.execute(update(OutboxEvent).values(claimed_until=utcnow() - dt.timedelta(1)))
        second = await relay.relay_once()
        await bus.close()
        return first * 100 + second

    assert asyncio.run(next_worker()) == 4
    with sessions() as session:
        assert pending_count(session) == 0
    engine.dispose()


def test_handed_events_the_bus_refuses_are_freed_for_the_table_path(settings: Settings) -> None:
    """The bus is down when the relay gets the events: they go back to the table, unleased."""

    class DownBus(MemoryBus):
        async def publish(self, event: Event) -> None:
            raise BusUnavailable("down")

    async def scenario(sessions, relay, got):  # type: ignore[no-untyped-def]
        relay.bus = DownBus()
        sent = _events(3)

        def write() -> None:
            with session_scope(sessions) as session:
                insert_rows(session, OUTBOX, hand_over(session, sent))

        def leases() -> list[object]:
            with sessions() as session:
                return list(session.scalars(select(OutboxEvent.claimed_until)))

        await asyncio.to_thread(write)
        await _until(lambda: leases() == [None, None, None])
        assert got == []
        return [e.id for e in sent]

    sent_ids = asyncio.run(_running_relay(settings, scenario))

    async def bus_back() -> list[str]:
        engine = make_engine(settings.resolved_database_url, pool_size=2)
        bus = MemoryBus()
        got: list[str] = []

        async def handler(event: Event) -> None:
            got.append(event.id)

        await bus.subscribe("probe.*", handler, durable="probe")
        while await OutboxRelay(make_sessionmaker(engine), bus).relay_once():
            pass
        await bus.drain()
        await bus.close()
        engine.dispose()
        return got

    assert asyncio.run(bus_back()) == sent_ids
