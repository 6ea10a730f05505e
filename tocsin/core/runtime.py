"""What one running worker holds: settings, database, bus, outbox relay, sealer, domain states.

Built by ``tocsin.app.create_app`` and stored on ``app.state.runtime``; dependencies read it from
the request, so tests can run several apps (workers) side by side in one process. Each domain's
``lifecycle.start`` puts its own typed state here (``runtime.states.put(SosState(...))``) and its
routes read it back by class (``runtime.state(SosState)``): see ``tocsin.core.state``.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Annotated, TypeVar

from fastapi import Depends, Request
from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from tocsin.core.bus import Bus
from tocsin.core.offload import Offload
from tocsin.core.priority import Background, Foreground
from tocsin.core.relay import OutboxRelay
from tocsin.core.seal import Sealer
from tocsin.core.settings import Settings
from tocsin.core.state import States

T = TypeVar("T")


@dataclass
class Runtime:
    """One worker's shared resources (no globals: several can live in one process)."""

    settings: Settings
    engine: Engine
    sessions: sessionmaker[Session]
    bus: Bus
    relay: OutboxRelay
    # The deployment's keyring, attached to ``engine`` (``tocsin.core.seal.attach``): this
    # worker's sealed columns use it, whatever other workers in the process hold.
    sealer: Sealer
    # CPU-heavy request work (images, XML, STIX, PFIF...) runs here, off the event loop.
    offload: Offload = field(default_factory=Offload)
    # The SOS acknowledgement marks itself here; consumers give way to it (tocsin.core.priority).
    foreground: Foreground = field(default_factory=Foreground)
    # Each domain's typed state, by class (``tocsin.core.state``).
    states: States = field(default_factory=States)
    # Set when the worker begins to stop: background checks must not open new sessions, or a
    # connection taken after the pool's disposal lives on in the new pool, unclosed.
    closing: bool = False

    def state(self, kind: type[T]) -> T:
        """Return the state of class ``kind`` a domain put here; ``StateMissing`` if none."""
        return self.states.get(kind)

    def background(self) -> Background:
        """A consumer's turns behind the SOS acknowledgements: see ``tocsin.core.priority``."""
        return Background(
            self.foreground,
            min_interval=self.settings.background_min_interval_ms / 1000.0,
            max_wait=self.settings.background_max_wait_ms / 1000.0,
            busy_at=self.settings.background_busy_at,
        )


def get_runtime(request: Request) -> Runtime:
    """Return the worker's runtime."""
    runtime: Runtime = request.app.state.runtime
    return runtime


def get_db(request: Request) -> Iterator[Session]:
    """Open one session per request; the router commits, anything left open is rolled back."""
    session = get_runtime(request).sessions()
    try:
        yield session
    finally:
        session.close()


DbSession = Annotated[Session, Depends(get_db)]
AppRuntime = Annotated[Runtime, Depends(get_runtime)]
