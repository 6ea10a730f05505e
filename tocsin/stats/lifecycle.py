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

from starlette.concurrency import run_in_threadpool

from tocsin.core.bus import Event, Subscription
from tocsin.core.db import session_scope
from tocsin.core.runtime import Runtime
from tocsin.stats import anomaly, ingest
from tocsin.stats.config import StatsSettings
from tocsin.stats.registry import registry

log = logging.getLogger("tocsin.stats")

SETTINGS = "stats.settings"
SUBS = "stats.subscriptions"
LOOP = "stats.loop"


def settings_of(runtime: Runtime) -> StatsSettings:
    """Return this worker's stats settings."""
    cfg = runtime.extras.get(SETTINGS)
    if not isinstance(cfg, StatsSettings):
        cfg = runtime.extras[SETTINGS] = StatsSettings()
    return cfg


def durable_name(subject: str) -> str:
    """Return the durable consumer name for ``subject`` (NATS names allow no dots)."""
    readable = subject.replace("*", "any").replace(">", "all")
    return "stats_" + re.sub(r"[^A-Za-z0-9_-]", "_", readable)


def handle_event(runtime: Runtime, event: Event) -> int:
    """Turn one event into facts and store them (blocking: run in a thread)."""
    with session_scope(runtime.sessions) as session:
        return ingest.store(session, ingest.facts_of_event(session, registry(), event))


def tick(runtime: Runtime) -> None:
    """Sweep the domains' tables, then look for anomalies (blocking: run in a thread)."""
    cfg = settings_of(runtime)
    with session_scope(runtime.sessions) as session:
        ingest.sweep(session, registry(),
                     overlap=dt.timedelta(seconds=cfg.sweep_overlap_seconds))
    with session_scope(runtime.sessions) as session:
        anomaly.scan(session, registry(), cfg)


async def start(runtime: Runtime) -> None:
    """Subscribe to the figures' subjects and start the sweep loop."""
    cfg = settings_of(runtime)
    subs: list[Subscription] = []

    async def on_event(event: Event) -> None:
        await run_in_threadpool(handle_event, runtime, event)

    for subject in registry().subjects():
        subs.append(await runtime.bus.subscribe(subject, on_event, durable=durable_name(subject)))
    runtime.extras[SUBS] = subs
    stop_flag = asyncio.Event()
    task = asyncio.create_task(_loop(runtime, cfg, stop_flag), name="stats-sweep")
    runtime.extras[LOOP] = (stop_flag, task)


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
    loop = runtime.extras.pop(LOOP, None)
    if loop is not None:
        stop_flag, task = loop
        stop_flag.set()
        with contextlib.suppress(asyncio.CancelledError):
            await task
    for sub in runtime.extras.pop(SUBS, []):
        await sub.stop()
