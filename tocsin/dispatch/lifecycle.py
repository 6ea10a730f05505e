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

from tocsin.core.bus import Event
from tocsin.core.runtime import Runtime
from tocsin.dispatch import events
from tocsin.dispatch.engine import DispatchEngine, DispatchState, new_state
from tocsin.sos.events import SOS_CREATED, SOS_POSITION

log = logging.getLogger("tocsin.dispatch")


async def start(runtime: Runtime) -> None:
    """Read the settings, rebuild the index, subscribe, recover unhandled SOS, escalate."""
    state = runtime.states.put(new_state(runtime))
    engine = state.engine
    await run_in_threadpool(engine.rebuild)

    inflight = state.inflight

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

    state.subscriptions = [
        await runtime.bus.subscribe_batch(SOS_CREATED, on_sos, durable="dispatch",
                                          max_batch=engine.config.batch),
        await runtime.bus.subscribe(SOS_POSITION, on_position),
        await runtime.bus.subscribe(events.UNIT_STATUS, on_unit),
        await runtime.bus.subscribe(events.UNIT_POSITION, on_unit),
    ]
    # Recovery runs beside serving, not before it: a worker restarted under load may find
    # thousands of SOS not yet clustered (the consumers' backlog), and must take new SOS at once.
    halt = threading.Event()
    recovery = asyncio.ensure_future(run_in_threadpool(_recover, engine, halt))
    state.recovery = (halt, recovery)
    stop = asyncio.Event()
    task = asyncio.create_task(_escalation_loop(engine, stop), name="dispatch-escalation")
    state.loop = (stop, task)


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
    # The state stays: a request finishing while the worker stops still finds the engine.
    state = runtime.states.find(DispatchState)
    if state is None:
        return
    if state.recovery is not None:
        halt, job = state.recovery
        state.recovery = None
        halt.set()
        await asyncio.wait({job}, timeout=10)
    if state.loop is not None:
        stop_event, task = state.loop
        state.loop = None
        stop_event.set()
        try:
            await asyncio.wait_for(task, timeout=10)
        except TimeoutError:
            task.cancel()
    subscriptions, state.subscriptions = state.subscriptions, []
    for sub in subscriptions:
        await sub.stop()
    if state.inflight:
        await asyncio.wait(set(state.inflight), timeout=10)
