"""Foreground first: background consumers give way while latency-critical requests are in flight.

Why: one worker both acknowledges silent SOS and runs the consumers of what they cause
(dispatch clustering, observatory facts, live streams). They share one interpreter lock and, in
embedded mode, one SQLite writer. At saturation the consumers took about a third of the lock
(py-spy, ``--gil``), and every SOS waited for them: the server acknowledged half of what it
could with the SOS domain alone. An acknowledgement is what a hidden caller waits for; an
incident formed 200 ms later is not felt.

So the acknowledgement path marks itself busy (``Foreground.busy``), and a consumer awaits
``Foreground.turn(max_wait, busy_at)`` before each batch: at once while fewer than ``busy_at``
foreground requests are in flight, else when they have drained below it or ``max_wait`` has
passed, whichever comes first. ``busy_at`` tells saturation from ordinary traffic: at 500 SOS/s
two or three are in flight at a time and dispatch must not wait (a unit is offered within a
second); a server at its limit holds dozens. There the consumer runs at least every
``max_wait``, with the larger batch that queued meanwhile (fewer transactions and fsyncs for the
same events). Nothing is dropped or reordered: a consumer is only delayed, by at most
``max_wait`` per batch, and catches up as soon as the burst ends.

At ordinary rates the other cost is the consumers' own per-batch overhead: taking each event
as it comes (batches of one or two at 500 SOS/s) spent most of a core on sessions, commits and
fsyncs, and the acknowledgements' p50 rose from 3 to 13 ms. So a consumer also takes at most one
batch per ``min_interval`` (``Background.turn``): events that arrive meanwhile wait for the
next batch, like SOS in the group commit.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterator
from contextlib import contextmanager

#: How often a waiting consumer looks again (a poll, so it needs no event bound to a loop).
POLL_SECONDS = 0.005


class Foreground:
    """Counts the latency-critical requests in flight in one worker (see module docstring)."""

    def __init__(self) -> None:
        self.in_flight = 0
        self.deferred_seconds = 0.0  # total time consumers gave way: for benchmarks and tests

    @contextmanager
    def busy(self) -> Iterator[None]:
        """Mark one foreground request in flight for the duration of the block."""
        self.in_flight += 1
        try:
            yield
        finally:
            self.in_flight -= 1

    async def turn(self, max_wait: float, busy_at: int = 1) -> None:
        """Return once fewer than ``busy_at`` foreground requests are in flight, or after
        ``max_wait`` seconds."""
        if self.in_flight < busy_at or max_wait <= 0:
            return
        start = time.monotonic()
        deadline = start + max_wait
        while self.in_flight >= busy_at and time.monotonic() < deadline:
            await asyncio.sleep(POLL_SECONDS)
        self.deferred_seconds += time.monotonic() - start


class Background:
    """One consumer's turns: at most one batch per ``min_interval``, after the foreground's."""

    def __init__(
        self, foreground: Foreground, *, min_interval: float, max_wait: float, busy_at: int
    ) -> None:
        self.foreground = foreground
        self.min_interval = min_interval
        self.max_wait = max_wait
        self.busy_at = busy_at
        self._last = 0.0

    async def turn(self) -> None:
        """Wait for this consumer's next batch (see the module docstring)."""
        pause = self._last + self.min_interval - time.monotonic()
        if pause > 0:
            await asyncio.sleep(pause)
        await self.foreground.turn(self.max_wait, self.busy_at)
        self._last = time.monotonic()
