"""The bus contract, on the in-process bus and on the real NATS JetStream server."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator

import pytest

from tests.conftest import SEAL_KEY
from tocsin.core import seal
from tocsin.core.bus import Bus, Event, make_bus, subject_matches
from tocsin.core.settings import Settings


@pytest.fixture
async def bus(base_settings: Settings) -> AsyncIterator[Bus]:
    seal.configure(seal.Sealer(SEAL_KEY))  # JetStream payloads are sealed on the wire
    instance = make_bus(
        base_settings.bus_url, stream=base_settings.bus_stream, prefix=base_settings.bus_prefix
    )
    await instance.connect()
    yield instance
    await instance.close()


async def _wait_for(predicate, timeout: float = 5.0) -> None:  # type: ignore[no-untyped-def]
    deadline = asyncio.get_running_loop().time() + timeout
    while not predicate():
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError("condition not met in time")
        await asyncio.sleep(0.02)


@pytest.mark.parametrize(
    ("pattern", "subject", "expected"),
    [
        ("sos.created", "sos.created", True),
        ("sos.*", "sos.created", True),
        ("sos.*", "sos.created.extra", False),
        ("sos.>", "sos.created.extra", True),
        (">", "alerts.published", True),
        ("sos.>", "sos", False),
        ("alerts.*", "sos.created", False),
    ],
)
def test_subject_patterns(pattern: str, subject: str, expected: bool) -> None:
    assert subject_matches(pattern, subject) is expected


async def test_durable_consumers_share_work_and_each_event_is_handled_once(bus: Bus) -> None:
    durable = f"test_{uuid.uuid4().hex[:8]}"
    topic = f"probe{uuid.uuid4().hex[:6]}.ping"
    got_a: list[str] = []
    got_b: list[str] = []

    async def handler_a(event: Event) -> None:
        got_a.append(event.id)

    async def handler_b(event: Event) -> None:
        got_b.append(event.id)

    sub_a = await bus.subscribe(topic, handler_a, durable=durable)
    sub_b = await bus.subscribe(topic, handler_b, durable=durable)
    await asyncio.sleep(0.3)
    events = [Event(subject=topic, data={"n": n}) for n in range(40)]
    for event in events:
        await bus.publish(event)
    await _wait_for(lambda: len(got_a) + len(got_b) >= 40)
    await asyncio.sleep(0.2)
    assert sorted(got_a + got_b) == sorted(e.id for e in events)
    await sub_a.stop()
    await sub_b.stop()


async def test_duplicate_event_ids_are_dropped(bus: Bus) -> None:
    topic = f"probe{uuid.uuid4().hex[:6]}.dup"
    received: list[str] = []

    async def handler(event: Event) -> None:
        received.append(event.id)

    sub = await bus.subscribe(topic, handler, durable=f"dup_{uuid.uuid4().hex[:8]}")
    await asyncio.sleep(0.3)
    event = Event(subject=topic, data={"x": 1})
    for _ in range(3):
        await bus.publish(event)
    await bus.publish(Event(subject=topic, data={"x": 2}))
    await _wait_for(lambda: len(received) >= 2)
    await asyncio.sleep(0.3)
    assert received.count(event.id) == 1 and len(received) == 2
    await sub.stop()


async def test_failed_handler_gets_the_event_again(bus: Bus) -> None:
    topic = f"probe{uuid.uuid4().hex[:6]}.retry"
    attempts: list[int] = []

    async def flaky(event: Event) -> None:
        attempts.append(1)
        if len(attempts) == 1:
            raise RuntimeError("first delivery fails")

    sub = await bus.subscribe(topic, flaky, durable=f"retry_{uuid.uuid4().hex[:8]}")
    await asyncio.sleep(0.3)
    await bus.publish(Event(subject=topic))
    await _wait_for(lambda: len(attempts) >= 2, timeout=10)
    await sub.stop()


async def test_live_subscribers_each_receive_every_event(bus: Bus) -> None:
    topic = f"probe{uuid.uuid4().hex[:6]}.live"
    first: list[str] = []
    second: list[str] = []

    async def one(event: Event) -> None:
        first.append(event.id)

    async def two(event: Event) -> None:
        second.append(event.id)

    subs = [await bus.subscribe(topic, one), await bus.subscribe(topic, two)]
    await asyncio.sleep(0.2)
    await bus.publish(Event(subject=topic))
    await _wait_for(lambda: len(first) == 1 and len(second) == 1)
    for sub in subs:
        await sub.stop()


async def test_batch_consumer_takes_what_waits_and_acks_only_after_returning(bus: Bus) -> None:
    """Events published before the consumer starts come in batches (not one by one); a batch
    whose handler raises comes back whole, and every event is handled exactly once in the end."""
    topic = f"probe{uuid.uuid4().hex[:6]}.batch"
    durable = f"batch_{uuid.uuid4().hex[:8]}"
    batches: list[list[str]] = []
    failed: list[int] = []

    async def handler(events: list[Event]) -> None:
        if not failed:
            failed.append(len(events))
            raise RuntimeError("first batch fails: the database is down")
        batches.append([event.id for event in events])

    # Create the durable consumer first (JetStream keeps events for it), then stop it.
    first = await bus.subscribe_batch(topic, handler, durable=durable, max_batch=50)
    await asyncio.sleep(0.3)
    await first.stop()
    events = [Event(subject=topic, data={"n": n}) for n in range(120)]
    for event in events:
        await bus.publish(event)
    await bus.publish(events[0])  # a duplicate: dropped by id
    if bus.name == "memory":
        # The in-process bus keeps no events for a stopped consumer: subscribe, then publish.
        sub = await bus.subscribe_batch(topic, handler, durable=durable, max_batch=50)
        for event in events:
            await bus.publish(event)
    else:
        sub = await bus.subscribe_batch(topic, handler, durable=durable, max_batch=50)
    await _wait_for(lambda: sum(map(len, batches)) >= 120, timeout=15)
    await asyncio.sleep(0.3)
    await sub.stop()
    handled = [event_id for batch in batches for event_id in batch]
    assert sorted(handled) == sorted(e.id for e in events)  # each once, none lost
    assert max(len(batch) for batch in batches) > 1 and all(len(b) <= 50 for b in batches)
    assert failed and failed[0] > 1  # the failed call was a batch, and it came back


def test_unknown_bus_url_is_refused() -> None:
    with pytest.raises(ValueError, match="unknown bus URL"):
        make_bus("kafka://nope")
