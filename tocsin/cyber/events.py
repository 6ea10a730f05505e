"""Bus subjects and payloads the cyber desk publishes (through the outbox).

Payloads carry ids and the categories the observatory counts: never a report's text, evidence
or contact (sealed, read through the audited API). ``cyber.advisory_published`` is consumed by
this domain's delivery planner (``lifecycle``); both feed the observatory (``figures``).
"""

from __future__ import annotations

from pydantic import BaseModel

INCIDENT_REPORTED = "cyber.incident_reported"
ADVISORY_PUBLISHED = "cyber.advisory_published"


class IncidentReported(BaseModel):
    """``cyber.incident_reported``: a victim's or partner's report was recorded."""

    id: str
    incident_type: str
    sector: str
    region: str
    indicators: int


class AdvisoryPublished(BaseModel):
    """``cyber.advisory_published``: version ``version`` of an advisory was approved."""

    id: str
    version: int
