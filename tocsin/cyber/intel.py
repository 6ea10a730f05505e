"""Indicators: record sightings (deduplicated, counted), analyst review, TLP and audience."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import select
from sqlalchemy.orm import Session

from tocsin.core import audit
from tocsin.core.auth import Principal
from tocsin.core.auth.models import UserAccount
from tocsin.core.auth.roles import Role
from tocsin.core.db import utcnow
from tocsin.core.errors import Conflict, Invalid, NotFound
from tocsin.cyber import indicators as ioc
from tocsin.cyber import stix, tlp
from tocsin.cyber.models import CyberIndicator, CyberIndicatorSighting
from tocsin.cyber.schemas import IndicatorIn, IndicatorOut, IndicatorPatch
from tocsin.cyber.statuses import IndicatorStatus


def sight(session: Session, found: ioc.Indicator, *, source: str, level: str = "amber",
          share_with: str = "", incident_id: str | None = None,
          now: dt.datetime | None = None) -> CyberIndicator:
    """Count one sighting of an indicator, creating it on first sight."""
    now = now or utcnow()
    row = session.scalar(select(CyberIndicator).where(
        CyberIndicator.kind == found.kind, CyberIndicator.value == found.value))
    if row is None:
        row = CyberIndicator(kind=found.kind, value=found.value, count=0, first_seen_at=now,
                             last_seen_at=now, status=IndicatorStatus.new, tlp=level,
                             share_with=share_with,
                             source=source[:80], created_at=now)
        session.add(row)
        session.flush()
    if incident_id is not None:
        if session.get(CyberIndicatorSighting, (row.id, incident_id)) is not None:
            return row  # the same report names it twice: one sighting
        session.add(CyberIndicatorSighting(indicator_id=row.id, incident_id=incident_id))
    row.count += 1
    row.first_seen_at = min(row.first_seen_at, now)
    row.last_seen_at = max(row.last_seen_at, now)
    session.flush()
    if row.status == IndicatorStatus.confirmed:
        stix.publish_indicator(session, row, now)
    return row


def check_partners(session: Session, names: list[str]) -> str:
    """Return the encoded list of partner accounts, refusing names that are not partners."""
    wanted = sorted({n.strip() for n in names if n.strip()})
    if not wanted:
        return ""
    known = set(session.scalars(select(UserAccount.username).where(
        UserAccount.username.in_(wanted), UserAccount.role == Role.partner.value)))
    unknown = [n for n in wanted if n not in known]
    if unknown:
        raise Invalid(f"not partner accounts: {', '.join(unknown)}",
                      details=[{"location": "body.share_with", "message": "unknown partner"}])
    return tlp.encode_partners(wanted)


def add(session: Session, *, who: Principal, data: IndicatorIn) -> CyberIndicator:
    """An analyst enters an indicator (defanged forms accepted); it counts as one sighting."""
    found = ioc.classify(data.value, data.kind)
    share = check_partners(session, data.share_with)
    row = sight(session, found, source=f"analyst:{who.username}", level=data.tlp,
                share_with=share)
    audit.record(session, actor=who, action="cyber.indicator_add", object_type="cyber_indicator",
                 object_id=row.id, reason=f"{found.kind}")
    return row


def review(session: Session, *, who: Principal, indicator_id: int,
           data: IndicatorPatch) -> CyberIndicator:
    """Confirm or reject an indicator, or change its TLP and audience; re-share if confirmed."""
    row = session.get(CyberIndicator, indicator_id)
    if row is None:
        raise NotFound(f"no indicator {indicator_id}")
    if (data.status == IndicatorStatus.confirmed and row.status != IndicatorStatus.confirmed
            and row.source == f"analyst:{who.username}"):
        # Four eyes (issue 19, finding 4): a confirmed indicator goes out to partners over TAXII,
        # so the analyst who entered it cannot also confirm it.
        raise Conflict(f"indicator {indicator_id} was entered by {who.username}: another "
                       "analyst must confirm it before it is shared")
    was_shared = row.status in (IndicatorStatus.confirmed, IndicatorStatus.false_positive)
    if data.share_with is not None:
        row.share_with = check_partners(session, data.share_with)
    if data.tlp is not None:
        row.tlp = data.tlp
    if data.status is not None:
        row.status = data.status
        row.reviewed_by = who.username
    session.flush()
    if row.status == IndicatorStatus.confirmed or (
            row.status == IndicatorStatus.false_positive and was_shared):
        # A false positive already shared goes out once more, revoked, so partners drop it.
        stix.publish_indicator(session, row)
    audit.record(session, actor=who, action="cyber.indicator_review",
                 object_type="cyber_indicator", object_id=row.id,
                 reason=f"status={row.status} tlp={row.tlp}")
    return row


def listing(session: Session, *, kind: str | None = None, status: str | None = None,
            q: str | None = None, limit: int = 100, offset: int = 0) -> list[CyberIndicator]:
    """Return indicators, most seen first."""
    query = select(CyberIndicator)
    if kind:
        query = query.where(CyberIndicator.kind == kind)
    if status:
        query = query.where(CyberIndicator.status == status)
    if q:
        query = query.where(CyberIndicator.value.contains(ioc.refang(q).lower()))
    query = query.order_by(CyberIndicator.count.desc(), CyberIndicator.last_seen_at.desc())
    return list(session.scalars(query.limit(limit).offset(offset)))


def out(row: CyberIndicator) -> IndicatorOut:
    return IndicatorOut(id=row.id, kind=row.kind, value=row.value, count=row.count,
                        first_seen_at=row.first_seen_at, last_seen_at=row.last_seen_at,
                        status=row.status, tlp=row.tlp, share_with=tlp.decode_partners(
                            row.share_with), source=row.source)
