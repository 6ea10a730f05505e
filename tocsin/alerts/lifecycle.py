"""Worker start and stop of the alerts domain: settings, VAPID key, fan-out consumer and sender.

``alerts.published`` is consumed under the durable name ``alerts-fanout`` (each event planned
once across all workers, redelivered until handled); planning is idempotent anyway and streams
page by page. Every worker runs a :class:`~tocsin.alerts.fanout.Deliverer`; the one that plans is
woken after each page, the others find the rows on their next poll and share them.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass

from starlette.concurrency import run_in_threadpool

from tocsin.alerts import events, fanout, planning, service
from tocsin.alerts.config import AlertSettings
from tocsin.core.bus import Event, Subscription
from tocsin.core.runtime import Runtime
from tocsin.core.webpush import VapidKey, load_vapid

log = logging.getLogger("tocsin.alerts")


@dataclass
class AlertsState:
    """What the alerts domain keeps in a worker's runtime (``runtime.state(AlertsState)``)."""

    config: AlertSettings
    sender: str
    vapid: VapidKey
    deliverer: fanout.Deliverer
    subscription: Subscription | None = None


def state(runtime: Runtime) -> AlertsState:
    """Return the domain's state in this worker."""
    return runtime.state(AlertsState)


async def start(runtime: Runtime) -> None:
    """Load settings and keys, subscribe the fan-out planner, start the deliverer."""
    config = AlertSettings()
    vapid = await run_in_threadpool(
        load_vapid, config.vapid_private_key, runtime.settings.var_dir)
    deliverer = fanout.Deliverer(runtime.sessions, config, base_url=runtime.settings.base_url,
                                 vapid=vapid)
    current = AlertsState(
        config=config,
        sender=config.sender or service.default_sender(runtime.settings.base_url),
        vapid=vapid, deliverer=deliverer,
    )
    runtime.states.put(current)

    async def on_published(event: Event) -> None:
        alert_id = str(event.data.get("id", ""))
        loop = asyncio.get_running_loop()

        def wake(added: int) -> None:  # from the planning thread, after each page's commit
            loop.call_soon_threadsafe(current.deliverer.wake)

        added = await run_in_threadpool(
            planning.plan_streaming, runtime.sessions, alert_id, on_chunk=wake)
        if added:
            log.info("alert %s: %d deliveries planned", alert_id, added)

    current.subscription = await runtime.bus.subscribe(
        events.PUBLISHED, on_published, durable="alerts-fanout")
    deliverer.start()


async def stop(runtime: Runtime) -> None:
    """Stop consuming and sending."""
    current = runtime.states.find(AlertsState)
    if current is None:
        return
    if current.subscription is not None:
        await current.subscription.stop()
    await current.deliverer.stop()
