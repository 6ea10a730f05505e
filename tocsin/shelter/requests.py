"""Requests, from the seeker's side: ask, get proposals, ask one host, cancel, see the address.

Proposals say only what :mod:`tocsin.shelter.geo` allows: a cell, a distance band between cell
centres, the places left and the host's conditions. The location a request is made from is
reduced to its cell on arrival and never stored, and cannot be changed afterwards: every probe
of the matcher costs a new request, and new requests are rate-limited per client and address.
The address is revealed only to the request the host accepted, and each reveal is audited.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from urllib.parse import urlencode

from sqlalchemy import case, select, update
from sqlalchemy.orm import Session

from tocsin.core import audit
from tocsin.core.auth import Principal
from tocsin.core.db import utcnow
from tocsin.core.errors import Conflict, Forbidden, Invalid, NotFound
from tocsin.core.outbox import add_event
from tocsin.shelter import events, geo
from tocsin.shelter.config import ShelterSettings
from tocsin.shelter.exceptions import NotAccepted
from tocsin.shelter.models import ShelterOffer, ShelterRequest
from tocsin.shelter.schemas import RequestCreate
from tocsin.shelter.service import ACCESS_LEVEL, NEED_LEVEL, effective_status
from tocsin.shelter.tokens import hash_token, new_id, new_token, token_matches

OPEN_FOR_ASKING = ("open", "declined")
SEARCH_STEPS_KM = (1.5, 3.0, 6.0)


@dataclass(frozen=True, slots=True)
class Match:
    """One proposal before it is turned into the public view (no point, no address in it)."""

    offer_id: str
    cell: geo.Cell
    distance_band: str
    distance_km: float
    remaining: int
    access: str
    pets: bool
    languages: list[str]
    common_languages: list[str]
    ends_at: dt.datetime


def _event(session: Session, subject: str, request: ShelterRequest) -> None:
    payload = events.RequestEvent(
        request_id=request.id, offer_id=request.offer_id, status=request.status,
        people=request.people,
    )
    add_event(session, subject, payload.model_dump())


def create_request(
    session: Session, *, data: RequestCreate, actor: Principal, config: ShelterSettings,
    now: dt.datetime | None = None,
) -> tuple[ShelterRequest, str]:
    """Record a request (its location reduced to a cell); return it and its follow-up token."""
    now = now or utcnow()
    cell = geo.cell_of(data.lat, data.lon)
    token = new_token()
    request = ShelterRequest(
        id=new_id(),
        token_hash=hash_token(token),
        device_hash=None if actor.username == "citizen" else actor.username[:64],
        created_by=actor.username[:80] if actor.role is not None else "citizen",
        cell=cell.index,
        cell_lat=cell.lat,
        cell_lon=cell.lon,
        people=data.people,
        access_need=data.access_need,
        pets=data.pets,
        languages=sorted(set(data.languages)),
        note=data.note or None,
        status="open",
        offer_id=None,
        declined_offer_ids=[],
        created_at=now,
        updated_at=now,
        expires_at=now + dt.timedelta(hours=config.request_ttl_hours),
    )
    session.add(request)
    session.flush()
    audit.record(session, actor=actor, action="shelter_request_create",
                 object_type="shelter_request", object_id=request.id,
                 reason=f"{data.people} people" + (" (group)" if actor.role else ""))
    _event(session, events.REQUEST_CREATED, request)
    return request, token


def seeker_request(session: Session, *, request_id: str, token: str | None) -> ShelterRequest:
    """Return the request if ``token`` follows it: 404 unknown, 403 wrong token."""
    request = session.get(ShelterRequest, request_id)
    if request is None:
        raise NotFound("no such request")
    if not token_matches(token, request.token_hash):
        raise Forbidden("this token does not follow this request")
    return request


def request_status(request: ShelterRequest, now: dt.datetime) -> str:
    """Return the request's status as of ``now`` (an unanswered request expires)."""
    if request.status in ("open", "asked", "declined") and request.expires_at <= now:
        return "expired"
    return request.status


def find_matches(
    session: Session, *, request: ShelterRequest, config: ShelterSettings,
    now: dt.datetime | None = None,
) -> list[Match]:
    """Return the nearest suitable offers, nearest first.

    Only cell centres enter the computation (distance, radius, order), so the answer is the
    same for any two offers in one cell and any two request points in one cell. The search
    widens step by step (1.5, 3, 6 km, then the full radius) and stops as soon as it holds
    enough offers: everything within the searched radius was read, so the nearest are exact.
    """
    now = now or utcnow()
    seeker = geo.Cell(request.cell, request.cell_lat, request.cell_lon)
    radii = sorted({r for r in SEARCH_STEPS_KM if r < config.max_radius_km}
                   | {config.max_radius_km})
    matches: list[Match] = []
    for radius in radii:
        matches = _within(session, request=request, seeker=seeker, radius_km=radius, now=now)
        if len(matches) >= config.max_proposals:
            break
    # Order by centre distance (a function of cells), then a shared language, then the random
    # id: nothing in the order depends on where inside a cell a host lives.
    matches.sort(key=lambda m: (round(m.distance_km, 6), not m.common_languages, m.offer_id))
    return matches[: config.max_proposals]


def _within(
    session: Session, *, request: ShelterRequest, seeker: geo.Cell, radius_km: float,
    now: dt.datetime,
) -> list[Match]:
    dlat, dlon = geo.bbox_degrees(seeker.lat, radius_km * 1.001)
    # Columns, not whole rows: the matcher never decrypts an address it does not need.
    rows = session.execute(
        select(
            ShelterOffer.id, ShelterOffer.cell, ShelterOffer.cell_lat, ShelterOffer.cell_lon,
            ShelterOffer.remaining, ShelterOffer.access, ShelterOffer.pets,
            ShelterOffer.languages, ShelterOffer.ends_at,
        ).where(
            ShelterOffer.status == "open",
            ShelterOffer.moderation == "ok",
            ShelterOffer.ends_at > now,
            ShelterOffer.remaining >= request.people,
            ShelterOffer.cell_lat.between(seeker.lat - dlat, seeker.lat + dlat),
            ShelterOffer.cell_lon.between(seeker.lon - dlon, seeker.lon + dlon),
        )
    ).all()
    need = NEED_LEVEL[request.access_need]
    declined = set(request.declined_offer_ids)
    wanted = set(request.languages)
    matches = []
    for row in rows:
        if row.id in declined or ACCESS_LEVEL.get(row.access, 0) < need:
            continue
        if request.pets and not row.pets:
            continue
        cell = geo.Cell(row.cell, row.cell_lat, row.cell_lon)
        distance = geo.cell_distance_km(seeker, cell)
        if distance > radius_km:
            continue
        matches.append(Match(
            offer_id=row.id, cell=cell, distance_band=geo.band(distance),
            distance_km=distance, remaining=row.remaining, access=row.access, pets=row.pets,
            languages=list(row.languages), common_languages=sorted(wanted & set(row.languages)),
            ends_at=row.ends_at,
        ))
    return matches


def offer_notes(session: Session, offer_ids: list[str]) -> dict[str, str | None]:
    """Return the hosts' notes of the given offers (decrypted only for what is shown)."""
    if not offer_ids:
        return {}
    rows = session.execute(
        select(ShelterOffer.id, ShelterOffer.note).where(ShelterOffer.id.in_(offer_ids))
    )
    return {row.id: row.note for row in rows}


def ask(
    session: Session, *, request_id: str, token: str | None, offer_id: str, actor: Principal,
    config: ShelterSettings, now: dt.datetime | None = None,
) -> ShelterRequest:
    """Ask one host within the matching radius; a request asks one host at a time."""
    now = now or utcnow()
    request = seeker_request(session, request_id=request_id, token=token)
    status = request_status(request, now)
    if status not in OPEN_FOR_ASKING:
        raise Conflict(f"this request is {status}; it cannot ask a host now")
    offer = session.get(ShelterOffer, offer_id)
    if offer is None:
        raise NotFound("no such offer")
    if offer.id in request.declined_offer_ids:
        raise Conflict("this host already declined this request")
    # The proposals stop at the radius; an offer id found elsewhere must not reach further
    # (a host far away, and its coarse area revealed by asking). Measured as the matcher does.
    seeker = geo.Cell(request.cell, request.cell_lat, request.cell_lon)
    if geo.cell_distance_km(seeker, geo.Cell(offer.cell, offer.cell_lat, offer.cell_lon)) \
            > config.max_radius_km:
        raise Invalid(
            f"this offer is farther than the {config.max_radius_km:g} km a request may reach: "
            "ask one of the proposals",
            details=[{"location": "body.offer_id", "message": "offer out of reach"}])
    if (
        effective_status(offer, now) != "open" or offer.moderation != "ok"
        or offer.remaining < request.people
        or ACCESS_LEVEL.get(offer.access, 0) < NEED_LEVEL[request.access_need]
        or (request.pets and not offer.pets)
    ):
        raise Conflict("this offer is not available for this request")
    request.status, request.offer_id = "asked", offer.id
    request.asked_at = request.updated_at = now
    request.decided_at = None
    session.flush()
    audit.record(session, actor=actor, action="shelter_ask", object_type="shelter_request",
                 object_id=request.id, reason=f"offer {offer.id}")
    _event(session, events.REQUEST_ASKED, request)
    return request


def cancel(
    session: Session, *, request_id: str, token: str | None, actor: Principal,
    now: dt.datetime | None = None,
) -> ShelterRequest:
    """Withdraw a request; places already taken go back to the host."""
    now = now or utcnow()
    request = seeker_request(session, request_id=request_id, token=token)
    if request.status in ("cancelled", "expired"):
        raise Conflict(f"this request is already {request.status}")
    if request.status == "accepted" and request.offer_id is not None:
        back = ShelterOffer.remaining + request.people
        session.execute(
            update(ShelterOffer)
            .where(ShelterOffer.id == request.offer_id)
            .values(remaining=case((back > ShelterOffer.capacity, ShelterOffer.capacity),
                                   else_=back))
            .execution_options(synchronize_session=False)
        )
    request.status = "cancelled"
    request.updated_at = request.decided_at = now
    session.flush()
    audit.record(session, actor=actor, action="shelter_request_cancel",
                 object_type="shelter_request", object_id=request.id)
    _event(session, events.REQUEST_CANCELLED, request)
    return request


def reveal(
    session: Session, *, request_id: str, token: str | None, actor: Principal
) -> tuple[ShelterRequest, ShelterOffer]:
    """Return the accepted host's offer with its address; audit the reveal. 403 before that."""
    request = seeker_request(session, request_id=request_id, token=token)
    if request.status != "accepted" or request.offer_id is None:
        raise NotAccepted(
            f"the address is shown only once a host accepts (this request is {request.status})"
        )
    offer = session.get(ShelterOffer, request.offer_id)
    if offer is None:
        raise NotFound("this offer no longer exists")
    if offer.moderation == "removed":
        raise Conflict("this offer was withdrawn by a moderator")
    audit.record_read(
        session, actor=actor, object_type="shelter_offer", object_id=offer.id,
        reason=f"address revealed to the accepted seeker of request {request.id}",
    )
    return request, offer


def directions_url(lat: float, lon: float) -> str:
    """Return a walking route link to the host (opened by the seeker, never fetched by us)."""
    query = urlencode({"engine": "fossgis_osrm_foot", "route": f";{lat:.6f},{lon:.6f}"})
    return f"https://www.openstreetmap.org/directions?{query}"
