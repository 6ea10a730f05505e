"""Drop duplicate deliveries by event id (at-least-once in, effectively-once handling out)."""

from __future__ import annotations

import time
from collections.abc import Callable


class SeenIds:
    """A memory of handled ids, bounded by time and by count; the oldest ids fall out first.

    Why bounded by time: a duplicate only comes back within the redelivery window (JetStream
    redelivers an unacknowledged message after its ack wait, 30 s; the outbox relay republishes
    a row after its 30 s lease), so ids older than a few such windows are dead weight. A
    count-only bound kept 100,000 ids per subscription whatever the rate: at a steady load the
    memory grew for minutes until the cap (about 27 MB), which made a soak's memory look like a
    leak. Now the ids live in two generations of sets: a generation is retired after ``ttl_s``
    or once it holds ``capacity / 2`` ids, so every id is remembered for at least ``ttl_s`` (or
    at least the last ``capacity / 2`` ids under a flood) and at most ``2 * ttl_s``, and at a
    steady rate memory stops growing after ``2 * ttl_s``.
    """

    def __init__(
        self, capacity: int = 100_000, *, ttl_s: float = 120.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.capacity = capacity
        self.ttl_s = ttl_s
        self.clock = clock
        self._current: set[str] = set()
        self._previous: set[str] = set()
        self._since = clock()

    def __len__(self) -> int:
        return len(self._current) + len(self._previous)

    def __contains__(self, item: str) -> bool:
        return item in self._current or item in self._previous

    def _age(self) -> None:
        now = self.clock()
        if now - self._since >= self.ttl_s or len(self._current) >= max(1, self.capacity // 2):
            self._previous, self._current = self._current, set()
            self._since = now

    def first_time(self, event_id: str) -> bool:
        """Return True the first time ``event_id`` is seen, False for a duplicate."""
        self._age()
        if event_id in self._current or event_id in self._previous:
            return False
        self._current.add(event_id)
        return True

    def forget(self, event_id: str) -> None:
        """Forget ``event_id`` so a redelivery after a failed handler is handled again."""
        self._current.discard(event_id)
        self._previous.discard(event_id)
