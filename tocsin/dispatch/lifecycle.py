"""Start and stop dispatch on one worker.

Order matters: the index is rebuilt and the consumers subscribed before the outbox relay starts
(the app guarantees that), then recovery re-dispatches every open SOS no incident holds, then
the escalation loop starts. ``sos.created`` is consumed in batches with a durable name, so
with several workers each SOS is clustered once, and a crowd of calls costs one transaction per
batch rather than one per call; unit events are consumed by every worker (no durable name)
because each keeps its own index.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import threading

from starlette.concurrency import run_in_threadpool

from tocsin.core.bus import Event, Subscription
from tocsin.core.runtime import Runtime
from tocsin.dispatch import events
from tocsin.dispatch.engine import DispatchEngine, engine_of
from tocsin.sos.events import SOS_CREATED, SOS_POSITION

log = logging.getLogger("tocsin.dispatch")

SUBS_KEY = "dispatch.subscriptions"
INFLIGHT_KEY = "dispatch.inflight"
LOOP_KEY = "dispatch.loop"
RECOVERY_KEY = "dispatch.recovery"


async def start(runtime: Runtime) -> None:
    """Rebuild the index, subscribe, recover unhandled SOS, start escalating."""
    engine = engine_of(runtime)
    await run_in_threadpool(engine.rebuild)

    inflight: set[asyncio.Future[dict[str, str]]] = set()
    runtime.extras[INFLIGHT_KEY] = inflight

    turns = runtime.background()

    async def on_sos(batch: list[Event]) -> None:
        # Everything the bus had waiting, in one transaction (malformed payloads are dropped
        # inside: redelivering them would never help). Shielded and tracked: a subscription
        # stopped mid-batch must not leave a thread writing to the database after the worker
        # has disposed of its engine.
        await turns.turn()  # SOS acknowledgements first (tocsin.core.priority)
        payloads = [event.data for event in batch]
        job = asyncio.ensure_future(run_in_threadpool(engine.intake_batch, payloads))
        inflight.add(job)
        job.add_done_callback(inflight.discard)
        await asyncio.shield(job)

    async def on_position(event: Event) -> None:
        # Only an SOS sent "position unknown" and not placed yet changes anything here.
        await run_in_threadpool(engine.place, event.data)

    async def on_unit(event: Event) -> None:
        engine.apply_unit_event(event)

    subs: list[Subscription] = [
        await runtime.bus.subscribe_batch(SOS_CREATED, on_sos, durable="dispatch",
                                          max_batch=engine.config.batch),
        await runtime.bus.subscribe(SOS_POSITION, on_position),
        await runtime.bus.subscribe(events.UNIT_STATUS, on_unit),
        await runtime.bus.subscribe(events.UNIT_POSITION, on_unit),
    ]
    runtime.extras[SUBS_KEY] = subs
    # Recovery runs beside serving, not before it: a worker restarted under load may find
    # thousands of SOS not yet clustered (the consumers' backlog), and must take new SOS at once.
    halt = threading.Event()
    recovery = asyncio.ensure_future(run_in_threadpool(_recover, engine, halt))
    runtime.extras[RECOVERY_KEY] = (halt, recovery)
    stop = asyncio.Event()
    task = asyncio.create_task(_escalation_loop(engine, stop), name="dispatch-escalation")
    runtime.extras[LOOP_KEY] = (stop, task)


def _recover(engine: DispatchEngine, halt: threading.Event) -> None:
    try:
        engine.recover(halt=halt)
    except Exception as exc:  # database down: the next start (or the consumers) catch up
        log.warning("dispatch recovery stopped: %s", exc)


async def _escalation_loop(engine: DispatchEngine, stop: asyncio.Event) -> None:
    while not stop.is_set():
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), timeout=engine.config.escalation_tick_s)
        if stop.is_set():
            return
        try:
            await run_in_threadpool(engine.tick)
        except Exception as exc:  # database down: try again next tick
            log.warning("dispatch escalation tick failed: %s", exc)


async def stop(runtime: Runtime) -> None:
    """Stop escalating (the tick in progress finishes) and unsubscribe."""
    recovery = runtime.extras.pop(RECOVERY_KEY, None)
    if recovery is not None:
        halt, job = recovery
        halt.set()
        await asyncio.wait({job}, timeout=10)
    loop = runtime.extras.pop(LOOP_KEY, None)
    if loop is not None:
        stop_event, task = loop
        stop_event.set()
        try:
            await asyncio.wait_for(task, timeout=10)
        except TimeoutError:
            task.cancel()
    for sub in runtime.extras.pop(SUBS_KEY, []):
        await sub.stop()
    inflight = runtime.extras.pop(INFLIGHT_KEY, set())
    if inflight:
        await asyncio.wait(inflight, timeout=10)
