"""API contract of the shelter domain.

Three views of an offer exist and never mix: the host's own (everything, with the address),
the public proposal (coarse cell, distance band, conditions: no point, no address), and the
accepted seeker's reveal (address, point, directions). Inputs are bounded so bad input is a 422
naming the field.
"""

from __future__ import annotations

import datetime as dt
from typing import Literal

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, model_validator

Access = Literal["stairs", "lift", "wheelchair"]
AccessNeed = Literal["any", "lift", "wheelchair"]
ReportReason = Literal["unsafe", "fake", "harassment", "discrimination", "other"]


class _Input(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


class OfferCreate(_Input):
    """A host's offer. ``lat``/``lon`` and ``address`` are sealed and never shown to others."""

    lat: float = Field(ge=-90, le=90)
    lon: float = Field(ge=-180, le=180)
    address: str = Field(min_length=3, max_length=200)
    directions: str | None = Field(default=None, max_length=300)
    capacity: int = Field(ge=1, le=20, description="places offered (1 to 20)")
    ends_at: AwareDatetime = Field(description="until when; in the future, at most 30 days")
    access: Access
    pets: bool = False
    languages: list[str] = Field(default_factory=list, max_length=8)
    note: str | None = Field(default=None, max_length=280)

    @model_validator(mode="after")
    def _languages(self) -> OfferCreate:
        _check_languages(self.languages)
        return self


class OfferUpdate(_Input):
    """A host's edit; absent fields stay as they are."""

    lat: float | None = Field(default=None, ge=-90, le=90)
    lon: float | None = Field(default=None, ge=-180, le=180)
    address: str | None = Field(default=None, min_length=3, max_length=200)
    directions: str | None = Field(default=None, max_length=300)
    capacity: int | None = Field(default=None, ge=1, le=20)
    ends_at: AwareDatetime | None = None
    access: Access | None = None
    pets: bool | None = None
    languages: list[str] | None = Field(default=None, max_length=8)
    note: str | None = Field(default=None, max_length=280)

    @model_validator(mode="after")
    def _together(self) -> OfferUpdate:
        if (self.lat is None) != (self.lon is None):
            raise ValueError("lat and lon are changed together")
        _check_languages(self.languages or [])
        return self


def _check_languages(values: list[str]) -> None:
    for code in values:
        if not (2 <= len(code) <= 3 and code.isascii() and code.isalpha() and code.islower()):
            raise ValueError(f"language {code!r} is not an ISO 639 code (e.g. 'fr', 'en')")


class OfferHostView(BaseModel):
    """The host's own view of an offer: the only offer view (with the reveal) holding the place."""

    id: str
    status: str
    moderation: str
    capacity: int
    remaining: int
    access: str
    pets: bool
    languages: list[str]
    note: str | None
    address: str
    directions: str | None
    lat: float
    lon: float
    cell: str
    ends_at: dt.datetime
    created_at: dt.datetime
    waiting_requests: int


class OfferCreated(OfferHostView):
    """Answer to a new offer: the management token is shown once and only stored hashed."""

    manage_token: str
    manage_path: str


class Proposal(BaseModel):
    """An offer as a seeker sees it before acceptance: a coarse cell and a distance band only."""

    offer_id: str
    cell: str
    boundary: list[list[float]]
    distance_band: str
    remaining: int
    access: str
    pets: bool
    languages: list[str]
    common_languages: list[str]
    note: str | None
    ends_at: dt.datetime


class RequestCreate(_Input):
    """A request for places. The location is used for its coarse cell only and not stored."""

    lat: float = Field(ge=-90, le=90)
    lon: float = Field(ge=-180, le=180)
    people: int = Field(ge=1, le=20)
    access_need: AccessNeed = "any"
    pets: bool = False
    languages: list[str] = Field(default_factory=list, max_length=8)
    note: str | None = Field(default=None, max_length=280)

    @model_validator(mode="after")
    def _languages(self) -> RequestCreate:
        _check_languages(self.languages)
        return self


class RequestView(BaseModel):
    """The seeker's view of a request (and, once asked, the coarse view of that offer)."""

    id: str
    status: str
    people: int
    access_need: str
    pets: bool
    languages: list[str]
    cell: str
    boundary: list[list[float]]
    offer: Proposal | None
    created_at: dt.datetime
    expires_at: dt.datetime
    asked_at: dt.datetime | None
    decided_at: dt.datetime | None


class RequestCreated(RequestView):
    """Answer to a new request: the follow-up token is shown once and only stored hashed."""

    token: str
    follow_path: str


class ProposalList(BaseModel):
    request_id: str
    proposals: list[Proposal]


class AskBody(_Input):
    offer_id: str = Field(min_length=32, max_length=32, pattern=r"^[0-9a-f]{32}$")


class HostRequestView(BaseModel):
    """A request as the host sees it: people, needs, note and a distance band, no location."""

    id: str
    status: str
    people: int
    access_need: str
    pets: bool
    languages: list[str]
    note: str | None
    distance_band: str
    asked_at: dt.datetime | None
    decided_at: dt.datetime | None


class HostRequestList(BaseModel):
    offer_id: str
    requests: list[HostRequestView]


class AddressView(BaseModel):
    """The reveal, for the accepted seeker only; each one is written to the audit log."""

    request_id: str
    offer_id: str
    address: str
    directions: str | None
    lat: float
    lon: float
    directions_url: str
    people: int


class ReportBody(_Input):
    reason: ReportReason
    text: str | None = Field(default=None, max_length=500)


class ReportAck(BaseModel):
    id: int
    status: str


class ReportView(BaseModel):
    """A report in the moderators' queue: what was said, never the host's place."""

    id: int
    target: str
    offer_id: str | None
    request_id: str | None
    reason: str
    text: str | None
    status: str
    created_at: dt.datetime
    offer_note: str | None
    offer_cell: str | None
    offer_moderation: str | None
    request_note: str | None


class ReportList(BaseModel):
    reports: list[ReportView]


class DecisionBody(_Input):
    decision: Literal["restore", "remove"]
    reason: str = Field(min_length=3, max_length=300)


class Area(BaseModel):
    cell: str
    boundary: list[list[float]]
    offers: int
    places: int


class AreaList(BaseModel):
    resolution: int
    areas: list[Area]


class SeekerReportBody(ReportBody):
    offer_id: str = Field(min_length=32, max_length=32, pattern=r"^[0-9a-f]{32}$")
