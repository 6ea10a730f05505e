"""Live fan-out: each connected page gets the events it asked for; slow pages are told to reload."""

from __future__ import annotations

import asyncio
import contextlib

import pytest
from fastapi import HTTPException

from tocsin.app import build_runtime
from tocsin.core import live
from tocsin.core.bus import Event
from tocsin.core.settings import Settings


async def test_clients_receive_matching_events_and_lag_is_flagged(settings: Settings) -> None:
    runtime = build_runtime(settings)
    await runtime.bus.connect()
    hub = live.hub(runtime)
    try:
        async with hub.connect(["sos.*"]) as sos_page, hub.connect(["alerts.*"]) as alert_page:
            await asyncio.sleep(0.2)
            await runtime.bus.publish(Event(subject="sos.created", data={"sos_id": "a"}))
            await runtime.bus.publish(Event(subject="alerts.published", data={"id": "b"}))
            got = await asyncio.wait_for(sos_page.queue.get(), timeout=5)
            assert got.subject == "sos.created"
            other = await asyncio.wait_for(alert_page.queue.get(), timeout=5)
            assert other.subject == "alerts.published"
            assert sos_page.queue.empty()

            for n in range(live.CLIENT_QUEUE + 10):
                sos_page.offer(Event(subject="sos.created", data={"n": n}))
            assert sos_page.lagged and sos_page.queue.qsize() == live.CLIENT_QUEUE
    finally:
        await hub.close()
        await runtime.bus.close()
        runtime.engine.dispose()


async def test_sse_stream_starts_with_ready_and_carries_events(settings: Settings) -> None:
    runtime = build_runtime(settings)
    await runtime.bus.connect()
    stream = live.live_events(runtime, ["probe.*"], heartbeat=0.2)
    try:
        ready = await anext(stream)
        assert ready.event == "ready"
        heartbeat = await anext(stream)
        assert heartbeat.comment == "heartbeat"
        await asyncio.sleep(0.1)
        await runtime.bus.publish(Event(subject="probe.ping", data={"x": 1}))
        item = await asyncio.wait_for(anext(stream), timeout=5)
        while item.comment == "heartbeat":
            item = await asyncio.wait_for(anext(stream), timeout=5)
        assert item.event == "probe.ping" and item.data["data"] == {"x": 1}
    finally:
        await stream.aclose()
        await live.hub(runtime).close()
        await runtime.bus.close()
        runtime.engine.dispose()


def test_admit_bounds_each_address_and_the_worker(settings: Settings) -> None:
    hub = live.LiveHub(build_runtime(settings),
                       live.LiveSettings(per_address=2, total=3, retry_after_s=7))
    try:
        with contextlib.ExitStack() as held:
            held.enter_context(hub.admit("198.51.100.1"))
            held.enter_context(hub.admit("198.51.100.1"))
            with pytest.raises(HTTPException) as per_address:
                held.enter_context(hub.admit("198.51.100.1"))
            assert per_address.value.status_code == 429
            assert per_address.value.headers == {"Retry-After": "7"}
            held.enter_context(hub.admit("203.0.113.5"))  # another address still gets in
            with pytest.raises(HTTPException) as full:
                held.enter_context(hub.admit("203.0.113.6"))
            assert full.value.status_code == 503 and full.value.headers == {"Retry-After": "7"}
            assert hub.admitted == 3
        assert hub.admitted == 0  # every slot given back, refusals took none
        with hub.admit("198.51.100.1"), hub.admit("198.51.100.1"):
            assert hub.admitted == 2
    finally:
        hub.runtime.engine.dispose()


def test_admit_bounds_each_signed_in_account(settings: Settings) -> None:
    hub = live.LiveHub(build_runtime(settings),
                       live.LiveSettings(per_address=5, per_account=2, total=10))
    try:
        with contextlib.ExitStack() as held:
            held.enter_context(hub.admit("198.51.100.1", account="user:1"))
            held.enter_context(hub.admit("203.0.113.5", account="user:1"))
            with pytest.raises(HTTPException) as per_account:  # from any address
                held.enter_context(hub.admit("192.0.2.9", account="user:1"))
            assert per_account.value.status_code == 429
            assert "account" in per_account.value.detail
            held.enter_context(hub.admit("198.51.100.1", account="user:2"))
            held.enter_context(hub.admit("198.51.100.1"))  # an anonymous page: address only
            assert hub.admitted == 4
        assert hub.admitted == 0
        with hub.admit("192.0.2.9", account="user:1"), hub.admit("192.0.2.9", account="user:1"):
            assert hub.admitted == 2
    finally:
        hub.runtime.engine.dispose()


async def test_a_guarded_stream_checks_before_sending_and_closes_with_the_reason(
    settings: Settings,
) -> None:
    runtime = build_runtime(settings)
    await runtime.bus.connect()
    verdicts: list[str | None] = [None]
    calls = 0

    async def guard() -> str | None:
        nonlocal calls
        calls += 1
        return verdicts[-1]

    stream = live.live_events(runtime, ["probe.*"], guard=guard, recheck=60, heartbeat=60)
    try:
        assert (await anext(stream)).event == "ready"
        await asyncio.sleep(0.1)
        await runtime.bus.publish(Event(subject="probe.one", data={"n": 1}))
        first = await asyncio.wait_for(anext(stream), timeout=5)
        assert first.event == "probe.one" and calls == 1  # checked before it was sent
        verdicts.append("the session has ended")
        await runtime.bus.publish(Event(subject="probe.two", data={"n": 2}))
        closed = await asyncio.wait_for(anext(stream), timeout=5)
        assert closed.event == "closed" and closed.data == {"reason": "the session has ended"}
        with pytest.raises(StopAsyncIteration):  # probe.two was never sent
            await anext(stream)
    finally:
        await stream.aclose()
        await live.hub(runtime).close()
        await runtime.bus.close()
        runtime.engine.dispose()
