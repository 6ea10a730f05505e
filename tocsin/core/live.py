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

Every live route also takes a slot (``Depends(live_slot)``, or ``hub(...).admit`` with the
account for a signed-in stream): a worker holds at most ``TOCSIN_LIVE_PER_ADDRESS`` (20)
connections of one client address, ``TOCSIN_LIVE_PER_ACCOUNT`` (5) of one account and
``TOCSIN_LIVE_TOTAL`` (2,000) in all (issue 19: one client had opened 300 unauthenticated
streams). Past them the route answers 429 (that address or account) or 503 (the worker is
full), both with ``Retry-After``, before the stream starts; the slot is given back when the
stream ends.

A signed-in stream passes a ``guard``: ``live_events`` calls it before each batch of events it
sends and every ``recheck`` seconds while idle, and ends the stream with a ``closed`` event
when it names a reason (the session was revoked, the account
deactivated...; issue 19: a console kept receiving SOS after its session had ended).
"""

from __future__ import annotations

import asyncio
import contextlib
import threading
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator

from fastapi import HTTPException, Request
from fastapi.sse import ServerSentEvent
from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

from tocsin.core.bus import Event, Subscription, subject_matches
from tocsin.core.ratelimit import client_address
from tocsin.core.runtime import Runtime

HEARTBEAT_SECONDS = 15.0
CLIENT_QUEUE = 500


class LiveSettings(BaseSettings):
    """Bounds of a worker's live connections; every field maps to ``TOCSIN_LIVE_<NAME>``."""

    model_config = SettingsConfigDict(env_prefix="TOCSIN_LIVE_", extra="ignore")

    # Connections one client address may hold open on one worker (a household or an office
    # behind one NAT has a few pages open; 20 leaves room for them).
    per_address: int = Field(default=20, ge=1)
    # Connections one signed-in account may hold open on one worker (a dispatcher has a
    # console or two, on one or two screens).
    per_account: int = Field(default=5, ge=1)
    # Connections one worker holds in all (each costs a queue and a task).
    total: int = Field(default=2000, ge=1)
    # The Retry-After of a refusal, in seconds.
    retry_after_s: int = Field(default=30, ge=1)


class LiveHub:
    """One worker's fan-out of bus events to its connected clients."""

    def __init__(self, runtime: Runtime, limits: LiveSettings | None = None) -> None:
        self.runtime = runtime
        self.limits = limits if limits is not None else LiveSettings()
        self._clients: set[_Client] = set()
        self._subscription: Subscription | None = None
        self._lock = asyncio.Lock()
        self._admitted = 0
        self._by_address: dict[str, int] = {}
        self._by_account: dict[str, int] = {}
        self._count_lock = threading.Lock()

    @property
    def admitted(self) -> int:
        """How many live connections hold a slot now."""
        return self._admitted

    @contextlib.contextmanager
    def admit(self, address: str, account: str | None = None) -> Iterator[None]:
        """Hold a slot for one connection from ``address`` (and ``account``, when signed in),
        or raise 503 / 429 if none is left."""
        retry = {"Retry-After": str(self.limits.retry_after_s)}
        with self._count_lock:
            if self._admitted >= self.limits.total:
                raise HTTPException(503, "too many live connections on this server; retry "
                                         "later", headers=retry)
            if self._by_address.get(address, 0) >= self.limits.per_address:
                raise HTTPException(429, "too many live connections from this address",
                                    headers=retry)
            if account is not None and \
                    self._by_account.get(account, 0) >= self.limits.per_account:
                raise HTTPException(429, "too many live connections of this account; close "
                                         "another page first", headers=retry)
            self._admitted += 1
            _add(self._by_address, address, 1)
            if account is not None:
                _add(self._by_account, account, 1)
        try:
            yield
        finally:
            with self._count_lock:
                self._admitted -= 1
                _add(self._by_address, address, -1)
                if account is not None:
                    _add(self._by_account, account, -1)

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


def _add(counts: dict[str, int], key: str, step: int) -> None:
    left = counts.get(key, 0) + step
    if left:
        counts[key] = left
    else:
        del counts[key]


def hub(runtime: Runtime) -> LiveHub:
    """Return the worker's hub, creating it on first use."""
    return runtime.states.shared(LiveHub, lambda: LiveHub(runtime))


async def live_slot(request: Request) -> AsyncIterator[None]:
    """A dependency of every live route: admit the connection (429/503 before the stream
    starts when its address or the worker is full) and give its slot back when it ends."""
    with hub(request.app.state.runtime).admit(client_address(request)):
        yield


# A guard answers None while the stream may go on, else the reason it must end.
Guard = Callable[[], Awaitable[str | None]]


async def live_events(
    runtime: Runtime,
    patterns: list[str],
    *,
    accept: Callable[[Event], bool] | None = None,
    heartbeat: float = HEARTBEAT_SECONDS,
    guard: Guard | None = None,
    recheck: float = 3.0,
) -> AsyncIterator[ServerSentEvent]:
    """Yield SSE items for bus events matching ``patterns``, with heartbeats and lag notices.

    With a ``guard``: events are sent in batches (all that has arrived when the first is
    taken); the guard is asked after a batch arrived and before it is sent, and every
    ``recheck`` seconds while idle; the stream ends with a ``closed`` event once it names a
    reason. Under a flood the batches grow while a check runs, so there are as many checks as
    the guard can answer, not one per event.
    """
    loop = asyncio.get_running_loop()
    async with hub(runtime).connect(patterns, accept) as client:
        yield ServerSentEvent(event="ready", data={"patterns": patterns}, retry=2000)
        checked = sent = loop.time()
        wake = heartbeat if guard is None else min(heartbeat, recheck)
        while True:
            batch: list[Event] = []
            with contextlib.suppress(TimeoutError):
                batch.append(await asyncio.wait_for(client.queue.get(), timeout=wake))
            if guard is not None:  # all that has arrived: checked once, after it arrived
                while batch and not client.queue.empty():
                    batch.append(client.queue.get_nowait())
            if guard is not None and (batch or loop.time() - checked >= recheck):
                reason = await guard()
                if reason is not None:
                    yield ServerSentEvent(event="closed", data={"reason": reason})
                    return
                checked = loop.time()
            if not batch:
                if loop.time() - sent >= heartbeat:
                    yield ServerSentEvent(comment="heartbeat")
                    sent = loop.time()
                continue
            if client.lagged:
                client.lagged = False
                yield ServerSentEvent(event="lag", data={"reload": True})
            for event in batch:
                yield ServerSentEvent(
                    event=event.subject, id=event.id, data=event.model_dump(mode="json")
                )
            sent = loop.time()
