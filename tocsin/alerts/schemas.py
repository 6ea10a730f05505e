"""API contract of official alerts (inputs refuse unknown fields; every field is bounded).

Vocabularies are CAP 1.2's (§3.2.1 status, §3.2.2 category, urgency, severity, certainty,
responseType). The area is one polygon (list of ``[lat, lon]``, closed: first point repeated at
the end) or one circle, shared by every language's ``<info>``.
"""

from __future__ import annotations

import datetime as dt
import re
from typing import Annotated, Any, Literal

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, field_validator

Status = Literal["Actual", "Exercise", "Test"]
Category = Literal[
    "Geo", "Met", "Safety", "Security", "Rescue", "Fire", "Health", "Env", "Transport",
    "Infra", "CBRNE", "Other",
]
Urgency = Literal["Immediate", "Expected", "Future", "Past", "Unknown"]
Severity = Literal["Extreme", "Severe", "Moderate", "Minor", "Unknown"]
Certainty = Literal["Observed", "Likely", "Possible", "Unlikely", "Unknown"]
ResponseType = Literal[
    "Shelter", "Evacuate", "Prepare", "Execute", "Avoid", "Monitor", "Assess", "AllClear", "None"
]
Lat = Annotated[float, Field(ge=-90, le=90)]
Lon = Annotated[float, Field(ge=-180, le=180)]
Text = Annotated[str, Field(min_length=1, max_length=4000)]


# Characters XML 1.0 cannot carry (§2.2): an alert holding one could never be written as CAP.
_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff\ud800-\udfff]")


class _In(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    @field_validator("*")
    @classmethod
    def _xml_characters(cls, value: Any) -> Any:
        texts = value if isinstance(value, list) else [value]
        if any(isinstance(t, str) and _NOT_XML.search(t) for t in texts):
            raise ValueError("contains control characters that XML (and so CAP) cannot carry")
        return value


class InfoIn(_In):
    """The text of the alert in one language (one CAP ``<info>``)."""

    language: Annotated[str, Field(pattern=r"^[a-z]{2}(-[A-Z]{2})?$")] = "fr-FR"
    event: Annotated[str, Field(min_length=1, max_length=200)]
    headline: Annotated[str, Field(min_length=1, max_length=160)]
    description: Text
    instruction: Annotated[str, Field(max_length=2000)] | None = None
    web: Annotated[str, Field(max_length=500, pattern=r"^https?://\S+$")] | None = None
    contact: Annotated[str, Field(max_length=200)] | None = None


class CircleIn(_In):
    lat: Lat
    lon: Lon
    radius_km: Annotated[float, Field(ge=0, le=1000)]


class AreaIn(_In):
    """The area drawn on the map: a closed polygon or a circle, and its description."""

    desc: Annotated[str, Field(min_length=1, max_length=300)]
    polygon: Annotated[list[tuple[Lat, Lon]], Field(max_length=2000)] | None = None
    circle: CircleIn | None = None


class AlertIn(_In):
    """A new alert as the authority composes it."""

    status: Status = "Actual"
    categories: Annotated[list[Category], Field(min_length=1, max_length=12)] = ["Safety"]
    urgency: Urgency = "Immediate"
    severity: Severity = "Severe"
    certainty: Certainty = "Observed"
    response_types: Annotated[list[ResponseType], Field(max_length=9)] = []
    onset: AwareDatetime | None = None
    expires: AwareDatetime
    infos: Annotated[list[InfoIn], Field(min_length=1, max_length=4)]
    area: AreaIn
    note: Annotated[str, Field(max_length=500)] | None = None


class CancelIn(_In):
    """Why an alert is cancelled (goes into the Cancel message's ``<note>``)."""

    note: Annotated[str, Field(min_length=1, max_length=500)] = "Fin de l'alerte"


class RejectIn(_In):
    reason: Annotated[str, Field(min_length=1, max_length=300)]


class InfoOut(BaseModel):
    language: str | None
    event: str
    headline: str | None
    description: str | None
    instruction: str | None
    web: str | None
    categories: list[str]
    urgency: str
    severity: str
    certainty: str
    onset: dt.datetime | None
    expires: dt.datetime | None


class CircleOut(BaseModel):
    lat: float
    lon: float
    radius_km: float


class AreaOut(BaseModel):
    desc: str
    polygons: list[list[tuple[float, float]]]
    circles: list[CircleOut]


class DeliveryCounts(BaseModel):
    pending: int = 0
    sent: int = 0
    failed: int = 0


class AlertOut(BaseModel):
    """An alert message as the API and the pages show it."""

    id: str
    identifier: str
    sender: str
    status: str
    msg_type: str
    state: str
    origin: str
    author: str
    approver: str | None
    references: str | None
    parent_id: str | None
    created_at: dt.datetime
    published_at: dt.datetime | None
    expires_at: dt.datetime | None
    note: str | None
    infos: list[InfoOut]
    areas: list[AreaOut]
    cap_url: str | None


class AlertList(BaseModel):
    alerts: list[AlertOut]


class ProblemOut(BaseModel):
    location: str
    message: str


class ValidationOut(BaseModel):
    valid: bool
    version: str | None
    problems: list[ProblemOut]


class PushKeys(_In):
    p256dh: Annotated[str, Field(min_length=20, max_length=200, pattern=r"^[A-Za-z0-9_\-=]+$")]
    auth: Annotated[str, Field(min_length=8, max_length=100, pattern=r"^[A-Za-z0-9_\-=]+$")]


class PushSubscriptionIn(_In):
    """A browser's PushSubscription (``toJSON()``) and a coarse location or a followed zone."""

    endpoint: Annotated[str, Field(min_length=10, max_length=2000)]
    keys: PushKeys
    lat: Lat
    lon: Lon
    # A followed zone (a relative's neighbourhood): alerts whose area meets this circle.
    radius_km: Annotated[float, Field(ge=0, le=50)] = 0


class WebhookIn(_In):
    """A platform's endpoint; it receives every published message, signed."""

    url: Annotated[str, Field(min_length=10, max_length=2000)]


class SubscriptionOut(BaseModel):
    id: str
    kind: str
    token: str
    secret: str | None = None
    expires_at: dt.datetime


class DeadLetter(BaseModel):
    delivery_id: int
    alert_id: str
    subscription_id: str
    kind: str
    attempts: int
    last_error: str | None


class DeadLetterList(BaseModel):
    dead: list[DeadLetter]


class VapidKey(BaseModel):
    public_key: str
