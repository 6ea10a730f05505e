"""Build the API's views from rows. One module, so which fields leave the server is reviewed in
one place: only :func:`host_view` and :func:`address_view` read the sealed place."""

from __future__ import annotations

import datetime as dt

from sqlalchemy.orm import Session

from tocsin.core.db import utcnow
from tocsin.shelter import geo
from tocsin.shelter.models import ShelterOffer, ShelterReport, ShelterRequest
from tocsin.shelter.requests import Match, directions_url, request_status
from tocsin.shelter.schemas import (
    AddressView,
    HostRequestView,
    OfferHostView,
    Proposal,
    ReportView,
    RequestView,
)
from tocsin.shelter.service import effective_status


def host_view(
    offer: ShelterOffer, *, waiting: int, now: dt.datetime | None = None
) -> OfferHostView:
    """The host's own view (management token checked by the caller)."""
    return OfferHostView(
        id=offer.id, status=effective_status(offer, now or utcnow()), moderation=offer.moderation,
        capacity=offer.capacity, remaining=offer.remaining, access=offer.access, pets=offer.pets,
        languages=list(offer.languages), note=offer.note, address=offer.address,
        directions=offer.directions, lat=float(offer.location["lat"]),
        lon=float(offer.location["lon"]), cell=offer.cell, ends_at=offer.ends_at,
        created_at=offer.created_at, waiting_requests=waiting,
    )


def proposal_of_match(match: Match, note: str | None) -> Proposal:
    """A proposal: cell, band, places, conditions (built from cell-level data only)."""
    return Proposal(
        offer_id=match.offer_id, cell=match.cell.index, boundary=geo.boundary(match.cell.index),
        distance_band=match.distance_band, remaining=match.remaining, access=match.access,
        pets=match.pets, languages=match.languages, common_languages=match.common_languages,
        note=note, ends_at=match.ends_at,
    )


def _seeker_cell(request: ShelterRequest) -> geo.Cell:
    return geo.Cell(request.cell, request.cell_lat, request.cell_lon)


def asked_proposal(db: Session, request: ShelterRequest) -> Proposal | None:
    """The coarse view of the offer a request asked (or was accepted by), if any."""
    if request.offer_id is None:
        return None
    offer = db.get(ShelterOffer, request.offer_id)
    if offer is None:
        return None
    cell = geo.Cell(offer.cell, offer.cell_lat, offer.cell_lon)
    distance = geo.cell_distance_km(_seeker_cell(request), cell)
    wanted = set(request.languages)
    return Proposal(
        offer_id=offer.id, cell=offer.cell, boundary=geo.boundary(offer.cell),
        distance_band=geo.band(distance), remaining=offer.remaining, access=offer.access,
        pets=offer.pets, languages=list(offer.languages),
        common_languages=sorted(wanted & set(offer.languages)), note=offer.note,
        ends_at=offer.ends_at,
    )


def request_view(
    request: ShelterRequest, offer: Proposal | None, *, now: dt.datetime | None = None
) -> RequestView:
    """The seeker's view of their request."""
    return RequestView(
        id=request.id, status=request_status(request, now or utcnow()), people=request.people,
        access_need=request.access_need, pets=request.pets, languages=list(request.languages),
        cell=request.cell, boundary=geo.boundary(request.cell), offer=offer,
        created_at=request.created_at, expires_at=request.expires_at,
        asked_at=request.asked_at, decided_at=request.decided_at,
    )


def host_request_view(request: ShelterRequest, offer: ShelterOffer) -> HostRequestView:
    """A request as its host sees it: a band, never the seeker's cell or point."""
    distance = geo.cell_distance_km(
        _seeker_cell(request), geo.Cell(offer.cell, offer.cell_lat, offer.cell_lon)
    )
    return HostRequestView(
        id=request.id, status=request_status(request, utcnow()), people=request.people,
        access_need=request.access_need, pets=request.pets, languages=list(request.languages),
        note=request.note, distance_band=geo.band(distance), asked_at=request.asked_at,
        decided_at=request.decided_at,
    )


def address_view(request: ShelterRequest, offer: ShelterOffer) -> AddressView:
    """The reveal (the caller checked acceptance and wrote the audit entry)."""
    lat, lon = float(offer.location["lat"]), float(offer.location["lon"])
    return AddressView(
        request_id=request.id, offer_id=offer.id, address=offer.address,
        directions=offer.directions, lat=lat, lon=lon, directions_url=directions_url(lat, lon),
        people=request.people,
    )


def report_view(db: Session, report: ShelterReport) -> ReportView:
    """A report for the moderators: texts and the coarse cell, never the place."""
    offer = db.get(ShelterOffer, report.offer_id) if report.offer_id else None
    request = db.get(ShelterRequest, report.request_id) if report.request_id else None
    return ReportView(
        id=report.id, target=report.target, offer_id=report.offer_id,
        request_id=report.request_id, reason=report.reason, text=report.text,
        status=report.status, created_at=report.created_at,
        offer_note=offer.note if offer else None, offer_cell=offer.cell if offer else None,
        offer_moderation=offer.moderation if offer else None,
        request_note=request.note if request is not None and report.target == "request"
        else None,
    )
