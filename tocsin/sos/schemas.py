"""Request and response models of the SOS API (the contract of DESIGN.md and issue 4)."""

from __future__ import annotations

import datetime as dt
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

# The situation codes are part of the events' contract; re-exported here for the API's models.
from tocsin.sos.events import Situation as Situation

MAX_TEXT_BYTES = 2048
MAX_MESSAGE_CHARS = 500


class Position(BaseModel):
    """A WGS 84 position with its accuracy radius (Geolocation API ``coords.accuracy``)."""

    model_config = ConfigDict(extra="forbid")

    lat: float = Field(ge=-90, le=90, allow_inf_nan=False)
    lon: float = Field(ge=-180, le=180, allow_inf_nan=False)
    accuracy_m: float = Field(ge=0, le=100_000, allow_inf_nan=False)


class SosIn(BaseModel):
    """``POST /api/v1/sos``. ``client_id`` is generated once by the phone and kept secret.

    The position is lat, lon and accuracy_m together, or none of them with
    ``position_unknown: true`` (a phone without GPS or with location refused must still call
    for help; the dispatcher asks where, and the phone's first position places it later).
    """

    model_config = ConfigDict(extra="forbid")

    lat: float | None = Field(default=None, ge=-90, le=90, allow_inf_nan=False)
    lon: float | None = Field(default=None, ge=-180, le=180, allow_inf_nan=False)
    accuracy_m: float | None = Field(default=None, ge=0, le=100_000, allow_inf_nan=False)
    position_unknown: bool = False
    situation: Situation
    people: int | None = Field(default=None, ge=1, le=10_000)
    text: str | None = Field(default=None, max_length=MAX_TEXT_BYTES)
    client_id: str = Field(min_length=16, max_length=64, pattern=r"^[A-Za-z0-9_-]+$")

    @field_validator("text")
    @classmethod
    def _text_bytes(cls, value: str | None) -> str | None:
        # The limit is 2 kB on the wire (UTF-8), not 2,048 characters.
        if value is not None and len(value.encode("utf-8")) > MAX_TEXT_BYTES:
            raise ValueError(f"text must be at most {MAX_TEXT_BYTES} bytes in UTF-8")
        return value or None

    @model_validator(mode="after")
    def _whole_position_or_unknown(self) -> SosIn:
        # The common case first and cheapest: this runs on every SOS of the fast path.
        if not self.position_unknown and None not in (self.lat, self.lon, self.accuracy_m):
            return self
        given = [name for name in ("lat", "lon", "accuracy_m") if getattr(self, name) is not None]
        if self.position_unknown and given:
            raise ValueError(f"position_unknown is true but {', '.join(given)} given: "
                             "send a position or position_unknown, not both")
        if not self.position_unknown and len(given) != 3:
            missing = [n for n in ("lat", "lon", "accuracy_m") if getattr(self, n) is None]
            raise ValueError(f"position incomplete, missing {', '.join(missing)} "
                             "(or send position_unknown: true)")
        return self


class SosAck(BaseModel):
    """The acknowledgement: given only once the SOS is durably committed."""

    id: str
    follow_up_token: str
    received_at: dt.datetime


class MessageIn(BaseModel):
    """A short text of the silent chat."""

    model_config = ConfigDict(extra="forbid")

    text: str = Field(min_length=1, max_length=MAX_MESSAGE_CHARS)


class MessageOut(BaseModel):
    id: str
    sender: Literal["citizen", "dispatcher"]
    text: str
    at: dt.datetime


class PositionOut(BaseModel):
    lat: float
    lon: float
    accuracy_m: float
    at: dt.datetime


class FollowUpOut(BaseModel):
    """What the citizen's phone sees: the SOS status and the chat (its own data)."""

    id: str
    status: Literal["open", "closed"]
    messages: list[MessageOut]


class SosSummary(BaseModel):
    """An SOS without its sealed fields (no audit needed to show it)."""

    id: str
    # None when the SOS was sent "position unknown" (its trail has the positions sent since).
    lat: float | None
    lon: float | None
    accuracy_m: float | None
    position_unknown: bool = False
    situation: Situation
    people: int | None
    status: Literal["open", "closed"]
    received_at: dt.datetime
    closed_at: dt.datetime | None


class SosDetail(SosSummary):
    """An SOS with its text, trail and chat: reading it is audited with a reason."""

    text: str | None
    trail: list[PositionOut]
    messages: list[MessageOut]
