"""The message bus: one small interface, two implementations (in-process and NATS JetStream).

Domains publish through the transactional outbox (``tocsin.core.outbox``), never straight to the
bus, so a committed record's event survives a bus outage or a worker crash. Consumers subscribe
with a *durable* name (each event handled once per durable name, redelivered until acknowledged)
or without one (every worker gets every event: live streams to open browser pages).
"""

from __future__ import annotations

from tocsin.core.bus.base import (
    BatchHandler,
    Bus,
    BusUnavailable,
    Event,
    Handler,
    Subscription,
    subject_matches,
)
from tocsin.core.bus.dedupe import SeenIds
from tocsin.core.seal import Sealer

__all__ = [
    "BatchHandler",
    "Bus",
    "BusUnavailable",
    "Event",
    "Handler",
    "SeenIds",
    "Subscription",
    "make_bus",
    "subject_matches",
]


def make_bus(
    url: str, *, stream: str = "TOCSIN", prefix: str = "tocsin", sealer: Sealer | None = None
) -> Bus:
    """Return the bus named by ``url``: ``memory://`` or ``nats://host:port[,nats://…]``.

    ``sealer`` seals the payloads on the NATS wire (the worker's; ``None``: the process's).
    """
    if url.startswith("memory"):
        from tocsin.core.bus.memory import MemoryBus

        return MemoryBus()
    if url.startswith(("nats://", "tls://")):
        from tocsin.core.bus.jetstream import JetStreamBus

        return JetStreamBus(url, stream=stream, prefix=prefix, sealer=sealer)
    raise ValueError(f"unknown bus URL {url!r}: expected memory:// or nats://host:port")
