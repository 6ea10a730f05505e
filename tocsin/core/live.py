"""Live fan-out of bus events to open pages (Server-Sent Events), one bus subscription per worker.

Every worker subscribes once (without a durable name, so every worker sees every event) and
copies each event to the queues of its connected clients. A client that cannot keep up loses
its oldest events rather than slowing the bus, and is told so by a ``lag`` notice: a live page
then reloads its state from the API.

Use from a route::

    @router.get("/stream", response_class=EventSourceResponse)
    async def stream(runtime: AppRuntime) -> AsyncIterator[ServerSentEvent]:
        async for item in live_events(runtime, ["sos.*", "dispatch.*"]):
            yield item
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Callable

from fastapi.sse import ServerSentEvent

from tocsin.core.bus import Event, Subscription, subject_matches
from tocsin.core.runtime import Runtime

HEARTBEAT_SECONDS = 15.0
CLIENT_QUEUE = 500


class LiveHub:
    """One worker's fan-out of bus events to its connected clients."""

    def __init__(self, runtime: Runtime) -> None:
        self.runtime = runtime
        self._clients: set[_Client] = set()
        self._subscription: Subscription | None = None
        self._lock = asyncio.Lock()

    async def _ensure_subscribed(self) -> None:
        async with self._lock:
            if self._subscription is None:
                self._subscription = await self.runtime.bus.subscribe(">", self._dispatch)

    async def _dispatch(self, event: Event) -> None:
        for client in list(self._clients):
            client.offer(event)

    async def close(self) -> None:
        """Drop the subscription (worker shutdown)."""
        if self._subscription is not None:
            await self._subscription.stop()
            self._subscription = None

    @contextlib.asynccontextmanager
    async def connect(
        self, patterns: list[str], accept: Callable[[Event], bool] | None = None
    ) -> AsyncIterator[_Client]:
        """Register a client for events matching ``patterns`` (and ``accept``, if given)."""
        await self._ensure_subscribed()
        client = _Client(patterns, accept)
        self._clients.add(client)
        try:
            yield client
        finally:
            self._clients.discard(client)


class _Client:
    def __init__(self, patterns: list[str], accept: Callable[[Event], bool] | None) -> None:
        self.patterns = patterns
        self.accept = accept
        self.queue: asyncio.Queue[Event] = asyncio.Queue(maxsize=CLIENT_QUEUE)
        self.lagged = False

    def offer(self, event: Event) -> None:
        if not any(subject_matches(p, event.subject) for p in self.patterns):
            return
        if self.accept is not None and not self.accept(event):
            return
        if self.queue.full():
            self.lagged = True
            self.queue.get_nowait()
        self.queue.put_nowait(event)


def hub(runtime: Runtime) -> LiveHub:
    """Return the worker's hub, creating it on first use."""
    existing = runtime.extras.get("live_hub")
    if existing is None:
        existing = runtime.extras.setdefault("live_hub", LiveHub(runtime))
    assert isinstance(existing, LiveHub)
    return existing


async def live_events(
    runtime: Runtime,
    patterns: list[str],
    *,
    accept: Callable[[Event], bool] | None = None,
    heartbeat: float = HEARTBEAT_SECONDS,
) -> AsyncIterator[ServerSentEvent]:
    """Yield SSE items for bus events matching ``patterns``, with heartbeats and lag notices."""
    async with hub(runtime).connect(patterns, accept) as client:
        yield ServerSentEvent(event="ready", data={"patterns": patterns}, retry=2000)
        while True:
            try:
                event = await asyncio.wait_for(client.queue.get(), timeout=heartbeat)
            except TimeoutError:
                yield ServerSentEvent(comment="heartbeat")
                continue
            if client.lagged:
                client.lagged = False
                yield ServerSentEvent(event="lag", data={"reload": True})
            yield ServerSentEvent(
                event=event.subject, id=event.id, data=event.model_dump(mode="json")
            )
