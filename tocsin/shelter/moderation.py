"""Abuse reports, the moderators' review, and the public map of coarse areas.

A seeker may report an offer it asked (or that declined it); a host may report a request that
asked it. Requiring that link is what keeps the report button from becoming a way to hide every
host in town. A reported offer is hidden at once (no proposals, no map, no new acceptance) until
a moderator restores or removes it; the moderators see what was said, never the host's place.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from tocsin.core import audit
from tocsin.core.auth import Principal
from tocsin.core.db import utcnow
from tocsin.core.errors import Conflict, Forbidden, Invalid, NotFound
from tocsin.core.outbox import add_event
from tocsin.shelter import events, geo
from tocsin.shelter.models import ShelterOffer, ShelterReport, ShelterRequest
from tocsin.shelter.requests import seeker_request
from tocsin.shelter.schemas import Area, ReportBody
from tocsin.shelter.service import decline_locally, host_offer

MAX_AREA_SPAN_DEG = 0.5


def _open_report(
    session: Session, *, target: str, offer_id: str, request_id: str
) -> ShelterReport | None:
    return session.scalar(
        select(ShelterReport).where(
            ShelterReport.target == target,
            ShelterReport.offer_id == offer_id,
            ShelterReport.request_id == request_id,
            ShelterReport.status == "open",
        )
    )


def report_offer(
    session: Session, *, request_id: str, token: str | None, offer_id: str, body: ReportBody,
    actor: Principal, now: dt.datetime | None = None,
) -> ShelterReport:
    """Record a seeker's report on an offer it dealt with, and hide the offer."""
    now = now or utcnow()
    request = seeker_request(session, request_id=request_id, token=token)
    if offer_id != request.offer_id and offer_id not in request.declined_offer_ids:
        raise Forbidden("a request may report only an offer it asked")
    offer = session.get(ShelterOffer, offer_id)
    if offer is None:
        raise NotFound("no such offer")
    existing = _open_report(session, target="offer", offer_id=offer_id, request_id=request.id)
    if existing is not None:
        return existing
    report = ShelterReport(
        target="offer", offer_id=offer.id, request_id=request.id, reason=body.reason,
        text=body.text or None, status="open", created_at=now,
    )
    session.add(report)
    if offer.moderation == "ok":
        offer.moderation = "pending"
        offer.updated_at = now
    session.flush()
    audit.record(session, actor=actor, action="shelter_report", object_type="shelter_offer",
                 object_id=offer.id, reason=body.reason)
    add_event(session, events.OFFER_REPORTED, events.OfferEvent(
        offer_id=offer.id, cell=offer.cell, status=offer.status, moderation=offer.moderation,
        remaining=offer.remaining,
    ).model_dump())
    return report


def report_request(
    session: Session, *, offer_id: str, token: str | None, request_id: str, body: ReportBody,
    actor: Principal, now: dt.datetime | None = None,
) -> ShelterReport:
    """Record a host's report on a request that asked it; a waiting request is declined."""
    now = now or utcnow()
    offer = host_offer(session, offer_id=offer_id, token=token)
    request = session.get(ShelterRequest, request_id)
    if request is None or (
        request.offer_id != offer.id and offer.id not in request.declined_offer_ids
    ):
        raise NotFound("this offer has no such request")
    existing = _open_report(session, target="request", offer_id=offer.id, request_id=request.id)
    if existing is not None:
        return existing
    report = ShelterReport(
        target="request", offer_id=offer.id, request_id=request.id, reason=body.reason,
        text=body.text or None, status="open", created_at=now,
    )
    session.add(report)
    if request.status == "asked" and request.offer_id == offer.id:
        decline_locally(request, offer.id, now)
    session.flush()
    audit.record(session, actor=actor, action="shelter_report", object_type="shelter_request",
                 object_id=request.id, reason=body.reason)
    return report


def queue(session: Session, *, actor: Principal, limit: int = 100) -> list[ShelterReport]:
    """Return the open reports, oldest first; reading their texts is audited."""
    reports = list(session.scalars(
        select(ShelterReport).where(ShelterReport.status == "open")
        .order_by(ShelterReport.created_at, ShelterReport.id).limit(limit)
    ))
    for report in reports:
        audit.record_read(session, actor=actor, object_type="shelter_report",
                          object_id=report.id, reason="moderation review")
    return reports


def decide(
    session: Session, *, report_id: int, decision: str, reason: str, actor: Principal,
    now: dt.datetime | None = None,
) -> ShelterReport:
    """Restore or remove what a report is about; every open report on it is settled at once."""
    now = now or utcnow()
    report = session.get(ShelterReport, report_id)
    if report is None:
        raise NotFound("no such report")
    if report.status != "open":
        raise Conflict(f"this report was already settled ({report.status})")
    settled = "restored" if decision == "restore" else "removed"
    same = [ShelterReport.target == report.target, ShelterReport.status == "open"]
    if report.target == "offer":
        same.append(ShelterReport.offer_id == report.offer_id)
        offer = session.get(ShelterOffer, report.offer_id) if report.offer_id else None
        if offer is not None:
            _settle_offer(session, offer, decision, now)
    else:
        same.append(ShelterReport.request_id == report.request_id)
        request = session.get(ShelterRequest, report.request_id) if report.request_id else None
        if request is not None and decision == "remove" and request.status != "accepted":
            request.status, request.updated_at = "cancelled", now
    session.execute(
        update(ShelterReport).where(*same)
        .values(status=settled, decided_at=now, decided_by=actor.username[:80])
        .execution_options(synchronize_session=False)
    )
    session.flush()
    session.refresh(report)
    audit.record(session, actor=actor, action=f"shelter_moderation_{decision}",
                 object_type=f"shelter_{report.target}",
                 object_id=(report.offer_id if report.target == "offer" else report.request_id)
                 or "", reason=reason)
    return report


def _settle_offer(session: Session, offer: ShelterOffer, decision: str, now: dt.datetime) -> None:
    offer.updated_at = now
    if decision == "restore":
        offer.moderation = "ok"
        return
    offer.moderation = "removed"
    if offer.status != "closed":
        offer.status, offer.closed_at, offer.closed_reason = "closed", now, "moderation"
    for request in session.scalars(
        select(ShelterRequest).where(
            ShelterRequest.offer_id == offer.id, ShelterRequest.status == "asked"
        )
    ):
        decline_locally(request, offer.id, now)


def areas(
    session: Session, *, south: float, west: float, north: float, east: float,
    now: dt.datetime | None = None,
) -> list[Area]:
    """Return the cells holding visible offers in a box, with counts (the public map)."""
    now = now or utcnow()
    if south >= north or west >= east:
        raise Invalid("the box must have south < north and west < east")
    if north - south > MAX_AREA_SPAN_DEG or east - west > MAX_AREA_SPAN_DEG:
        raise Invalid(f"the box may span at most {MAX_AREA_SPAN_DEG} degrees each way")
    rows = session.execute(
        select(ShelterOffer.cell, func.count(), func.sum(ShelterOffer.remaining))
        .where(
            ShelterOffer.status == "open",
            ShelterOffer.moderation == "ok",
            ShelterOffer.ends_at > now,
            ShelterOffer.remaining > 0,
            ShelterOffer.cell_lat.between(south, north),
            ShelterOffer.cell_lon.between(west, east),
        )
        .group_by(ShelterOffer.cell)
        .order_by(ShelterOffer.cell)
    ).all()
    return [
        Area(cell=cell, boundary=geo.boundary(cell), offers=int(count), places=int(places or 0))
        for cell, count, places in rows
    ]
