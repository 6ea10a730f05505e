"""Expiry and purge of shelter data (run by ``tocsin purge``).

Offers close at their end time (queries already treat them as closed; this makes it durable)
and unanswered requests expire. After the crisis window (``TOCSIN_SHELTER_RETENTION_DAYS``,
14 days by default) closed offers, finished requests and settled reports are deleted: the
addresses people opened their doors with do not outlive the emergency.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import delete, or_, update
from sqlalchemy.orm import Session

from tocsin.shelter.config import ShelterSettings, shelter_settings
from tocsin.shelter.models import ShelterOffer, ShelterReport, ShelterRequest


def _count(result: object) -> int:
    return int(getattr(result, "rowcount", 0) or 0)


def purge(
    session: Session, now: dt.datetime, config: ShelterSettings | None = None
) -> dict[str, int]:
    """Close expired offers and requests, then delete what is past the crisis window."""
    config = config or shelter_settings()
    cutoff = now - dt.timedelta(days=config.retention_days)
    closed = session.execute(
        update(ShelterOffer)
        .where(ShelterOffer.status.in_(("open", "paused")), ShelterOffer.ends_at <= now)
        .values(status="closed", closed_reason="expired", closed_at=ShelterOffer.ends_at)
        .execution_options(synchronize_session=False)
    )
    expired = session.execute(
        update(ShelterRequest)
        .where(ShelterRequest.status.in_(("open", "asked", "declined")),
               ShelterRequest.expires_at <= now)
        .values(status="expired", updated_at=now)
        .execution_options(synchronize_session=False)
    )
    old_offers = (
        ShelterOffer.__table__.select()
        .with_only_columns(ShelterOffer.id)
        .where(ShelterOffer.status == "closed", ShelterOffer.closed_at < cutoff)
    )
    old_requests = (
        ShelterRequest.__table__.select()
        .with_only_columns(ShelterRequest.id)
        .where(ShelterRequest.updated_at < cutoff, ShelterRequest.expires_at < cutoff)
    )
    reports = session.execute(
        delete(ShelterReport)
        .where(or_(
            ShelterReport.offer_id.in_(old_offers),
            ShelterReport.request_id.in_(old_requests),
            ShelterReport.decided_at < cutoff,
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
        .where(ShelterOffer.status == "closed", ShelterOffer.closed_at < cutoff)
        .execution_options(synchronize_session=False)
    )
    return {
        "shelter_offer_closed": _count(closed),
        "shelter_request_expired": _count(expired),
        "shelter_offer": _count(offers),
        "shelter_request": _count(requests),
        "shelter_report": _count(reports),
    }
