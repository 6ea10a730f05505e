"""Where a report, an indicator and an advisory push stand: the values stored in the tables'
``status`` columns and spoken by the API, named once (a leaf module: models, schemas and
services all read it)."""

from __future__ import annotations

from enum import StrEnum


class IncidentStatus(StrEnum):
    """A reported incident, as the analysts triage it."""

    new = "new"
    triaged = "triaged"
    closed = "closed"


class IndicatorStatus(StrEnum):
    """An indicator of compromise: shared (STIX, TAXII) only once an analyst confirmed it."""

    new = "new"
    confirmed = "confirmed"
    false_positive = "false_positive"


class PushStatus(StrEnum):
    """One Web Push of an advisory version: ``dead`` after a permanent refusal or the last try."""

    pending = "pending"
    sent = "sent"
    dead = "dead"
