"""Start and stop the observatory on one worker.

Each subject some domain's ``figures`` listens to is consumed with a durable name, so with
several workers each event is counted by one of them (and a fact counted twice would be
skipped anyway, by its key). A loop sweeps the domains' tables and looks for anomalies every
``sweep_seconds``.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import logging
import re
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

from starlette.concurrency import run_in_threadpool

from tocsin.core.bus import Event, Subscription
from tocsin.core.db import session_scope
from tocsin.core.runtime import Runtime
from tocsin.stats import anomaly, ingest
from tocsin.stats.config import StatsSettings
from tocsin.stats.registry import registry

log = logging.getLogger("tocsin.stats")

# Events taken per transaction (what the bus has waiting, up to this many).
BATCH = 256


@dataclass
class StatsState:
    """What the observatory keeps in a worker's runtime (``runtime.state(StatsState)``)."""

    settings: StatsSettings
    subscriptions: list[Subscription] = field(default_factory=list)
    stop_flag: asyncio.Event = field(default_factory=asyncio.Event)
    loop: asyncio.Task[None] | None = None


def settings_of(runtime: Runtime) -> StatsSettings:
    """Return this worker's stats settings (read once, at start)."""
    return runtime.state(StatsState).settings


def durable_name(subject: str) -> str:
    """Return the durable consumer name for ``subject`` (NATS names allow no dots)."""
    readable = subject.replace("*", "any").replace(">", "all")
    return "stats_" + re.sub(r"[^A-Za-z0-9_-]", "_", readable)


def handle_events(runtime: Runtime, events: list[Event]) -> int:
    """Turn a batch of events into facts and store them in one transaction (blocking).

    One transaction per batch, not per event: at a few hundred SOS a second, one commit per
    ``sos.created`` cost the observatory as many fsyncs as the SOS intake itself, and every
    worker's consumer updated the same few rollup rows (this minute, this cell) one fact at a
    time, waiting on each other's row locks. A batch adds its facts to each rollup row once.
    """
    with session_scope(runtime.sessions) as session:
        reg = registry()
        facts = [fact for event in events for fact in ingest.facts_of_event(session, reg, event)]
        return ingest.store(session, facts)


def tick(runtime: Runtime) -> None:
    """Sweep the domains' tables, then look for anomalies (blocking: run in a thread)."""
    cfg = settings_of(runtime)
    with session_scope(runtime.sessions) as session:
        # Another worker's sweep within most of an interval counts as this one's.
        ingest.sweep(session, registry(),
                     overlap=dt.timedelta(seconds=cfg.sweep_overlap_seconds),
                     min_gap=dt.timedelta(seconds=cfg.sweep_seconds * 0.8))
    with session_scope(runtime.sessions) as session:
        anomaly.scan(session, registry(), cfg)


async def start(runtime: Runtime) -> None:
    """Read the settings, subscribe to the figures' subjects and start the sweep loop."""
    state = runtime.states.put(StatsState(settings=StatsSettings()))

    def consumer() -> Callable[[list[Event]], Awaitable[None]]:
        turns = runtime.background()  # one per subscription: each batches on its own

        async def on_events(events: list[Event]) -> None:
            await turns.turn()  # SOS acknowledgements first (tocsin.core.priority)
            await run_in_threadpool(handle_events, runtime, events)

        return on_events

    for subject in registry().subjects():
        state.subscriptions.append(await runtime.bus.subscribe_batch(
            subject, consumer(), durable=durable_name(subject), max_batch=BATCH))
    state.loop = asyncio.create_task(
        _loop(runtime, state.settings, state.stop_flag), name="stats-sweep")


async def _loop(runtime: Runtime, cfg: StatsSettings, stop_flag: asyncio.Event) -> None:
    while not stop_flag.is_set():
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop_flag.wait(), timeout=cfg.sweep_seconds)
        if stop_flag.is_set():
            return
        try:
            await run_in_threadpool(tick, runtime)
        except Exception as exc:  # database down: try again at the next tick
            log.warning("stats sweep failed: %s", exc)


async def stop(runtime: Runtime) -> None:
    """Stop the loop (the tick in progress finishes) and unsubscribe."""
    state = runtime.states.find(StatsState)
    if state is None:
        return
    if state.loop is not None:
        state.stop_flag.set()
        with contextlib.suppress(asyncio.CancelledError):
            await state.loop
        state.loop = None
    for sub in state.subscriptions:
        await sub.stop()
    state.subscriptions.clear()
