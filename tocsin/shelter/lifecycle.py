"""Start and stop the shelter domain on one worker: its settings, read once."""

from __future__ import annotations

from dataclasses import dataclass

from tocsin.core.runtime import Runtime
from tocsin.shelter.config import ShelterSettings


@dataclass
class ShelterState:
    """What the shelter domain keeps in a worker's runtime (``runtime.state(ShelterState)``)."""

    settings: ShelterSettings


async def start(runtime: Runtime) -> None:
    """Read the ``TOCSIN_SHELTER_*`` settings for this worker."""
    runtime.states.put(ShelterState(settings=ShelterSettings()))


async def stop(runtime: Runtime) -> None:
    """Forget the state (nothing runs in the background)."""
    runtime.states.take(ShelterState)
