"""Worker start and stop of the cyber desk: plan and send advisory deliveries after commit.

``cyber.advisory_published`` is consumed under the durable name ``cyber-delivery`` (once across
workers, redelivered until handled); planning is idempotent. Pushes go out through the core's
Web Push sender (:mod:`tocsin.core.webpush`: pooled HTTP/2 per push service, the VAPID key and
settings the alerts' fan-out uses too), so the desk needs nothing of the alerts domain.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

from pydantic import ValidationError
from starlette.concurrency import run_in_threadpool

from tocsin.core.bus import Event, Subscription
from tocsin.core.db import session_scope
from tocsin.core.runtime import Runtime
from tocsin.core.webpush import PushSender, PushSettings, load_vapid
from tocsin.cyber import delivery, events

log = logging.getLogger("tocsin.cyber")


@dataclass
class CyberState:
    """What the cyber desk keeps in a worker: its push sender and its consumer."""

    sender: PushSender
    subscription: Subscription | None = None


async def start(runtime: Runtime) -> None:
    """Load the VAPID key, subscribe the delivery planner."""
    settings = PushSettings()
    key = await run_in_threadpool(load_vapid, settings.vapid_private_key,
                                  runtime.settings.var_dir)
    current = runtime.states.put(CyberState(sender=PushSender(key, settings)))

    async def on_published(event: Event) -> None:
        try:
            published = events.AdvisoryPublished.model_validate(event.data)
        except ValidationError as exc:  # redelivering it would never help
            log.error("dropping %s: %s", events.ADVISORY_PUBLISHED, exc.errors()[0]["msg"])
            return

        def plan() -> tuple[int, int, list[delivery.PushJob]]:
            with session_scope(runtime.sessions) as session:
                mails, pushes = delivery.plan(session, advisory_id=published.id,
                                              version_no=published.version,
                                              base_url=runtime.settings.base_url)
                return mails, pushes, delivery.pending_pushes(session)

        mails, pushes, jobs = await run_in_threadpool(plan)
        outcomes = await delivery.send_pushes(current.sender, jobs)

        def record() -> int:
            with session_scope(runtime.sessions) as session:
                return delivery.record_pushes(session, outcomes)

        sent = await run_in_threadpool(record)
        log.info("advisory %s v%d: %d mails queued, %d pushes planned, %d sent",
                 published.id, published.version, mails, pushes, sent)

    current.subscription = await runtime.bus.subscribe(
        events.ADVISORY_PUBLISHED, on_published, durable="cyber-delivery")


async def stop(runtime: Runtime) -> None:
    """Stop consuming, close the push connections."""
    current = runtime.states.take(CyberState)
    if current is None:
        return
    if current.subscription is not None:
        await current.subscription.stop()
    await current.sender.aclose()
