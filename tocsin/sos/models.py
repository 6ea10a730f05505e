"""Tables of the SOS domain.

The SOS position stays in clear (dispatch must find the nearest units); the free text, the chat
and the trail are sealed (AES-GCM bound to the column). The device's ``client_id`` and the
follow-up token are kept only as SHA-256 digests: a copy of the database yields neither.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import Float, ForeignKey, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from tocsin.core.db import Base, UTCDateTime
from tocsin.core.seal import SealedJSON, SealedText


class Sos(Base):
    """One silent SOS, acknowledged only once this row is committed."""

    __tablename__ = "sos"

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    # Unique: the idempotency key of retries (same client_id, same SOS).
    client_hash: Mapped[str] = mapped_column(String(64), unique=True)
    token_hash: Mapped[str] = mapped_column(String(64))
    # NULL together: an SOS sent "position unknown" (migration 20261206_sos_position_unknown).
    lat: Mapped[float | None] = mapped_column(Float, nullable=True)
    lon: Mapped[float | None] = mapped_column(Float, nullable=True)
    accuracy_m: Mapped[float | None] = mapped_column(Float, nullable=True)
    situation: Mapped[str] = mapped_column(String(20))
    people: Mapped[int | None] = mapped_column(Integer, nullable=True)
    text: Mapped[str | None] = mapped_column(SealedText("sos.text"), nullable=True)
    status: Mapped[str] = mapped_column(String(10), default="open")
    received_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, index=True)
    closed_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime, nullable=True)

    __table_args__ = (Index("ix_sos_status_closed_at", "status", "closed_at"),)


class SosMessage(Base):
    """One message of the silent chat between the citizen and the dispatcher."""

    __tablename__ = "sos_message"

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    sos_id: Mapped[str] = mapped_column(ForeignKey("sos.id", ondelete="CASCADE"), index=True)
    sender: Mapped[str] = mapped_column(String(10))
    body: Mapped[str] = mapped_column(SealedText("sos_message.body"))
    at: Mapped[dt.datetime] = mapped_column(UTCDateTime)


class SosPosition(Base):
    """One point of the citizen's trail, sealed: where a hidden person moves is sensitive."""

    __tablename__ = "sos_position"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    sos_id: Mapped[str] = mapped_column(ForeignKey("sos.id", ondelete="CASCADE"), index=True)
    point: Mapped[dict[str, Any]] = mapped_column(SealedJSON("sos_position.point"))
    at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
