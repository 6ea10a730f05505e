"""Drop duplicate deliveries by event id (at-least-once in, effectively-once handling out)."""

from __future__ import annotations

from collections import OrderedDict


class SeenIds:
    """A bounded memory of handled event ids; old ids fall out first.

    The bound only needs to cover the redelivery window (JetStream's ack wait and the outbox
    relay's retry), not all history.
    """

    def __init__(self, capacity: int = 100_000) -> None:
        self.capacity = capacity
        self._ids: OrderedDict[str, None] = OrderedDict()

    def first_time(self, event_id: str) -> bool:
        """Return True the first time ``event_id`` is seen, False for a duplicate."""
        if event_id in self._ids:
            self._ids.move_to_end(event_id)
            return False
        self._ids[event_id] = None
        if len(self._ids) > self.capacity:
            self._ids.popitem(last=False)
        return True

    def forget(self, event_id: str) -> None:
        """Forget ``event_id`` so a redelivery after a failed handler is handled again."""
        self._ids.pop(event_id, None)
