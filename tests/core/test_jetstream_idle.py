"""Cluster mode: an idle pull consumer is quiet and keeps its subscription (issue 18).

nats-py's ``fetch`` on an idle consumer ends in a timeout. When the server's "request timeout"
status arrives before the client's own timer (a race the client loses more often when its event
loop runs late), nats-py raises a bare builtin ``TimeoutError``, with no message, which is an
``OSError``: the pull loop used to take it for a failure, log ``pull <durable>: ; retrying``,
drop and re-create the pull subscription and sleep. The tests make the client's timers run a
little late so that race is lost every time.
"""

from __future__ import annotations

import asyncio
import logging
import uuid
from collections.abc import AsyncIterator, Callable
from typing import Any

import pytest
from nats.aio.subscription import Subscription

from tests.conftest import SEAL_KEY
from tests.waiting import async_wait_for as _wait_for
from tocsin.core import seal
from tocsin.core.bus import Event
from tocsin.core.bus import jetstream as js_module
from tocsin.core.bus.jetstream import JetStreamBus
from tocsin.core.settings import Settings

TIMER_LATE_S = 0.05


@pytest.fixture
async def fresh_bus(base_settings: Settings, mode: str) -> AsyncIterator[JetStreamBus]:
    if mode != "cluster":
        pytest.skip("the in-process bus has no pull consumers")
    seal.configure(seal.Sealer(SEAL_KEY))
    tag = uuid.uuid4().hex[:8]
    bus = JetStreamBus(
        base_settings.bus_url, stream=f"IDLE_{tag.upper()}", prefix=f"idle{tag}"
    )
    await bus.connect()
    try:
        yield bus
    finally:
        await bus.delete_stream()
        await bus.close()


@pytest.fixture
def late_timers(monkeypatch: pytest.MonkeyPatch) -> None:
    """The client's next-message timers fire a little late, as on a busy worker."""
    original = Subscription.next_msg

    async def next_msg(self: Subscription, timeout: float | None = 1.0) -> Any:
        return await original(self, None if timeout is None else timeout + TIMER_LATE_S)

    monkeypatch.setattr(Subscription, "next_msg", next_msg)


def _count_pull_subscribes(bus: JetStreamBus, monkeypatch: pytest.MonkeyPatch) -> list[str]:
    assert bus._js is not None
    calls: list[str] = []
    original: Callable[..., Any] = bus._js.pull_subscribe

    async def counting(*args: Any, **kwargs: Any) -> Any:
        calls.append(kwargs.get("durable", ""))
        return await original(*args, **kwargs)

    monkeypatch.setattr(bus._js, "pull_subscribe", counting)
    return calls


def _bus_warnings(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [
        r.getMessage() for r in caplog.records
        if r.name.startswith("tocsin.bus") and r.levelno >= logging.WARNING
    ]


@pytest.mark.usefixtures("late_timers")
async def test_idle_consumer_logs_nothing_keeps_its_subscription_and_still_delivers_at_once(
    fresh_bus: JetStreamBus, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture,
) -> None:
    # Short enough for two idle timeouts in the window, long enough that an event handed over
    # only when the fetch in progress ends would miss the 1 s bound below.
    monkeypatch.setattr(js_module, "FETCH_TIMEOUT_S", 2.0, raising=False)
    caplog.set_level(logging.INFO, logger="tocsin.bus")
    subscribes = _count_pull_subscribes(fresh_bus, monkeypatch)
    topic = "probe.idle"
    got: list[str] = []

    async def handler(event: Event) -> None:
        got.append(event.id)

    sub = await fresh_bus.subscribe(topic, handler, durable=f"idle_{uuid.uuid4().hex[:8]}")
    assert isinstance(sub, js_module._PullSubscription)
    await _wait_for(lambda: sub._psub is not None, timeout=5.0)
    first = sub._psub

    await asyncio.sleep(4.5)  # idle

    assert _bus_warnings(caplog) == []
    assert len(subscribes) == 1, "the idle consumer subscribed again"
    assert sub._psub is first
    event = Event(subject=topic, data={"n": 1})
    await fresh_bus.publish(event)
    delay = await _wait_for(lambda: got, timeout=5.0)
    assert got == [event.id]
    assert delay < 1.0, f"delivered {delay:.2f} s after publishing"

    loop = asyncio.get_running_loop()
    start = loop.time()
    await sub.stop()  # a fetch is waiting on the server
    assert loop.time() - start < 0.5
    assert _bus_warnings(caplog) == []


async def test_consumer_deleted_while_idle_is_logged_by_class_and_recreated(
    fresh_bus: JetStreamBus, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture,
) -> None:
    monkeypatch.setattr(js_module, "FETCH_TIMEOUT_S", 0.5, raising=False)
    monkeypatch.setattr(js_module, "IDLE_CHECK_S", 1.0, raising=False)
    caplog.set_level(logging.INFO, logger="tocsin.bus")
    subscribes = _count_pull_subscribes(fresh_bus, monkeypatch)
    topic = "probe.gone"
    durable = f"gone_{uuid.uuid4().hex[:8]}"
    got: list[str] = []

    async def handler(event: Event) -> None:
        got.append(event.id)

    sub = await fresh_bus.subscribe(topic, handler, durable=durable)
    assert isinstance(sub, js_module._PullSubscription)
    await _wait_for(lambda: sub._psub is not None, timeout=5.0)
    assert fresh_bus._js is not None
    await fresh_bus._js.delete_consumer(fresh_bus.stream, durable)

    await _wait_for(lambda: len(subscribes) == 2, timeout=10.0)
    warnings = _bus_warnings(caplog)
    assert len(warnings) == 1
    assert warnings[0].startswith(f"pull {durable}: NotFoundError")
    event = Event(subject=topic, data={"n": 2})
    await fresh_bus.publish(event)
    await _wait_for(lambda: got, timeout=5.0)
    assert got == [event.id]
    await sub.stop()
