"""Offers, from the host's side: create, view, edit, pause, close, accept or decline a seeker.

Hosts have no account: each offer has a management token (stored hashed) and every host
action presents it. Acceptance is one conditional ``UPDATE`` (places left >= people asked, offer
open, token right), so two seekers accepted at once can never overbook: the database, not the
application, decides who got the last places. Requests, matching and the reveal live in
:mod:`tocsin.shelter.requests`; reports and moderation in :mod:`tocsin.shelter.moderation`.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from tocsin.core import audit
from tocsin.core.auth import Principal
from tocsin.core.db import utcnow
from tocsin.core.errors import Conflict, Forbidden, Invalid, NotFound
from tocsin.core.outbox import add_event
from tocsin.shelter import events, geo
from tocsin.shelter.exceptions import NoPlaces
from tocsin.shelter.models import ShelterOffer, ShelterRequest
from tocsin.shelter.schemas import OfferCreate, OfferUpdate
from tocsin.shelter.tokens import hash_token, new_id, new_token, token_matches

MAX_AHEAD = dt.timedelta(days=30)
ACCESS_LEVEL = {"stairs": 0, "lift": 1, "wheelchair": 2}
NEED_LEVEL = {"any": 0, "lift": 1, "wheelchair": 2}
WAITING = ("asked", "accepted")


def effective_status(offer: ShelterOffer, now: dt.datetime) -> str:
    """Return the offer's status as of ``now``: past its end time it is closed, purge or not."""
    if offer.status in ("open", "paused") and offer.ends_at <= now:
        return "closed"
    return offer.status


def _check_ends_at(ends_at: dt.datetime, now: dt.datetime) -> None:
    if ends_at <= now:
        raise Invalid("ends_at is in the past", details=[{"location": "body.ends_at"}])
    if ends_at > now + MAX_AHEAD:
        raise Invalid("ends_at is more than 30 days ahead", details=[{"location": "body.ends_at"}])


def _event(session: Session, subject: str, offer: ShelterOffer) -> None:
    payload = events.OfferEvent(
        offer_id=offer.id, cell=offer.cell, status=offer.status,
        moderation=offer.moderation, remaining=offer.remaining,
    )
    add_event(session, subject, payload.model_dump())


def create_offer(
    session: Session, *, data: OfferCreate, actor: Principal, now: dt.datetime | None = None
) -> tuple[ShelterOffer, str]:
    """Record an offer; return it and its management token (shown once, stored hashed)."""
    now = now or utcnow()
    _check_ends_at(data.ends_at, now)
    cell = geo.cell_of(data.lat, data.lon)
    token = new_token()
    offer = ShelterOffer(
        id=new_id(),
        manage_token_hash=hash_token(token),
        device_hash=None if actor.username == "citizen" else actor.username[:64],
        location={"lat": data.lat, "lon": data.lon},
        address=data.address,
        directions=data.directions or None,
        note=data.note or None,
        cell=cell.index,
        cell_lat=cell.lat,
        cell_lon=cell.lon,
        capacity=data.capacity,
        remaining=data.capacity,
        access=data.access,
        pets=data.pets,
        languages=sorted(set(data.languages)),
        status="open",
        moderation="ok",
        created_at=now,
        updated_at=now,
        ends_at=data.ends_at,
    )
    session.add(offer)
    session.flush()
    audit.record(session, actor=actor, action="shelter_offer_create",
                 object_type="shelter_offer", object_id=offer.id)
    _event(session, events.OFFER_CREATED, offer)
    return offer, token


def host_offer(session: Session, *, offer_id: str, token: str | None) -> ShelterOffer:
    """Return the offer if ``token`` manages it: 404 unknown, 403 wrong token."""
    offer = session.get(ShelterOffer, offer_id)
    if offer is None:
        raise NotFound("no such offer")
    if not token_matches(token, offer.manage_token_hash):
        raise Forbidden("this management token does not manage this offer")
    return offer


def waiting_count(session: Session, *, offer_id: str) -> int:
    """Count the requests waiting for this host's answer."""
    return int(session.scalar(
        select(func.count()).select_from(ShelterRequest).where(
            ShelterRequest.offer_id == offer_id, ShelterRequest.status == "asked"
        )
    ) or 0)


def read_own_offer(
    session: Session, *, offer_id: str, token: str | None, actor: Principal
) -> ShelterOffer:
    """Return the host's own offer, address included; the read is audited like any other."""
    offer = host_offer(session, offer_id=offer_id, token=token)
    audit.record_read(session, actor=actor, object_type="shelter_offer", object_id=offer.id,
                      reason="host reads their own offer")
    return offer


def update_offer(
    session: Session, *, offer_id: str, token: str | None, data: OfferUpdate, actor: Principal,
    now: dt.datetime | None = None,
) -> ShelterOffer:
    """Apply a host's edit; capacity may not drop below the places already given."""
    now = now or utcnow()
    offer = host_offer(session, offer_id=offer_id, token=token)
    if effective_status(offer, now) == "closed":
        raise Conflict("this offer is closed")
    if data.ends_at is not None:
        _check_ends_at(data.ends_at, now)
    if data.capacity is not None and data.capacity != offer.capacity:
        # One statement: an acceptance racing this edit cannot be lost or overbooked.
        delta = data.capacity - offer.capacity
        result = session.execute(
            update(ShelterOffer)
            .where(ShelterOffer.id == offer.id, ShelterOffer.remaining + delta >= 0)
            .values(capacity=data.capacity, remaining=ShelterOffer.remaining + delta)
            .execution_options(synchronize_session=False)
        )
        if result.rowcount != 1:  # type: ignore[attr-defined]
            raise Conflict("capacity cannot go below the places already given")
        session.refresh(offer)
    fields: dict[str, Any] = data.model_dump(
        exclude_unset=True, exclude={"capacity", "lat", "lon"}
    )
    for name, value in fields.items():
        if name == "languages":
            value = sorted(set(value or []))
        if name in ("address", "access", "pets", "ends_at") and value is None:
            continue
        setattr(offer, name, value)
    if data.lat is not None and data.lon is not None:
        cell = geo.cell_of(data.lat, data.lon)
        offer.location = {"lat": data.lat, "lon": data.lon}
        offer.cell, offer.cell_lat, offer.cell_lon = cell.index, cell.lat, cell.lon
    offer.updated_at = now
    session.flush()
    audit.record(session, actor=actor, action="shelter_offer_update",
                 object_type="shelter_offer", object_id=offer.id)
    _event(session, events.OFFER_UPDATED, offer)
    return offer


def set_status(
    session: Session, *, offer_id: str, token: str | None, status: str, actor: Principal,
    now: dt.datetime | None = None,
) -> ShelterOffer:
    """Pause, resume or close an offer; closing declines the seekers still waiting."""
    now = now or utcnow()
    offer = host_offer(session, offer_id=offer_id, token=token)
    current = effective_status(offer, now)
    if current == "closed":
        raise Conflict("this offer is closed")
    if status == "open" and offer.moderation != "ok":
        raise Conflict("this offer is hidden pending a moderator's review")
    offer.status = status
    offer.updated_at = now
    if status == "closed":
        offer.closed_at, offer.closed_reason = now, "host"
        for request in session.scalars(
            select(ShelterRequest).where(
                ShelterRequest.offer_id == offer.id, ShelterRequest.status == "asked"
            )
        ):
            decline_locally(request, offer.id, now)
    session.flush()
    audit.record(session, actor=actor, action=f"shelter_offer_{status}",
                 object_type="shelter_offer", object_id=offer.id)
    _event(session, events.OFFER_UPDATED, offer)
    return offer


def decline_locally(request: ShelterRequest, offer_id: str, now: dt.datetime) -> None:
    """Mark ``request`` declined by ``offer_id`` so that offer is not proposed to it again."""
    request.status = "declined"
    request.offer_id = None
    request.declined_offer_ids = sorted({*request.declined_offer_ids, offer_id})
    request.decided_at = request.updated_at = now


def host_requests(session: Session, *, offer: ShelterOffer) -> list[ShelterRequest]:
    """Return the requests waiting on, or accepted by, this offer (oldest first)."""
    return list(session.scalars(
        select(ShelterRequest)
        .where(ShelterRequest.offer_id == offer.id, ShelterRequest.status.in_(WAITING))
        .order_by(ShelterRequest.asked_at, ShelterRequest.id)
    ))


def accept(
    session: Session, *, offer_id: str, token: str | None, request_id: str, actor: Principal,
    now: dt.datetime | None = None,
) -> ShelterRequest:
    """Accept a seeker: take the places and mark the request accepted, atomically."""
    now = now or utcnow()
    people = (
        select(ShelterRequest.people)
        .where(
            ShelterRequest.id == request_id,
            ShelterRequest.offer_id == offer_id,
            ShelterRequest.status == "asked",
            ShelterRequest.expires_at > now,
        )
        .scalar_subquery()
    )
    # The first statement of the transaction is this write: on SQLite it takes the write lock
    # before anything is read, on PostgreSQL the row lock serialises concurrent accepts.
    taken = session.execute(
        update(ShelterOffer)
        .where(
            ShelterOffer.id == offer_id,
            ShelterOffer.manage_token_hash == hash_token(token or ""),
            ShelterOffer.status == "open",
            ShelterOffer.moderation == "ok",
            ShelterOffer.ends_at > now,
            ShelterOffer.remaining >= people,
        )
        .values(remaining=ShelterOffer.remaining - people, updated_at=now)
        .execution_options(synchronize_session=False)
    )
    if taken.rowcount != 1:  # type: ignore[attr-defined]
        _explain_refusal(session, offer_id=offer_id, token=token, request_id=request_id, now=now)
    marked = session.execute(
        update(ShelterRequest)
        .where(
            ShelterRequest.id == request_id,
            ShelterRequest.offer_id == offer_id,
            ShelterRequest.status == "asked",
        )
        .values(status="accepted", decided_at=now, updated_at=now)
        .execution_options(synchronize_session=False)
    )
    if marked.rowcount != 1:  # type: ignore[attr-defined]
        # Decided by a concurrent call: the caller rolls back, so the places are not taken.
        raise Conflict("this request was decided meanwhile")
    request = session.get(ShelterRequest, request_id, populate_existing=True)
    offer = session.get(ShelterOffer, offer_id, populate_existing=True)
    assert request is not None and offer is not None
    audit.record(session, actor=actor, action="shelter_accept", object_type="shelter_request",
                 object_id=request.id, reason=f"offer {offer.id}")
    _request_event(session, events.REQUEST_ACCEPTED, request)
    _event(session, events.OFFER_UPDATED, offer)
    return request


def _explain_refusal(
    session: Session, *, offer_id: str, token: str | None, request_id: str, now: dt.datetime
) -> None:
    offer = host_offer(session, offer_id=offer_id, token=token)
    request = session.get(ShelterRequest, request_id)
    if request is None or request.offer_id != offer.id:
        raise NotFound("this offer has no such request")
    if request.status != "asked":
        raise Conflict(f"this request is {request.status}, not waiting for an answer")
    if request.expires_at <= now:
        raise Conflict("this request has expired")
    if effective_status(offer, now) != "open" or offer.moderation != "ok":
        raise Conflict("this offer is not open")
    if offer.remaining < request.people:
        raise NoPlaces(f"only {offer.remaining} places left for {request.people} people")
    raise Conflict("the offer changed meanwhile; try again")


def decline(
    session: Session, *, offer_id: str, token: str | None, request_id: str, actor: Principal,
    now: dt.datetime | None = None,
) -> ShelterRequest:
    """Decline a seeker; the request can then ask another host."""
    now = now or utcnow()
    offer = host_offer(session, offer_id=offer_id, token=token)
    request = session.get(ShelterRequest, request_id)
    if request is None or request.offer_id != offer.id:
        raise NotFound("this offer has no such request")
    if request.status != "asked":
        raise Conflict(f"this request is {request.status}, not waiting for an answer")
    decline_locally(request, offer.id, now)
    session.flush()
    audit.record(session, actor=actor, action="shelter_decline", object_type="shelter_request",
                 object_id=request.id, reason=f"offer {offer.id}")
    _request_event(session, events.REQUEST_DECLINED, request)
    return request


def _request_event(session: Session, subject: str, request: ShelterRequest) -> None:
    payload = events.RequestEvent(
        request_id=request.id, offer_id=request.offer_id, status=request.status,
        people=request.people,
    )
    add_event(session, subject, payload.model_dump())
