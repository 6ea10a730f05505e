"""Request and response models of the dispatch API (inputs forbid unknown fields, all bounded)."""

from __future__ import annotations

import datetime as dt
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

Id = Field(min_length=1, max_length=64)
# Why a dispatcher took an incident from a unit or closed it: read in the audit log afterwards,
# so it must say something (blank or one letter is refused).
Reason = Annotated[str, StringConstraints(strip_whitespace=True, min_length=3, max_length=200)]


class _In(BaseModel):
    model_config = ConfigDict(extra="forbid")


class UnitCreate(_In):
    callsign: str = Field(min_length=1, max_length=40)
    username: str | None = Field(default=None, min_length=3, max_length=64)
    lat: float | None = Field(default=None, ge=-90, le=90)
    lon: float | None = Field(default=None, ge=-180, le=180)
    off_duty: bool = False


class PositionIn(_In):
    lat: float = Field(ge=-90, le=90)
    lon: float = Field(ge=-180, le=180)
    accuracy_m: float | None = Field(default=None, ge=0, le=100_000)


class DutyIn(_In):
    on_duty: bool


class AssignIn(_In):
    unit_id: str = Id


class ReassignIn(_In):
    unit_id: str | None = Field(default=None, min_length=1, max_length=64)
    reason: Reason


class CloseIn(_In):
    reason: Reason


class MergeIn(_In):
    target_id: str = Id
    source_ids: list[str] = Field(min_length=1, max_length=50)


class SplitIn(_In):
    sos_ids: list[str] = Field(min_length=1, max_length=1000)


class UnitOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: str
    callsign: str
    status: str
    lat: float | None
    lon: float | None
    position_at: dt.datetime | None
    incident_id: str | None


class AssignmentOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: str
    incident_id: str
    unit_id: str
    status: str
    rank: int
    distance_m: float
    eta_s: float
    offered_at: dt.datetime
    deadline_at: dt.datetime | None
    answered_at: dt.datetime | None
    by: str


class IncidentOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: str
    status: str
    priority: int
    situation: str
    sos_count: int
    lat: float
    lon: float
    opened_at: dt.datetime
    last_sos_at: dt.datetime
    closed_at: dt.datetime | None
    merged_into: str | None
    assignments: list[AssignmentOut] = []


class IncidentSosOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    sos_id: str
    incident_id: str
    lat: float
    lon: float
    accuracy_m: float
    situation: str
    people: int | None
    received_at: dt.datetime


class IncidentDetail(IncidentOut):
    sos: list[IncidentSosOut]


class ProposalOut(BaseModel):
    unit_id: str
    callsign: str
    distance_m: float
    eta_s: float


class UnlocatedOut(BaseModel):
    """An SOS sent "position unknown", not placed yet (no text: read it through the sos API)."""

    sos_id: str
    situation: str
    people: int | None
    received_at: dt.datetime


class ChatStateOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    sos_id: str
    citizen_messages: int
    last_citizen_at: dt.datetime | None
    last_dispatcher_at: dt.datetime | None


class BriefOut(BaseModel):
    """What a unit reads of its offer's incident (the latest words are an audited read)."""

    sos_count: int
    people: int | None
    latest_text: str | None
    latest_at: dt.datetime | None
    lat: float
    lon: float


class UnitMe(BaseModel):
    unit: UnitOut
    assignment: AssignmentOut | None
    incident: IncidentOut | None


class TicketOut(BaseModel):
    ticket: str
    expires_in: int
