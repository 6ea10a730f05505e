"""Tables of the safety check: checks an authority activates, marks people leave in them.

A mark holds the minimum: a status, a time, a random code to share, a coarse map cell for the
counts, and — only if the person gives them — a hash of name+phone (for relatives who know both),
a message to relatives and, for "I need help", the position: the last two sealed at rest.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import JSON, ForeignKey, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from tocsin.core.db import Base, UTCDateTime
from tocsin.core.seal import SealedJSON, SealedText


class SafetyCheck(Base):
    """A safety check over an area (polygon or circle) and a time window."""

    __tablename__ = "safety_check"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    name: Mapped[str] = mapped_column(String(200))
    # {"type": "polygon", "coordinates": [[lon, lat], ...]} or
    # {"type": "circle", "lat": .., "lon": .., "radius_m": ..}
    area: Mapped[dict[str, Any]] = mapped_column(JSON)
    starts_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    ends_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, index=True)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    created_by: Mapped[str] = mapped_column(String(80))
    # A second authority approves before the check is listed or takes marks (issue 19,
    # finding 4: nothing reaches the public on one authority's word). None: awaiting approval.
    approved_by: Mapped[str | None] = mapped_column(String(80), nullable=True)
    approved_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime, nullable=True)


class SafetyMark(Base):
    """"I am safe" / "I need help" in one check; no account, no name in clear."""

    __tablename__ = "safety_mark"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    check_id: Mapped[int] = mapped_column(
        ForeignKey("safety_check.id", ondelete="CASCADE"), index=True
    )
    code: Mapped[str] = mapped_column(String(16), unique=True)
    device_hash: Mapped[str | None] = mapped_column(String(64), nullable=True, index=True)
    contact_hash: Mapped[str | None] = mapped_column(String(64), nullable=True, index=True)
    status: Mapped[str] = mapped_column(String(12))
    cell: Mapped[str | None] = mapped_column(String(16), nullable=True)
    position: Mapped[Any] = mapped_column(SealedJSON("safety_mark.position"), nullable=True)
    message: Mapped[str | None] = mapped_column(SealedText("safety_mark.message"), nullable=True)
    marked_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    expires_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, index=True)
