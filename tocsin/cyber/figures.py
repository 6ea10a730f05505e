"""Figures the cyber desk contributes to the observatory (contract: ``tocsin.core.figures``).

Incidents per type (detail: sector) placed on the map at their region's chief town (a report
gives a region, never an address), incidents per region (detail: type), indicators by kind when
first seen (detail: where they came from), advisories published by severity, and the time from
the earliest report an advisory cites to its first publication. Weekly views are the observatory's
aggregation of these facts. No fact holds personal data: ids, categories and regions only.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import select
from sqlalchemy.orm import Session

from tocsin.core.bus import Event
from tocsin.core.figures import Fact, Kind, seconds_between
from tocsin.cyber import events
from tocsin.cyber.indicators import KINDS as INDICATOR_KINDS
from tocsin.cyber.models import CyberAdvisory, CyberAdvisoryVersion, CyberIncident, CyberIndicator
from tocsin.cyber.schemas import REGIONS, SEVERITIES, TYPES

# The region's chief town: where a region's incidents are drawn on the map.
CHIEF_TOWNS = {
    "FR-ARA": (45.764, 4.836), "FR-BFC": (47.322, 5.041), "FR-BRE": (48.117, -1.678),
    "FR-CVL": (47.903, 1.909), "FR-COR": (41.919, 8.738), "FR-GES": (48.573, 7.752),
    "FR-HDF": (50.629, 3.057), "FR-IDF": (48.857, 2.352), "FR-NOR": (49.443, 1.099),
    "FR-NAQ": (44.838, -0.579), "FR-OCC": (43.605, 1.444), "FR-PDL": (47.218, -1.554),
    "FR-PAC": (43.296, 5.370), "FR-GP": (15.998, -61.726), "FR-MQ": (14.616, -61.059),
    "FR-GF": (4.938, -52.335), "FR-RE": (-20.882, 55.450), "FR-YT": (-12.781, 45.228),
}
SOURCES = ("report", "analyst", "partner")

KINDS = (
    Kind("cyber.incident", "Incidents cyber signalés", "Cyber incidents reported",
         categories=TYPES, details="sector", mapped=True, watch=True),
    Kind("cyber.incident_region", "Incidents cyber par région", "Cyber incidents by region",
         categories=REGIONS, details="incident_type"),
    Kind("cyber.indicator", "Indicateurs de compromission nouveaux",
         "New indicators of compromise", categories=INDICATOR_KINDS, details="source"),
    Kind("cyber.advisory", "Avis de sécurité publiés", "Security advisories published",
         categories=SEVERITIES),
    Kind("cyber.time_to_advisory", "Délai du signalement à l'avis", "Time from report to advisory",
         unit="seconds"),
)
SUBJECTS = (events.INCIDENT_REPORTED, events.ADVISORY_PUBLISHED)


def _incident(row: CyberIncident) -> list[Fact]:
    lat, lon = CHIEF_TOWNS.get(row.region, (None, None))
    return [Fact("cyber.incident", row.id, row.created_at, category=row.incident_type,
                 detail=row.sector, lat=lat, lon=lon),
            Fact("cyber.incident_region", row.id, row.created_at, category=row.region,
                 detail=row.incident_type)]


def _advisory(session: Session, advisory: CyberAdvisory) -> list[Fact]:
    published = advisory.first_published_at
    if published is None:
        return []
    first = session.scalar(select(CyberAdvisoryVersion).where(
        CyberAdvisoryVersion.advisory_id == advisory.id,
        CyberAdvisoryVersion.published_at.is_not(None))
        .order_by(CyberAdvisoryVersion.version).limit(1))
    if first is None:
        return []
    facts = [Fact("cyber.advisory", advisory.id, published, category=first.severity)]
    if first.incident_ids:
        earliest = session.scalar(select(CyberIncident.created_at).where(
            CyberIncident.id.in_(first.incident_ids)).order_by(CyberIncident.created_at).limit(1))
        seconds = seconds_between(earliest, published)
        if seconds is not None:
            facts.append(Fact("cyber.time_to_advisory", advisory.id, published, value=seconds))
    return facts


def from_event(session: Session, event: Event) -> list[Fact]:
    """A report, or a first publication, becomes its facts at once."""
    key = str(event.data.get("id", ""))
    if event.subject == events.INCIDENT_REPORTED:
        row = session.get(CyberIncident, key)
        return _incident(row) if row is not None else []
    advisory = session.get(CyberAdvisory, key)
    return _advisory(session, advisory) if advisory is not None else []


def _source(text: str) -> str:
    head = text.split(":", 1)[0]
    return head if head in SOURCES else "report"


def from_tables(session: Session, start: dt.datetime, end: dt.datetime) -> list[Fact]:
    """Return the facts of reports, new indicators and first publications in ``[start, end)``."""
    facts: list[Fact] = []
    for row in session.scalars(select(CyberIncident).where(
            CyberIncident.created_at >= start, CyberIncident.created_at < end)):
        facts += _incident(row)
    facts += [
        Fact("cyber.indicator", str(r.id), r.created_at, category=r.kind, detail=_source(r.source))
        for r in session.execute(
            select(CyberIndicator.id, CyberIndicator.created_at, CyberIndicator.kind,
                   CyberIndicator.source)
            .where(CyberIndicator.created_at >= start, CyberIndicator.created_at < end))
    ]
    for advisory in session.scalars(select(CyberAdvisory).where(
            CyberAdvisory.first_published_at >= start, CyberAdvisory.first_published_at < end)):
        facts += _advisory(session, advisory)
    return facts
