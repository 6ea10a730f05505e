"""The bus contract, on the in-process bus and on the real NATS JetStream server."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator

import pytest

from tests.conftest import SEAL_KEY
from tests.waiting import async_holds
from tests.waiting import async_wait_for as _wait_for
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


async def _consuming(*subs: object) -> None:
    """Wait until each subscription's JetStream consumer exists (in-process ones do at once).

    Peeks at ``_psub`` as tests/core/test_jetstream_idle.py does: the pull subscription creates
    its consumer in a task, and this is the one observable sign that it has.
    """
    await _wait_for(lambda: all(getattr(sub, "_psub", True) is not None for sub in subs),
                    what="consumer created")


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
    await _consuming(sub_a, sub_b)
    events = [Event(subject=topic, data={"n": n}) for n in range(40)]
    for event in events:
        await bus.publish(event)
    await _wait_for(lambda: len(got_a) + len(got_b) >= 40)
    # Two consumers share the work, so no single fence event can prove that nothing more comes:
    # watch the window instead, failing at the first extra delivery.
    await async_holds(lambda: len(got_a) + len(got_b) == 40, 0.3, what="each event once")
    assert sorted(got_a + got_b) == sorted(e.id for e in events)
    await sub_a.stop()
    await sub_b.stop()


async def test_duplicate_event_ids_are_dropped(bus: Bus) -> None:
    topic = f"probe{uuid.uuid4().hex[:6]}.dup"
    received: list[str] = []

    async def handler(event: Event) -> None:
        received.append(event.id)

    sub = await bus.subscribe(topic, handler, durable=f"dup_{uuid.uuid4().hex[:8]}")
    await _consuming(sub)
    event = Event(subject=topic, data={"x": 1})
    for _ in range(3):
        await bus.publish(event)
    second = Event(subject=topic, data={"x": 2})
    await bus.publish(second)
    # One consumer gets its events in order: once the later event is in, every copy of the
    # first has been delivered or dropped.
    await _wait_for(lambda: second.id in received)
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
    await _consuming(sub)
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

    # Live (core NATS) subscriptions are in place when subscribe returns: nothing to wait for.
    subs = [await bus.subscribe(topic, one), await bus.subscribe(topic, two)]
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
    await _consuming(first)
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
    # A fence published last and seen handled: the duplicate and any redelivery came before it.
    fence = Event(subject=topic, data={"fence": True})
    await bus.publish(fence)
    await _wait_for(lambda: any(fence.id in batch for batch in batches), timeout=15)
    await sub.stop()
    batches = [[i for i in batch if i != fence.id] for batch in batches]
    handled = [event_id for batch in batches for event_id in batch]
    assert sorted(handled) == sorted(e.id for e in events)  # each once, none lost
    assert max(len(batch) for batch in batches) > 1 and all(len(b) <= 50 for b in batches)
    assert failed and failed[0] > 1  # the failed call was a batch, and it came back


def test_unknown_bus_url_is_refused() -> None:
    with pytest.raises(ValueError, match="unknown bus URL"):
        make_bus("kafka://nope")
