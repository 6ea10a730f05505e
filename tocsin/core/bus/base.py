"""Bus contract shared by both implementations."""

from __future__ import annotations

import datetime as dt
from collections.abc import Awaitable, Callable
from typing import Any, Protocol

from pydantic import BaseModel, Field

from tocsin.core.entropy import uuid4_hex


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


class Event(BaseModel):
    """An event: ``subject`` is ``<domain>.<event>`` (e.g. ``sos.created``); ``id`` is unique.

    Delivery is at-least-once (a relay may publish twice after a crash between publish and mark),
    so consumers drop events whose ``id`` they have already handled.
    """

    id: str = Field(default_factory=uuid4_hex)
    subject: str
    occurred_at: dt.datetime = Field(default_factory=_now)
    data: dict[str, Any] = Field(default_factory=dict)


class BusUnavailable(Exception):
    """The bus cannot take the event now; the outbox keeps it and retries."""


Handler = Callable[[Event], Awaitable[None]]
# Handles several events at once (one transaction for many); returning acknowledges them all,
# raising leaves them all to be redelivered.
BatchHandler = Callable[[list[Event]], Awaitable[None]]


class Subscription(Protocol):
    async def stop(self) -> None: ...


class Bus(Protocol):
    """Publish events and subscribe handlers; a handler that returns acknowledges its event."""

    name: str

    async def connect(self) -> None: ...

    async def close(self) -> None: ...

    async def publish(self, event: Event) -> None: ...

    async def subscribe(
        self, subject: str, handler: Handler, *, durable: str | None = None
    ) -> Subscription: ...

    async def subscribe_batch(
        self, subject: str, handler: BatchHandler, *, durable: str, max_batch: int = 256
    ) -> Subscription:
        """Subscribe a durable consumer that receives what is waiting, up to ``max_batch``."""
        ...

    async def healthy(self) -> bool: ...


def subject_matches(pattern: str, subject: str) -> bool:
    """Match NATS-style patterns: ``*`` is one token, a final ``>`` is one or more tokens."""
    p_tokens = pattern.split(".")
    s_tokens = subject.split(".")
    for index, token in enumerate(p_tokens):
        if token == ">":
            return len(s_tokens) > index
        if index >= len(s_tokens) or (token != "*" and token != s_tokens[index]):
            return False
    return len(p_tokens) == len(s_tokens)
