"""Bus subjects and payloads the SOS domain publishes (through the outbox).

Payloads carry no free text: an SOS's text, its chat and its trail are sealed at rest and read
only through the audited API (``service.read_sos_detail``). Positions travel in ``sos.created`` and
``sos.position`` because dispatch needs them to find the nearest units.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Literal

from pydantic import BaseModel

SOS_CREATED = "sos.created"
SOS_MESSAGE = "sos.message"
SOS_POSITION = "sos.position"
SOS_CLOSED = "sos.closed"


class Situation(StrEnum):
    """What is happening, in one tap (no typing needed when hidden).

    Part of the events' contract (``SosCreated.situation`` is one of these codes), so consumers
    (dispatch's priorities and figures) read it here; ``tocsin.sos.schemas`` re-exports it.
    """

    attack = "attack"
    armed_person = "armed_person"
    hostage = "hostage"
    hidden = "hidden"
    injured = "injured"
    fire = "fire"
    other = "other"


class SosCreated(BaseModel):
    """``sos.created``: a durable, acknowledged SOS (``received_at`` is ISO 8601 UTC).

    lat, lon and accuracy_m are all None for an SOS sent "position unknown". ``situation`` is a
    :class:`Situation` code, typed ``str`` so an event written by an older or newer producer
    (a code this worker does not know) still validates; consumers rank unknown codes as "other".
    """

    sos_id: str
    lat: float | None
    lon: float | None
    accuracy_m: float | None
    situation: str
    people: int | None
    received_at: str


class SosMessage(BaseModel):
    """``sos.message``: a chat message was added (no body: read it through the API)."""

    sos_id: str
    message_id: str
    sender: Literal["citizen", "dispatcher"]
    at: str


class SosPosition(BaseModel):
    """``sos.position``: the citizen's phone sent a new position (a point of the trail)."""

    sos_id: str
    lat: float
    lon: float
    accuracy_m: float
    at: str


class SosClosed(BaseModel):
    """``sos.closed``: a dispatcher closed the SOS; retention starts counting."""

    sos_id: str
    at: str
