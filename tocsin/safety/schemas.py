"""The safety-check API contract; every field bounded (bad input is a 422 naming it)."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

Lat = Annotated[float, Field(ge=-90, le=90)]
Lon = Annotated[float, Field(ge=-180, le=180)]
Phone = Annotated[str, Field(min_length=4, max_length=40, pattern=r"^[0-9+ ().-]+$")]


class PolygonArea(BaseModel):
    """A polygon drawn on the map, as [lon, lat] pairs (GeoJSON order)."""

    model_config = ConfigDict(extra="forbid")

    type: Literal["polygon"]
    coordinates: list[tuple[Lon, Lat]] = Field(min_length=3, max_length=500)


class CircleArea(BaseModel):
    """A circle: centre and radius in metres."""

    model_config = ConfigDict(extra="forbid")

    type: Literal["circle"]
    lat: Lat
    lon: Lon
    radius_m: float = Field(ge=50, le=50_000)


Area = Annotated[PolygonArea | CircleArea, Field(discriminator="type")]


class CheckIn(BaseModel):
    """An authority activates a safety check."""

    model_config = ConfigDict(extra="forbid")

    name: str = Field(min_length=3, max_length=200)
    area: Area
    starts_at: dt.datetime | None = None
    ends_at: dt.datetime


class CheckOut(BaseModel):
    """A safety check as anyone sees it."""

    id: int
    name: str
    area: dict[str, object]
    starts_at: dt.datetime
    ends_at: dt.datetime
    active: bool
    # False until a second authority approves it (only authorities see such a check).
    approved: bool


class MarkIn(BaseModel):
    """Someone marks themselves safe or in need of help (no account)."""

    model_config = ConfigDict(extra="forbid")

    check_id: int = Field(ge=1)
    status: Literal["safe", "need_help"]
    lat: Lat | None = None
    lon: Lon | None = None
    name: str | None = Field(default=None, min_length=1, max_length=200)
    phone: Phone | None = None
    message: str | None = Field(default=None, max_length=500)

    @model_validator(mode="after")
    def _pairs(self) -> MarkIn:
        if (self.lat is None) != (self.lon is None):
            raise ValueError("give both lat and lon, or neither")
        if (self.name is None) != (self.phone is None):
            raise ValueError("give both name and phone (for relatives who know them), or neither")
        if self.status == "need_help" and self.lat is None:
            raise ValueError("a position is needed to send help")
        return self


class MarkOut(BaseModel):
    """The code to share with relatives, and the mark's life."""

    code: str
    status: str
    marked_at: dt.datetime
    expires_at: dt.datetime


class CodeLookupOut(BaseModel):
    """What a relative holding the code sees: status, time, the message left for them."""

    status: str
    marked_at: dt.datetime
    message: str | None


class ContactLookupIn(BaseModel):
    """A relative looks someone up by the name and phone number they already know."""

    model_config = ConfigDict(extra="forbid")

    name: str = Field(min_length=1, max_length=200)
    phone: Phone
    check_id: int | None = Field(default=None, ge=1)


class ContactMatch(BaseModel):
    """Status and time only: nothing more for a name+phone lookup."""

    status: str
    marked_at: dt.datetime


class ContactLookupOut(BaseModel):
    results: list[ContactMatch]


class CellCount(BaseModel):
    cell: str
    safe: int
    need_help: int


class CountsOut(BaseModel):
    """Live counts of a check for authorities, overall and per map cell (H3 resolution 8)."""

    check_id: int
    safe: int
    need_help: int
    total: int
    cells: list[CellCount]
