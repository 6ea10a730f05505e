"""Bus subjects the safety domain publishes (through the outbox, after commit)."""

from __future__ import annotations

from pydantic import BaseModel

CHECK_ACTIVATED = "safety.check_activated"
HELP_REQUESTED = "safety.help_requested"


class CheckActivated(BaseModel):
    check_id: int
    name: str


class HelpRequested(BaseModel):
    """An "I need help" mark: an assistance request for dispatch, below an SOS in priority."""

    mark_id: int
    check_id: int
    lat: float
    lon: float
    at: str
    priority: str = "low"
