"""Worker start and stop of the cyber desk: plan and send advisory deliveries after commit.

``cyber.advisory_published`` is consumed under the durable name ``cyber-delivery`` (once across
workers, redelivered until handled); planning is idempotent, pushes are sent in a thread.
"""

from __future__ import annotations

import logging

from starlette.concurrency import run_in_threadpool

from tocsin.alerts.config import AlertSettings
from tocsin.core.bus import Event
from tocsin.core.db import session_scope
from tocsin.core.runtime import Runtime
from tocsin.cyber import advisories, delivery

log = logging.getLogger("tocsin.cyber")
STATE_KEY = "cyber.subscription"


async def start(runtime: Runtime) -> None:
    """Subscribe the delivery planner."""
    config = AlertSettings()

    async def on_published(event: Event) -> None:
        advisory_id = str(event.data.get("id", ""))
        version_no = int(event.data.get("version", 0))

        def work() -> tuple[int, int, int]:
            with session_scope(runtime.sessions) as session:
                mails, pushes = delivery.plan(session, advisory_id=advisory_id,
                                              version_no=version_no,
                                              base_url=runtime.settings.base_url)
                jobs = delivery.pending_pushes(session)
            # The alerts domain keeps the worker's VAPID key; without it pushes wait.
            vapid = getattr(runtime.extras.get("alerts"), "vapid", None)
            with session_scope(runtime.sessions) as session:
                sent = delivery.send_pushes(session, vapid=vapid, config=config, jobs=jobs)
            return mails, pushes, sent

        mails, pushes, sent = await run_in_threadpool(work)
        log.info("advisory %s v%d: %d mails queued, %d pushes planned, %d sent",
                 advisory_id, version_no, mails, pushes, sent)

    runtime.extras[STATE_KEY] = await runtime.bus.subscribe(
        advisories.PUBLISHED, on_published, durable="cyber-delivery")


async def stop(runtime: Runtime) -> None:
    """Stop consuming."""
    subscription = runtime.extras.pop(STATE_KEY, None)
    if subscription is not None:
        await subscription.stop()
