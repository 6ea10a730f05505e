"""Consumers give way to the SOS acknowledgements in flight, for a bounded time only."""

from __future__ import annotations

import asyncio
import time

from tocsin.core.priority import Background, Foreground


def test_turn_is_immediate_when_nothing_is_in_flight() -> None:
    foreground = Foreground()
    start = time.monotonic()
    asyncio.run(foreground.turn(1.0))
    assert time.monotonic() - start < 0.05
    assert foreground.deferred_seconds == 0


def test_turn_waits_for_the_foreground_to_drain() -> None:
    foreground = Foreground()

    async def go() -> float:
        async def request() -> None:
            with foreground.busy():
                await asyncio.sleep(0.15)

        job = asyncio.create_task(request())
        await asyncio.sleep(0)
        start = time.monotonic()
        await foreground.turn(5.0)
        waited = time.monotonic() - start
        await job
        return waited

    waited = asyncio.run(go())
    assert 0.1 < waited < 1.0
    assert foreground.in_flight == 0


def test_turn_never_waits_past_its_bound_under_constant_load() -> None:
    foreground = Foreground()

    async def go() -> float:
        with foreground.busy():  # saturation: always something in flight
            start = time.monotonic()
            await foreground.turn(0.1)
            return time.monotonic() - start

    waited = asyncio.run(go())
    assert 0.09 < waited < 0.5
    assert foreground.deferred_seconds > 0.09


def test_busy_is_released_when_the_request_fails() -> None:
    foreground = Foreground()
    try:
        with foreground.busy():
            raise RuntimeError("commit failed")
    except RuntimeError:
        pass
    assert foreground.in_flight == 0


def test_ordinary_traffic_below_the_threshold_never_delays_a_consumer() -> None:
    foreground = Foreground()

    async def go() -> float:
        with foreground.busy(), foreground.busy():  # two SOS in flight: 500/s, not saturation
            start = time.monotonic()
            await foreground.turn(1.0, busy_at=8)
            return time.monotonic() - start

    assert asyncio.run(go()) < 0.05
    assert foreground.deferred_seconds == 0


def test_a_consumer_takes_at_most_one_batch_per_interval() -> None:
    turns = Background(Foreground(), min_interval=0.1, max_wait=1.0, busy_at=8)

    async def go() -> list[float]:
        start = time.monotonic()
        moments = []
        for _ in range(3):
            await turns.turn()
            moments.append(time.monotonic() - start)
        return moments

    first, second, third = asyncio.run(go())
    assert first < 0.05  # the first batch at once
    assert 0.09 < second - first < 0.3
    assert 0.09 < third - second < 0.3
