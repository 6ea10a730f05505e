"""A worker's per-domain state, kept by type: ``runtime.state(SosState)`` is a ``SosState``.

Each domain's ``lifecycle.start`` builds one dataclass of what it holds for the worker (its
settings read once, its limiters, writers, subscriptions, tasks) and ``put``s it on the
runtime; routes and consumers ask for it by its class, and ``stop`` takes it back. The class is
the key, so a reader gets the type it asked for without casts or ``isinstance`` checks, two
domains cannot collide on a string, and the core needs to import no domain to hold their state.

It replaced ``Runtime.extras``, a string-keyed ``dict[str, Any]`` read with
``assert isinstance`` in a dozen modules (issue 24).
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any, TypeVar

T = TypeVar("T")


class StateMissing(LookupError):
    """A domain's state was asked for on a worker where that domain has not started."""


class States:
    """One worker's states, one per class (see the module docstring). Thread-safe."""

    def __init__(self) -> None:
        self._by_type: dict[type[Any], Any] = {}
        # ``shared`` may be called from request threads at once: one object each, not two.
        self._lock = threading.Lock()

    def put(self, state: T) -> T:
        """Keep ``state`` under its own class (replacing any earlier one) and return it."""
        self._by_type[type(state)] = state
        return state

    def get(self, kind: type[T]) -> T:
        """Return the state of class ``kind``; raise ``StateMissing`` naming it if none is kept."""
        found = self._by_type.get(kind)
        if found is None:
            raise StateMissing(
                f"no {kind.__name__} on this worker: its domain is not started (is it in "
                "tocsin.domains.DOMAINS, and has the application's lifespan run?)"
            )
        # The class is the key ``put`` used: what is found is a ``kind``.
        return found  # type: ignore[no-any-return]

    def find(self, kind: type[T]) -> T | None:
        """Return the state of class ``kind``, or ``None`` if none is kept."""
        return self._by_type.get(kind)

    def take(self, kind: type[T]) -> T | None:
        """Remove and return the state of class ``kind`` (``None`` if none): for ``stop``."""
        return self._by_type.pop(kind, None)

    def shared(self, kind: type[T], factory: Callable[[], T]) -> T:
        """Return the state of class ``kind``, made by ``factory()`` on first use.

        For what the core keeps per worker without a lifecycle of its own (the live hub, the
        sign-in throttle, rate-limit buckets): the first request that needs it makes it.
        """
        found = self._by_type.get(kind)
        if found is not None:
            return found  # type: ignore[no-any-return]
        with self._lock:
            found = self._by_type.get(kind)
            if found is None:
                found = self._by_type[kind] = factory()
            return found  # type: ignore[no-any-return]
