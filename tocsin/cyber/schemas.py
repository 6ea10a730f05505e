"""Request and response contracts of the cyber desk."""

from __future__ import annotations

import datetime as dt
import re
from typing import Annotated, Literal, get_args

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, model_validator

from tocsin.cyber.statuses import IncidentStatus, IndicatorStatus

IncidentType = Literal["defacement", "denial_of_service", "ransomware", "phishing", "data_leak",
                       "account_takeover", "other"]
Sector = Literal["public_administration", "local_authority", "health", "education", "energy",
                 "transport", "finance", "telecom", "industry", "retail", "media", "association",
                 "other"]
Size = Literal["micro", "small", "medium", "large"]  # <10, <50, <250, 250+ employees
# ISO 3166-2:FR codes of the 18 regions (13 metropolitan + 5 overseas).
Region = Literal["FR-ARA", "FR-BFC", "FR-BRE", "FR-CVL", "FR-COR", "FR-GES", "FR-HDF", "FR-IDF",
                 "FR-NOR", "FR-NAQ", "FR-OCC", "FR-PDL", "FR-PAC", "FR-GP", "FR-MQ", "FR-GF",
                 "FR-RE", "FR-YT"]
Impact = Literal["none", "low", "moderate", "high", "critical"]
Tlp = Literal["clear", "green", "amber", "red"]
IndicatorKind = Literal["url", "domain", "ipv4", "ipv6", "email", "md5", "sha1", "sha256"]
Severity = Literal["low", "medium", "high", "critical"]
TYPES: tuple[str, ...] = get_args(IncidentType)
SECTORS: tuple[str, ...] = get_args(Sector)
SIZES: tuple[str, ...] = get_args(Size)
REGIONS: tuple[str, ...] = get_args(Region)
IMPACTS: tuple[str, ...] = get_args(Impact)
SEVERITIES: tuple[str, ...] = get_args(Severity)

# Characters refused in input (issue 19): C0 and C1 controls, DEL, unpaired surrogates and the
# non-characters U+FFFE/U+FFFF, which XML 1.0 (the Atom feed), mail headers and terminals cannot
# carry. A one-line field (a title, a name) takes none; a text field keeps tab and newlines.
_LINE_BAD = re.compile("[\x00-\x1f\x7f-\x9f\ud800-\udfff\ufffe\uffff]")
_TEXT_BAD = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\ud800-\udfff\ufffe\uffff]")


def _refuse(pattern: re.Pattern[str], what: str) -> AfterValidator:
    def check(value: str) -> str:
        found = pattern.search(value)
        if found is not None:
            raise ValueError(f"control character U+{ord(found.group()):04X} at position "
                             f"{found.start()} is not allowed {what}")
        return value

    return AfterValidator(check)


Line = Annotated[str, _refuse(_LINE_BAD, "in a one-line field")]
Text = Annotated[str, _refuse(_TEXT_BAD, "(in text: tab and line breaks only)")]
_Text = Field(default=None, max_length=5000)


class ContactIn(BaseModel):
    """How to reach an anonymous reporter back (sealed, purged with the report)."""

    model_config = ConfigDict(extra="forbid")

    name: Line | None = Field(default=None, max_length=120)
    email: str | None = Field(default=None, max_length=254, pattern=r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
    phone: str | None = Field(default=None, max_length=30, pattern=r"^\+?[0-9 .()-]{6,30}$")

    @model_validator(mode="after")
    def _reachable(self) -> ContactIn:
        if not self.email and not self.phone:
            raise ValueError("a contact needs an e-mail address or a phone number")
        return self


class IncidentIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    incident_type: IncidentType
    sector: Sector
    size: Size
    region: Region
    occurred_at: dt.datetime
    impact: Impact
    description: Text | None = _Text
    indicators: list[Line] = Field(default_factory=list, max_length=100)
    contact: ContactIn | None = None


class IncidentCreated(BaseModel):
    id: str
    received_at: dt.datetime
    indicators: int
    evidence: int


class IncidentOut(BaseModel):
    id: str
    incident_type: str
    sector: str
    size: str
    region: str
    occurred_at: dt.datetime
    impact: str
    status: IncidentStatus
    anonymous: bool
    reporter: str | None
    created_at: dt.datetime
    evidence: int


class EvidenceOut(BaseModel):
    id: int
    filename: str
    media_type: str
    size: int
    sha256: str


class IncidentDetail(IncidentOut):
    description: str | None
    contact: ContactIn | None
    evidence_files: list[EvidenceOut]
    indicator_ids: list[int]


class IncidentPatch(BaseModel):
    model_config = ConfigDict(extra="forbid")

    status: IncidentStatus


class IndicatorIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    value: Line = Field(min_length=1, max_length=2000)
    kind: IndicatorKind | None = None
    tlp: Tlp = "amber"
    share_with: list[Line] = Field(default_factory=list, max_length=50)


class IndicatorPatch(BaseModel):
    model_config = ConfigDict(extra="forbid")

    status: IndicatorStatus | None = None
    tlp: Tlp | None = None
    share_with: list[Line] | None = Field(default=None, max_length=50)


class IndicatorOut(BaseModel):
    id: int
    kind: str
    value: str
    count: int
    first_seen_at: dt.datetime
    last_seen_at: dt.datetime
    status: IndicatorStatus
    tlp: str
    share_with: list[str]
    source: str


class AdvisoryIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    title: Line = Field(min_length=3, max_length=200)
    summary: Text = Field(min_length=3, max_length=10000)
    exposed: Text = Field(min_length=3, max_length=5000)
    actions: Text = Field(min_length=3, max_length=10000)
    severity: Severity = "medium"
    tlp: Literal["clear", "green"] = "clear"
    sectors: list[Sector] = Field(default_factory=list, max_length=20)
    regions: list[Region] = Field(default_factory=list, max_length=20)
    incident_ids: list[Line] = Field(default_factory=list, max_length=200)
    indicator_ids: list[int] = Field(default_factory=list, max_length=500)


class ReviewIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    note: Text | None = Field(default=None, max_length=500)


class AdvisoryVersionOut(BaseModel):
    version: int
    title: str
    summary: str
    exposed: str
    actions: str
    severity: str
    tlp: str
    sectors: list[str]
    regions: list[str]
    incident_ids: list[str]
    indicator_ids: list[int]
    author: str
    reviewer: str | None
    review_note: str | None
    created_at: dt.datetime
    published_at: dt.datetime | None


class AdvisoryOut(BaseModel):
    id: str
    state: str
    in_review: bool
    author: str
    published_version: int | None
    draft_version: int | None
    first_published_at: dt.datetime | None
    updated_at: dt.datetime
    current: AdvisoryVersionOut
    draft: AdvisoryVersionOut | None = None


class PublicAdvisoryOut(BaseModel):
    """What the public sees of an advisory: its text, never who wrote or reviewed it."""

    id: str
    state: str
    version: int
    title: str
    summary: str
    exposed: str
    actions: str
    severity: str
    sectors: list[str]
    regions: list[str]
    published_at: dt.datetime | None
    first_published_at: dt.datetime | None


class PushKeys(BaseModel):
    model_config = ConfigDict(extra="forbid")

    p256dh: Line = Field(min_length=16, max_length=200)
    auth: Line = Field(min_length=8, max_length=100)


class PushIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    endpoint: Line = Field(min_length=10, max_length=2000)
    keys: PushKeys


class SubscriptionIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    sectors: list[Sector] = Field(default_factory=list, max_length=20)
    regions: list[Region] = Field(default_factory=list, max_length=20)
    email: str | None = Field(default=None, max_length=254, pattern=r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
    push: PushIn | None = None

    @model_validator(mode="after")
    def _channel(self) -> SubscriptionIn:
        if not self.email and self.push is None:
            raise ValueError("give an e-mail address, a push subscription, or both")
        return self


class SubscriptionOut(BaseModel):
    id: str
    sectors: list[str]
    regions: list[str]
    email: bool
    push: bool
    created_at: dt.datetime
    expires_at: dt.datetime


class ImportResult(BaseModel):
    stored: int
    indicators: int
    skipped: list[str]
