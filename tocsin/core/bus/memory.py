"""In-process bus for the embedded mode: asyncio queues, one worker task per subscription.

Durability comes from the outbox, not from here: an event is only marked published after
``publish`` returns, and events not yet handled when the process dies are re-published from the
outbox at the next start. Subscriptions sharing a durable name compete (each event goes to one
of them); subscriptions without one each receive every event.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import logging
from collections import defaultdict

from tocsin.core.bus.base import BatchHandler, Event, Handler, subject_matches
from tocsin.core.bus.dedupe import SeenIds

log = logging.getLogger("tocsin.bus.memory")

MAX_ATTEMPTS = 5


class _MemorySubscription:
    def __init__(
        self, bus: MemoryBus, subject: str, handler: BatchHandler, durable: str | None,
        max_batch: int = 1,
    ) -> None:
        self.bus = bus
        self.subject = subject
        self.handler = handler
        self.durable = durable
        self.max_batch = max_batch
        self.queue: asyncio.Queue[Event] = asyncio.Queue()
        self.seen = SeenIds()
        self.task = asyncio.create_task(self._run(), name=f"bus-sub-{subject}-{durable}")

    async def _run(self) -> None:
        while True:
            batch = [await self.queue.get()]
            # Drain what is already waiting: a batch handler takes it in one go.
            while len(batch) < self.max_batch and not self.queue.empty():
                batch.append(self.queue.get_nowait())
            try:
                fresh = [event for event in batch if self.seen.first_time(event.id)]
                if fresh:
                    await self._deliver(fresh)
            finally:
                for _ in batch:
                    self.queue.task_done()

    async def _deliver(self, events: list[Event]) -> None:
        for attempt in range(1, MAX_ATTEMPTS + 1):
            try:
                await self.handler(events)
                return
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("handler failed for %s (attempt %d)", events[0].subject, attempt)
                await asyncio.sleep(min(0.05 * 2**attempt, 2.0))
        log.error("giving up on %d event(s) %s %s after %d attempts", len(events),
                  events[0].subject, events[0].id, attempt)

    async def stop(self) -> None:
        self.bus._remove(self)
        self.task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await self.task


class MemoryBus:
    """The embedded bus; see the module docstring."""

    name = "memory"

    def __init__(self) -> None:
        self._subs: list[_MemorySubscription] = []
        self._round_robin: dict[str, itertools.count[int]] = defaultdict(itertools.count)

    async def connect(self) -> None:
        return None

    async def close(self) -> None:
        for sub in list(self._subs):
            await sub.stop()

    async def healthy(self) -> bool:
        return True

    async def publish(self, event: Event) -> None:
        groups: dict[str, list[_MemorySubscription]] = defaultdict(list)
        for sub in self._subs:
            if not subject_matches(sub.subject, event.subject):
                continue
            if sub.durable is None:
                sub.queue.put_nowait(event)
            else:
                groups[sub.durable].append(sub)
        for durable, members in groups.items():
            members[next(self._round_robin[durable]) % len(members)].queue.put_nowait(event)

    async def subscribe(
        self, subject: str, handler: Handler, *, durable: str | None = None
    ) -> _MemorySubscription:
        async def one(events: list[Event]) -> None:
            await handler(events[0])

        sub = _MemorySubscription(self, subject, one, durable)
        self._subs.append(sub)
        return sub

    async def subscribe_batch(
        self, subject: str, handler: BatchHandler, *, durable: str, max_batch: int = 256
    ) -> _MemorySubscription:
        sub = _MemorySubscription(self, subject, handler, durable, max_batch=max_batch)
        self._subs.append(sub)
        return sub

    async def drain(self) -> None:
        """Wait until every queued event has been handled (tests and orderly shutdown)."""
        for sub in list(self._subs):
            await sub.queue.join()

    def _remove(self, sub: _MemorySubscription) -> None:
        if sub in self._subs:
            self._subs.remove(sub)
