"""Expiry and purge of shelter data (run by ``tocsin purge``).

Offers close at their end time (queries already treat them as closed; this makes it durable)
and unanswered requests expire. After the crisis window (``TOCSIN_SHELTER_RETENTION_DAYS``,
14 days by default) closed offers, finished requests and settled reports are deleted: the
addresses people opened their doors with do not outlive the emergency.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import delete, or_, select, update
from sqlalchemy.orm import Session

from tocsin.shelter.config import ShelterSettings, shelter_settings
from tocsin.shelter.models import ShelterOffer, ShelterReport, ShelterRequest

BATCH = 500  # rows per table per call: ``tocsin purge`` commits between calls


def _count(result: object) -> int:
    return int(getattr(result, "rowcount", 0) or 0)


def purge(
    session: Session, *, now: dt.datetime, batch: int | None = None,
    settings: ShelterSettings | None = None,
) -> dict[str, int]:
    """Close expired offers and requests, then delete what is past the crisis window (one
    batch of each)."""
    limit = batch or BATCH  # read here: a test may lower the module's BATCH
    config = settings or shelter_settings()
    cutoff = now - dt.timedelta(days=config.retention_days)
    closed = session.execute(
        update(ShelterOffer)
        .where(ShelterOffer.id.in_(
            select(ShelterOffer.id)
            .where(ShelterOffer.status.in_(("open", "paused")), ShelterOffer.ends_at <= now)
            .limit(limit)))
        .values(status="closed", closed_reason="expired", closed_at=ShelterOffer.ends_at)
        .execution_options(synchronize_session=False)
    )
    expired = session.execute(
        update(ShelterRequest)
        .where(ShelterRequest.id.in_(
            select(ShelterRequest.id)
            .where(ShelterRequest.status.in_(("open", "asked", "declined")),
                   ShelterRequest.expires_at <= now)
            .limit(limit)))
        .values(status="expired", updated_at=now)
        .execution_options(synchronize_session=False)
    )
    old_offers = list(session.scalars(
        select(ShelterOffer.id)
        .where(ShelterOffer.status == "closed", ShelterOffer.closed_at < cutoff)
        .limit(limit)
    ))
    old_requests = list(session.scalars(
        select(ShelterRequest.id)
        .where(ShelterRequest.updated_at < cutoff, ShelterRequest.expires_at < cutoff)
        .limit(limit)
    ))
    # The reports of this batch's offers and requests (so none goes uncounted by cascade), and
    # a batch of those decided before the window.
    reports = session.execute(
        delete(ShelterReport)
        .where(or_(
            ShelterReport.offer_id.in_(old_offers),
            ShelterReport.request_id.in_(old_requests),
            ShelterReport.id.in_(select(ShelterReport.id)
                                 .where(ShelterReport.decided_at < cutoff).limit(limit)),
        ))
        .execution_options(synchronize_session=False)
    )
    # Requests first: a request still pointing at an old offer goes with it if it is old too.
    requests = session.execute(
        delete(ShelterRequest)
        .where(ShelterRequest.id.in_(old_requests))
        .execution_options(synchronize_session=False)
    )
    session.execute(
        update(ShelterRequest)
        .where(ShelterRequest.offer_id.in_(old_offers))
        .values(offer_id=None)
        .execution_options(synchronize_session=False)
    )
    offers = session.execute(
        delete(ShelterOffer)
        .where(ShelterOffer.id.in_(old_offers))
        .execution_options(synchronize_session=False)
    )
    return {
        "shelter_offer_closed": _count(closed),
        "shelter_request_expired": _count(expired),
        "shelter_offer": _count(offers),
        "shelter_request": _count(requests),
        "shelter_report": _count(reports),
    }
