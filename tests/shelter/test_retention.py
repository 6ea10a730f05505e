"""Expiry at the end time, and purge after the crisis window."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from tocsin.core.auth import Principal
from tocsin.core.db import utcnow
from tocsin.shelter import requests, retention, service
from tocsin.shelter.config import ShelterSettings
from tocsin.shelter.models import ShelterOffer, ShelterReport, ShelterRequest
from tocsin.shelter.schemas import OfferCreate, RequestCreate

CITIZEN = Principal(user_id=None, username="citizen", role=None)
CONFIG = ShelterSettings(retention_days=14)


def _offer(db: Session, hours: float = 2) -> ShelterOffer:
    data = OfferCreate.model_validate({
        "lat": 48.8661, "lon": 2.3641, "address": "1 rue Test", "capacity": 2,
        "ends_at": utcnow() + dt.timedelta(hours=hours), "access": "stairs",
    })
    offer, _ = service.create_offer(db, data=data, actor=CITIZEN)
    return offer


def _request(db: Session) -> ShelterRequest:
    request, _ = requests.create_request(
        db, data=RequestCreate(lat=48.857, lon=2.352, people=1), actor=CITIZEN, config=CONFIG
    )
    return request


def test_offer_closes_at_its_end_time(db: Session) -> None:
    offer = _offer(db, hours=2)
    request = _request(db)
    assert [m.offer_id for m in requests.find_matches(db, request=request, config=CONFIG)] == [
        offer.id]
    later = utcnow() + dt.timedelta(hours=3)
    # Closed for matching at once, even before the purge job runs...
    assert requests.find_matches(db, request=request, config=CONFIG, now=later) == []
    assert service.effective_status(offer, later) == "closed"
    # ...and durably once it has.
    counts = retention.purge(db, now=later, settings=CONFIG)
    assert counts["shelter_offer_closed"] == 1 and counts["shelter_offer"] == 0
    db.refresh(offer)
    assert offer.status == "closed" and offer.closed_reason == "expired"


def test_purge_after_the_crisis_window(db: Session) -> None:
    old, fresh = _offer(db), _offer(db, hours=24 * 20)
    request = _request(db)
    request.offer_id, request.status = old.id, "accepted"
    db.add(ShelterReport(target="offer", offer_id=old.id, request_id=request.id, reason="fake",
                         status="open", created_at=utcnow()))
    db.flush()
    # Past the window after the old offer ended (and the request expired), all of it goes in
    # one run (closed at its end time, then deleted); the running offer stays.
    early = retention.purge(db, now=utcnow() + dt.timedelta(days=10), settings=CONFIG)
    assert early["shelter_offer"] == 0
    counts = retention.purge(db, now=utcnow() + dt.timedelta(days=17), settings=CONFIG)
    assert counts["shelter_offer"] == 1 and counts["shelter_request"] == 1
    assert counts["shelter_report"] == 1
    db.expire_all()
    assert db.scalar(select(func.count()).select_from(ShelterOffer)) == 1
    assert db.get(ShelterOffer, fresh.id) is not None
    assert db.scalar(select(func.count()).select_from(ShelterRequest)) == 0
    assert db.scalar(select(func.count()).select_from(ShelterReport)) == 0


def test_window_is_configurable(db: Session) -> None:
    offer = _offer(db)
    db.execute(update(ShelterOffer).values(status="closed", closed_at=utcnow()))
    now = utcnow() + dt.timedelta(days=2)
    three, one = ShelterSettings(retention_days=3), ShelterSettings(retention_days=1)
    assert retention.purge(db, now=now, settings=three)["shelter_offer"] == 0
    assert retention.purge(db, now=now, settings=one)["shelter_offer"] == 1
    assert offer.id


def test_unanswered_request_expires(db: Session) -> None:
    request = _request(db)
    later = request.expires_at + dt.timedelta(minutes=1)
    assert requests.request_status(request, later) == "expired"
    assert retention.purge(db, now=later, settings=CONFIG)["shelter_request_expired"] == 1
