"""NATS JetStream bus for the cluster mode.

One durable stream holds ``<prefix>.>``; a logical subject ``sos.created`` travels as
``<prefix>.sos.created``. Publishing sets ``Nats-Msg-Id`` to the event id, so the server drops a
duplicate published within its window (a relay that crashed between publish and mark). Durable
subscriptions are pull consumers: several workers share one durable name and split the work, and
an event not acknowledged is redelivered. Subscriptions without a durable name are plain core
subscriptions: every worker sees every event (live pages). Payloads travel and rest sealed
(``tocsin.core.bus.wire``): the stream's file store holds no event data in clear.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable
from typing import Any

import nats
from nats.aio.client import Client
from nats.errors import Error as NatsError
from nats.js import JetStreamContext
from nats.js.api import ConsumerConfig, StorageType, StreamConfig
from nats.js.errors import NotFoundError

from tocsin.core.bus import wire
from tocsin.core.bus.base import BatchHandler, BusUnavailable, Event, Handler
from tocsin.core.bus.dedupe import SeenIds
from tocsin.core.seal import Sealer, SealError

log = logging.getLogger("tocsin.bus.jetstream")

DUPLICATE_WINDOW_S = 120.0
ACK_WAIT_S = 30.0
# How long one pull request waits on the server. An idle consumer asks again this often; a
# message that arrives meanwhile is handed over at once (the fetch returns with it).
FETCH_TIMEOUT_S = 5.0
# An idle consumer asks the server this often whether it still exists: an idle fetch and a
# fetch whose consumer was deleted both just time out.
IDLE_CHECK_S = 30.0
# A message whose payload this worker cannot open waits this long before it is offered again.
UNOPENED_RETRY_S = 30.0


def _describe(exc: BaseException) -> str:
    """Name an exception by its class and message (several nats-py errors have no message)."""
    text = str(exc)
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__


class _PullSubscription:
    """A pull consumer: one handler per event, or (``batch``) one call for each fetched batch."""

    def __init__(
        self, bus: JetStreamBus, subject: str, durable: str, handler: Handler | None = None,
        *, batch: BatchHandler | None = None, max_batch: int = 64,
    ) -> None:
        self.bus = bus
        self.subject = subject
        self.durable = durable
        self.handler = handler
        self.batch = batch
        self.max_batch = max_batch
        self.seen = SeenIds()
        self._stopping = False
        self._psub: Any = None
        self.task = asyncio.create_task(self._run(), name=f"js-pull-{durable}")

    async def _run(self) -> None:
        try:
            await self._loop()
        finally:
            await self._drop_inbox()

    async def _drop_inbox(self) -> None:
        # A pull inbox left subscribed is never consumed, and the connection's drain at
        # shutdown then waits its whole timeout (30 s) for it.
        psub, self._psub = self._psub, None
        if psub is not None:
            with contextlib.suppress(Exception):
                await psub.unsubscribe()

    async def _loop(self) -> None:
        loop = asyncio.get_running_loop()
        psub = None
        checked = loop.time()
        while not self._stopping and not self.bus._closed:
            try:
                if psub is None:
                    js = await self.bus._ready()
                    psub = self._psub = await js.pull_subscribe(
                        self.bus._wire(self.subject),
                        durable=self.durable,
                        stream=self.bus.stream,
                        config=ConsumerConfig(ack_wait=ACK_WAIT_S, max_ack_pending=2000),
                    )
                    checked = loop.time()
                try:
                    msgs = await psub.fetch(batch=self.max_batch, timeout=FETCH_TIMEOUT_S)
                except TimeoutError:
                    # Nothing arrived within the timeout: the consumer is idle. nats-py raises
                    # its own TimeoutError (a subclass), or a bare one with no message when the
                    # server's "request timeout" status beats its timer (an OSError: caught
                    # here, before the error branch below); it may also return an empty list.
                    msgs = []
                if not msgs:
                    if loop.time() - checked >= IDLE_CHECK_S:
                        await psub.consumer_info()  # NotFoundError if the consumer was deleted
                        checked = loop.time()
                    continue
                checked = loop.time()
            except asyncio.CancelledError:
                raise
            except (NatsError, BusUnavailable, OSError) as exc:
                log.warning("pull %s: %s; subscribing again", self.durable, _describe(exc))
                await self._drop_inbox()
                psub = None
                await asyncio.sleep(0.5)
                continue
            await self._handle(msgs)

    async def _handle(self, msgs: list[Any]) -> None:
        fresh: list[tuple[Any, Event]] = []
        for msg in msgs:
            try:
                event = wire.decode(msg.data, self.bus.sealer)
            except SealError as exc:
                # Most likely a key missing from TOCSIN_SEAL_OLD_KEYS after a rotation: keep
                # the message (redelivered later) rather than lose an event; the log says why.
                log.error("cannot open the payload of a message on %s: %s", msg.subject, exc)
                with contextlib.suppress(NatsError):
                    await msg.nak(delay=UNOPENED_RETRY_S)
                continue
            except ValueError:
                log.error("dropping malformed message on %s", msg.subject)
                await msg.term()
                continue
            if not self.seen.first_time(event.id):
                await msg.ack()
                continue
            fresh.append((msg, event))
        if self.batch is not None:
            if fresh:
                await self._deliver(fresh, self.batch([event for _, event in fresh]))
            return
        assert self.handler is not None
        for msg, event in fresh:
            await self._deliver([(msg, event)], self.handler(event))

    async def _deliver(self, pairs: list[tuple[Any, Event]], call: Awaitable[None]) -> None:
        """Await the handler's call; ack its events if it returns, nak them if it raises."""
        try:
            await call
        except asyncio.CancelledError:
            raise
        except Exception:
            log.exception("handler failed for %d %s; will be redelivered", len(pairs),
                          pairs[0][1].subject)
            for msg, event in pairs:
                self.seen.forget(event.id)
                with contextlib.suppress(NatsError):
                    await msg.nak(delay=1.0)
            return
        for msg, _ in pairs:
            with contextlib.suppress(NatsError):
                await msg.ack()

    async def stop(self) -> None:
        self._stopping = True
        self.bus._pulls.discard(self)
        self.task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await self.task


class _CoreSubscription:
    def __init__(self, sub: Any) -> None:
        self.sub = sub

    async def stop(self) -> None:
        with contextlib.suppress(NatsError):
            await self.sub.unsubscribe()


class JetStreamBus:
    """The cluster bus; see the module docstring."""

    name = "nats"

    def __init__(
        self, url: str, *, stream: str = "TOCSIN", prefix: str = "tocsin",
        sealer: Sealer | None = None,
    ) -> None:
        # The worker's keyring for payloads (None: the process's default, tools and tests).
        self.sealer = sealer
        self.servers = [part.strip() for part in url.split(",") if part.strip()]
        self.stream = stream
        self.prefix = prefix
        self._nc: Client | None = None
        self._js: JetStreamContext | None = None
        self._connected = asyncio.Event()
        self._connector: asyncio.Task[None] | None = None
        self._stream_ready = False
        self._closed = False
        self._pulls: set[_PullSubscription] = set()

    def _wire(self, subject: str) -> str:
        return f"{self.prefix}.{subject}"

    async def connect(self) -> None:
        """Connect now if the server answers; otherwise keep trying in the background."""
        try:
            await self._connect_once()
        except (NatsError, OSError) as exc:
            log.warning("NATS not reachable (%s); retrying in the background", exc)
            self._connector = asyncio.create_task(self._connect_forever())

    async def _connect_once(self) -> None:
        self._nc = await nats.connect(
            servers=self.servers,
            connect_timeout=2,
            reconnect_time_wait=0.5,
            max_reconnect_attempts=-1,
            allow_reconnect=True,
            name="tocsin",
        )
        self._js = self._nc.jetstream(timeout=5)
        await self._ensure_stream()
        self._connected.set()

    async def _connect_forever(self) -> None:
        while True:
            await asyncio.sleep(1.0)
            try:
                await self._connect_once()
                log.info("NATS connected")
                return
            except (NatsError, OSError):
                continue

    async def _ensure_stream(self) -> None:
        assert self._js is not None
        try:
            await self._js.stream_info(self.stream)
        except NotFoundError:
            await self._js.add_stream(
                StreamConfig(
                    name=self.stream,
                    subjects=[f"{self.prefix}.>"],
                    storage=StorageType.FILE,
                    duplicate_window=DUPLICATE_WINDOW_S,
                    max_age=14 * 24 * 3600.0,
                )
            )
        self._stream_ready = True

    async def _ready(self) -> JetStreamContext:
        if self._js is None or self._nc is None or not self._nc.is_connected:
            raise BusUnavailable("NATS is not connected")
        if not self._stream_ready:
            await self._ensure_stream()
        return self._js

    async def close(self) -> None:
        self._closed = True
        for pull in list(self._pulls):
            await pull.stop()
        if self._connector is not None:
            self._connector.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._connector
        if self._nc is not None and not self._nc.is_closed:
            with contextlib.suppress(NatsError):
                await self._nc.drain()

    async def healthy(self) -> bool:
        return self._nc is not None and self._nc.is_connected

    async def publish(self, event: Event) -> None:
        js = await self._ready()
        try:
            await js.publish(
                self._wire(event.subject),
                wire.encode(event, self.sealer),
                stream=self.stream,
                headers={"Nats-Msg-Id": event.id},
                timeout=3,
            )
        except (NatsError, OSError) as exc:
            raise BusUnavailable(f"publish of {event.subject} failed: {exc}") from exc

    async def subscribe(
        self, subject: str, handler: Handler, *, durable: str | None = None
    ) -> _PullSubscription | _CoreSubscription:
        if durable is not None:
            pull = _PullSubscription(self, subject, durable, handler)
            self._pulls.add(pull)
            return pull
        if self._nc is None:
            raise BusUnavailable("NATS is not connected")
        seen = SeenIds()

        async def on_message(msg: Any) -> None:
            try:
                event = wire.decode(msg.data, self.sealer)
            except (ValueError, SealError) as exc:
                log.error("live message on %s not read: %s", msg.subject, exc)
                return
            if seen.first_time(event.id):
                try:
                    await handler(event)
                except Exception:
                    log.exception("live handler failed for %s", event.subject)

        sub = await self._nc.subscribe(self._wire(subject), cb=on_message)
        return _CoreSubscription(sub)

    async def subscribe_batch(
        self, subject: str, handler: BatchHandler, *, durable: str, max_batch: int = 256
    ) -> _PullSubscription:
        pull = _PullSubscription(self, subject, durable, batch=handler, max_batch=max_batch)
        self._pulls.add(pull)
        return pull

    async def delete_stream(self) -> None:
        """Delete this bus's stream (test clean-up)."""
        js = await self._ready()
        with contextlib.suppress(NotFoundError):
            await js.delete_stream(self.stream)


__all__ = ["BusUnavailable", "JetStreamBus"]
