"""Bus subjects the shelter domain publishes. Payloads carry ids and coarse cells only: an event
log or a bus tap must never be a way round the address reveal."""

from __future__ import annotations

from pydantic import BaseModel

OFFER_CREATED = "shelter.offer.created"
OFFER_UPDATED = "shelter.offer.updated"
OFFER_REPORTED = "shelter.offer.reported"
REQUEST_CREATED = "shelter.request.created"
REQUEST_ASKED = "shelter.request.asked"
REQUEST_ACCEPTED = "shelter.request.accepted"
REQUEST_DECLINED = "shelter.request.declined"
REQUEST_CANCELLED = "shelter.request.cancelled"


class OfferEvent(BaseModel):
    offer_id: str
    cell: str
    status: str
    moderation: str
    remaining: int


class RequestEvent(BaseModel):
    request_id: str
    offer_id: str | None
    status: str
    people: int
