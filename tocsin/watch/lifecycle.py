"""Per-worker background work of the content watch: polling the registered feeds.

Each worker polls every ``TOCSIN_WATCH_FEED_POLL_SECONDS`` (0 turns polling off). Several
workers polling the same feed is harmless: items are grouped by URL (unique key) and feeds are
fetched conditionally (ETag), so a second worker mostly gets 304 Not Modified.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from dataclasses import dataclass

from pydantic import ValidationError
from sqlalchemy.exc import SQLAlchemyError

from tocsin.core.bus import Event, Subscription
from tocsin.core.db import session_scope
from tocsin.core.errors import DomainError
from tocsin.core.runtime import Runtime
from tocsin.watch import events, feeds, service, webhook
from tocsin.watch.config import WatchSettings

log = logging.getLogger("tocsin.watch")


@dataclass
class WatchState:
    """What the content watch keeps in a worker's runtime (``runtime.state(WatchState)``)."""

    settings: WatchSettings
    poller: asyncio.Task[None] | None = None
    webhooks: Subscription | None = None


def poll_all(runtime: Runtime) -> int:
    """Poll every feed once, each in its own transaction; return how many new items came in."""
    with session_scope(runtime.sessions) as session:
        ids = [f.id for f in feeds.all_feeds(session)]
    if not ids:
        return 0
    new = 0
    model = service.model_for(runtime.settings.var_dir)
    settings = runtime.state(WatchState).settings
    for feed_id in ids:
        try:
            with session_scope(runtime.sessions) as session:
                new += feeds.poll(session, feed_id=feed_id, model=model,
                                  settings=settings).new_items
        except (DomainError, SQLAlchemyError) as exc:
            # One broken feed must not stop the others; the next round retries it.
            log.warning("feed %s not polled: %s", feed_id, exc)
    return new


async def _loop(runtime: Runtime, every: float) -> None:
    while True:
        await asyncio.sleep(every)
        try:
            await asyncio.to_thread(poll_all, runtime)
        except Exception:  # a bad round is logged; the loop lives on
            log.exception("feed polling round failed")


WEBHOOK_RETRIES = (0.0, 1.0, 5.0)


async def start(runtime: Runtime) -> None:
    """Read the settings, start the feed poller (unless turned off) and the webhook consumer."""
    state = runtime.states.put(WatchState(settings=WatchSettings()))
    if state.settings.feed_poll_seconds > 0:
        state.poller = asyncio.create_task(_loop(runtime, state.settings.feed_poll_seconds))

    async def on_order(event: Event) -> None:
        try:
            order_id = events.OrderIssued.model_validate(event.data).id
        except ValidationError as exc:  # redelivering it would never help
            log.error("dropping %s: %s", events.ORDER_ISSUED, exc.errors()[0]["msg"])
            return

        def push() -> bool:
            with session_scope(runtime.sessions) as session:
                return webhook.deliver(session, order_id=order_id, settings=state.settings)

        # A failed push is retried a little, then left: the pull API still serves the order.
        for delay in WEBHOOK_RETRIES:
            await asyncio.sleep(delay)
            try:
                if await asyncio.to_thread(push):
                    return
            except SQLAlchemyError as exc:
                log.warning("order %s webhook not recorded: %s", order_id, exc)

    state.webhooks = await runtime.bus.subscribe(
        events.ORDER_ISSUED, on_order, durable="watch-webhook")


async def stop(runtime: Runtime) -> None:
    """Stop the feed poller and the webhook consumer."""
    state = runtime.states.find(WatchState)
    if state is None:
        return
    if state.webhooks is not None:
        await state.webhooks.stop()
        state.webhooks = None
    if state.poller is not None:
        state.poller.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await state.poller
        state.poller = None
