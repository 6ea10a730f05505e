"""Tables of the shelter domain: offers, requests, abuse reports.

The exact place of an offer (point, address, access directions) and every free text are sealed
at rest; what stays in clear is what others may see anyway: the coarse H3 cell and its centre,
the capacity, the dates and the host's stated conditions. Secrets (management and request
tokens, device tokens) are stored as SHA-256 hashes only: a database dump reveals none of them.
A seeker's exact location is not stored at all: matching needs only the cell.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import JSON, Boolean, Float, ForeignKey, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from tocsin.core.db import Base, UTCDateTime
from tocsin.core.seal import SealedJSON, SealedText


class ShelterOffer(Base):
    """A host's offer of places, until ``ends_at``."""

    __tablename__ = "shelter_offer"

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    manage_token_hash: Mapped[str] = mapped_column(String(64))
    device_hash: Mapped[str | None] = mapped_column(String(64), nullable=True)
    # Sealed: {"lat": ..., "lon": ...}, the street address, how to get in.
    location: Mapped[dict[str, Any]] = mapped_column(SealedJSON("shelter_offer.location"))
    address: Mapped[str] = mapped_column(SealedText("shelter_offer.address"))
    directions: Mapped[str | None] = mapped_column(
        SealedText("shelter_offer.directions"), nullable=True
    )
    note: Mapped[str | None] = mapped_column(SealedText("shelter_offer.note"), nullable=True)
    # Public coarse area (H3 resolution 8) and its centre.
    cell: Mapped[str] = mapped_column(String(16), index=True)
    cell_lat: Mapped[float] = mapped_column(Float)
    cell_lon: Mapped[float] = mapped_column(Float)
    capacity: Mapped[int] = mapped_column(Integer)
    remaining: Mapped[int] = mapped_column(Integer)
    access: Mapped[str] = mapped_column(String(16))
    pets: Mapped[bool] = mapped_column(Boolean)
    languages: Mapped[list[str]] = mapped_column(JSON)
    # open | paused | closed
    status: Mapped[str] = mapped_column(String(16))
    closed_reason: Mapped[str | None] = mapped_column(String(32), nullable=True)
    # ok | pending (reported, hidden until a moderator looks) | removed
    moderation: Mapped[str] = mapped_column(String(16))
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    updated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    ends_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    closed_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime, nullable=True)

    __table_args__ = (
        Index("ix_shelter_offer_visible", "status", "moderation", "cell_lat", "cell_lon"),
    )


class ShelterRequest(Base):
    """A seeker's (or a dispatcher's, for a group) request for places."""

    __tablename__ = "shelter_request"

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    token_hash: Mapped[str] = mapped_column(String(64))
    device_hash: Mapped[str | None] = mapped_column(String(64), nullable=True)
    # "citizen" or the dispatcher's account name (groups); audit names the actor too.
    created_by: Mapped[str] = mapped_column(String(80))
    cell: Mapped[str] = mapped_column(String(16))
    cell_lat: Mapped[float] = mapped_column(Float)
    cell_lon: Mapped[float] = mapped_column(Float)
    people: Mapped[int] = mapped_column(Integer)
    access_need: Mapped[str] = mapped_column(String(16))
    pets: Mapped[bool] = mapped_column(Boolean)
    languages: Mapped[list[str]] = mapped_column(JSON)
    note: Mapped[str | None] = mapped_column(SealedText("shelter_request.note"), nullable=True)
    # open | asked | accepted | declined | cancelled | expired
    status: Mapped[str] = mapped_column(String(16), index=True)
    offer_id: Mapped[str | None] = mapped_column(
        ForeignKey("shelter_offer.id", ondelete="SET NULL"), nullable=True, index=True
    )
    # Offers that declined this request are not proposed again.
    declined_offer_ids: Mapped[list[str]] = mapped_column(JSON)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    updated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    expires_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    asked_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime, nullable=True)
    decided_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime, nullable=True)


class ShelterReport(Base):
    """An abuse report by a seeker about an offer, or by a host about a request."""

    __tablename__ = "shelter_report"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    # "offer" (reported by a seeker) or "request" (reported by a host)
    target: Mapped[str] = mapped_column(String(16))
    offer_id: Mapped[str | None] = mapped_column(
        ForeignKey("shelter_offer.id", ondelete="CASCADE"), nullable=True, index=True
    )
    request_id: Mapped[str | None] = mapped_column(
        ForeignKey("shelter_request.id", ondelete="CASCADE"), nullable=True
    )
    reason: Mapped[str] = mapped_column(String(32))
    text: Mapped[str | None] = mapped_column(SealedText("shelter_report.text"), nullable=True)
    # open | restored | removed
    status: Mapped[str] = mapped_column(String(16), index=True)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    decided_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime, nullable=True)
    decided_by: Mapped[str | None] = mapped_column(String(80), nullable=True)
