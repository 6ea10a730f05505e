"""Dispatch tables: units, incidents (clusters of SOS), the SOS attached to them, assignments.

Exclusivity lives in these rows, not in memory: a unit is taken by a conditional UPDATE on its
``status`` (``... WHERE status = 'available'``), so two workers can never give one unit two
incidents, and an offer is answered by a conditional UPDATE on the assignment's ``status``.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import Float, ForeignKey, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from tocsin.core.db import Base, UTCDateTime


class DispatchUnit(Base):
    """A patrol (car, team) with its live status and last reported position."""

    __tablename__ = "dispatch_unit"

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    callsign: Mapped[str] = mapped_column(String(40), unique=True)
    # The unit account that reports for this unit (one account, one unit).
    user_id: Mapped[int | None] = mapped_column(
        ForeignKey("user_account.id", ondelete="SET NULL"), unique=True, nullable=True
    )
    status: Mapped[str] = mapped_column(String(16), index=True)
    lat: Mapped[float | None] = mapped_column(Float, nullable=True)
    lon: Mapped[float | None] = mapped_column(Float, nullable=True)
    position_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime, nullable=True)
    incident_id: Mapped[str | None] = mapped_column(String(32), nullable=True)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    updated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)


class DispatchIncident(Base):
    """One situation on the ground: every SOS near it in space and time, with their centroid."""

    __tablename__ = "dispatch_incident"

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    status: Mapped[str] = mapped_column(String(16))  # open, closed, merged
    priority: Mapped[int] = mapped_column(Integer)  # 1 most urgent
    situation: Mapped[str] = mapped_column(String(32))
    sos_count: Mapped[int] = mapped_column(Integer)
    lat: Mapped[float] = mapped_column(Float)
    lon: Mapped[float] = mapped_column(Float)
    opened_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    last_sos_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    closed_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime, nullable=True)
    merged_into: Mapped[str | None] = mapped_column(String(32), nullable=True)

    __table_args__ = (Index("ix_dispatch_incident_open", "status", "last_sos_at"),)


class DispatchIncidentSos(Base):
    """An SOS attached to an incident; the primary key makes attaching idempotent."""

    __tablename__ = "dispatch_incident_sos"

    sos_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    incident_id: Mapped[str] = mapped_column(
        ForeignKey("dispatch_incident.id", ondelete="CASCADE"), index=True
    )
    lat: Mapped[float] = mapped_column(Float)
    lon: Mapped[float] = mapped_column(Float)
    accuracy_m: Mapped[float] = mapped_column(Float)
    situation: Mapped[str] = mapped_column(String(32))
    people: Mapped[int | None] = mapped_column(Integer, nullable=True)
    received_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    attached_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)


class DispatchAssignment(Base):
    """An offer of an incident to a unit and what became of it."""

    __tablename__ = "dispatch_assignment"

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    incident_id: Mapped[str] = mapped_column(
        ForeignKey("dispatch_incident.id", ondelete="CASCADE"), index=True
    )
    unit_id: Mapped[str] = mapped_column(
        ForeignKey("dispatch_unit.id", ondelete="CASCADE"), index=True
    )
    # offered, accepted, on_scene, declined, expired, cancelled, closed
    status: Mapped[str] = mapped_column(String(16))
    rank: Mapped[int] = mapped_column(Integer)
    distance_m: Mapped[float] = mapped_column(Float)
    eta_s: Mapped[float] = mapped_column(Float)
    offered_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    deadline_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime, nullable=True)
    answered_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime, nullable=True)
    by: Mapped[str] = mapped_column(String(80))

    __table_args__ = (Index("ix_dispatch_assignment_due", "status", "deadline_at"),)
