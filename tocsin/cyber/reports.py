"""Incident reports: intake with evidence and indicator extraction, analyst reads (audited).

Retention: the free text, the contact of an anonymous reporter and the evidence files are
personal or may be; they are purged ``PERSONAL_DAYS`` after the report (see ``retention``). The
type, sector, size, region, dates and impact stay: they feed the statistics and name no one.
"""

from __future__ import annotations

import datetime as dt
import uuid

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from tocsin.core import audit, outbox
from tocsin.core.auth import Principal
from tocsin.core.db import utcnow
from tocsin.core.errors import Invalid, NotFound
from tocsin.cyber import events, intel
from tocsin.cyber import evidence as ev
from tocsin.cyber import indicators as ioc
from tocsin.cyber.models import CyberEvidence, CyberIncident, CyberIndicatorSighting
from tocsin.cyber.schemas import (
    ContactIn,
    EvidenceOut,
    IncidentDetail,
    IncidentIn,
    IncidentOut,
)
from tocsin.cyber.statuses import IncidentStatus

PERSONAL_DAYS = 180
FUTURE_SLACK = dt.timedelta(minutes=10)


def create(session: Session, *, data: IncidentIn, reporter: str | None,
           files: list[ev.CheckedFile], now: dt.datetime | None = None) -> CyberIncident:
    """Record a report, its evidence and the indicators it names; raise ``Invalid`` first."""
    now = now or utcnow()
    if data.occurred_at.tzinfo is None:
        raise Invalid("occurred_at needs a time zone (e.g. 2026-11-13T21:20:00+01:00)")
    if data.occurred_at > now + FUTURE_SLACK:
        raise Invalid("occurred_at is in the future")
    if reporter is None and data.contact is None:
        raise Invalid("an anonymous report needs a contact (e-mail or phone) to reach you back",
                      details=[{"location": "body.contact", "message": "required"}])
    if len(files) > ev.MAX_FILES:
        raise Invalid(f"at most {ev.MAX_FILES} evidence files")
    # Every listed indicator must be valid: a typo refused now is better than a wrong IOC shared.
    listed = []
    for i, raw in enumerate(data.indicators):
        try:
            listed.append(ioc.classify(raw))
        except Invalid as exc:
            raise Invalid(f"indicators[{i}]: {exc.message}",
                          details=[{"location": f"body.indicators.{i}",
                                    "message": exc.message}]) from None
    found = {(i.kind, i.value): i for i in listed}
    for extra in ioc.extract(data.description or ""):
        found.setdefault((extra.kind, extra.value), extra)
    incident = CyberIncident(
        id=uuid.uuid4().hex, incident_type=data.incident_type, sector=data.sector,
        size=data.size, region=data.region, occurred_at=data.occurred_at.astimezone(dt.UTC),
        impact=data.impact, description=data.description or None,
        contact=data.contact.model_dump(exclude_none=True) if reporter is None and data.contact
        else None,
        reporter=reporter, status=IncidentStatus.new, created_at=now,
        personal_expires_at=now + dt.timedelta(days=PERSONAL_DAYS))
    session.add(incident)
    session.flush()
    for checked in files:
        session.add(CyberEvidence(
            incident_id=incident.id, filename=checked.filename, media_type=checked.media_type,
            size=len(checked.data), sha256=checked.sha256, data=checked.data, created_at=now,
            expires_at=now + dt.timedelta(days=PERSONAL_DAYS)))
    for indicator in found.values():
        intel.sight(session, indicator, source="report", incident_id=incident.id, now=now)
    session.flush()
    outbox.add_event(session, events.INCIDENT_REPORTED, events.IncidentReported(
        id=incident.id, incident_type=incident.incident_type, sector=incident.sector,
        region=incident.region, indicators=len(found)).model_dump())
    return incident


def _evidence_count(session: Session, incident_id: str) -> int:
    return int(session.scalar(select(func.count()).select_from(CyberEvidence)
                              .where(CyberEvidence.incident_id == incident_id)) or 0)


def indicator_count(session: Session, incident_id: str) -> int:
    return int(session.scalar(select(func.count()).select_from(CyberIndicatorSighting)
                              .where(CyberIndicatorSighting.incident_id == incident_id)) or 0)


def summary(session: Session, row: CyberIncident) -> IncidentOut:
    return IncidentOut(
        id=row.id, incident_type=row.incident_type, sector=row.sector, size=row.size,
        region=row.region, occurred_at=row.occurred_at, impact=row.impact, status=row.status,
        anonymous=row.reporter is None, reporter=row.reporter, created_at=row.created_at,
        evidence=_evidence_count(session, row.id))


def listing(session: Session, *, status: str | None = None, reporter: str | None = None,
            limit: int = 100, offset: int = 0) -> list[CyberIncident]:
    """Return reports, newest first (no sealed field is opened)."""
    query = select(CyberIncident)
    if status:
        query = query.where(CyberIncident.status == status)
    if reporter:
        query = query.where(CyberIncident.reporter == reporter)
    return list(session.scalars(
        query.order_by(CyberIncident.created_at.desc()).limit(limit).offset(offset)))


def get(session: Session, incident_id: str) -> CyberIncident:
    row = session.get(CyberIncident, incident_id)
    if row is None:
        raise NotFound(f"no incident {incident_id}")
    return row


def detail(session: Session, *, who: Principal, incident_id: str, reason: str) -> IncidentDetail:
    """Open a report's sealed text and contact for an analyst, writing the read to the audit."""
    row = get(session, incident_id)
    audit.record_read(session, actor=who, object_type="cyber_incident", object_id=row.id,
                      reason=reason)
    files = session.scalars(select(CyberEvidence).where(CyberEvidence.incident_id == row.id)
                            .order_by(CyberEvidence.id)).all()
    ids = session.scalars(select(CyberIndicatorSighting.indicator_id)
                          .where(CyberIndicatorSighting.incident_id == row.id)).all()
    base = summary(session, row)
    return IncidentDetail(
        **base.model_dump(), description=row.description,
        contact=ContactIn(**row.contact) if row.contact else None,
        evidence_files=[EvidenceOut(id=f.id, filename=f.filename, media_type=f.media_type,
                                    size=f.size, sha256=f.sha256) for f in files],
        indicator_ids=sorted(ids))


def read_evidence(session: Session, *, who: Principal, incident_id: str, evidence_id: int,
                  reason: str) -> CyberEvidence:
    """Return one evidence file for an analyst, auditing the read."""
    row = session.get(CyberEvidence, evidence_id)
    if row is None or row.incident_id != incident_id:
        raise NotFound(f"no evidence {evidence_id} on incident {incident_id}")
    audit.record_read(session, actor=who, object_type="cyber_evidence", object_id=row.id,
                      reason=reason)
    return row


def set_status(session: Session, *, who: Principal, incident_id: str, status: str) -> CyberIncident:
    row = get(session, incident_id)
    row.status = status
    audit.record(session, actor=who, action="cyber.incident_status", object_type="cyber_incident",
                 object_id=row.id, reason=status)
    session.flush()
    return row
