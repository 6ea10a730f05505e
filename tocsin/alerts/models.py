"""Tables of official alerts: messages, subscriptions and deliveries.

An ``alert`` row is one CAP message (an Alert, an Update or a Cancel, CAP 1.2 §3.2.1 msgType),
kept as its content (JSON) while it waits for approval, and as its frozen CAP 1.2 XML once
published: what was sent is what is served, byte for byte. Subscriptions hold the minimum to
reach a device or a platform: the push endpoint and keys (sealed), a *coarse* location (about
100 m) and its H3 cell, and an expiry.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from tocsin.core.db import Base, UTCDateTime
from tocsin.core.seal import SealedJSON


class Alert(Base):
    """One CAP message and where it stands in the two-person workflow."""

    __tablename__ = "alert"

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    identifier: Mapped[str] = mapped_column(String(200))
    sender: Mapped[str] = mapped_column(String(200))
    status: Mapped[str] = mapped_column(String(16))  # CAP status: Actual, Exercise, Test…
    msg_type: Mapped[str] = mapped_column(String(8))  # Alert, Update, Cancel
    # pending (awaiting a second authority), published, rejected; a published Alert/Update
    # becomes superseded or cancelled when a later message referencing it is published.
    state: Mapped[str] = mapped_column(String(16), index=True)
    origin: Mapped[str] = mapped_column(String(10))  # composed | imported
    content: Mapped[dict[str, Any]] = mapped_column(JSON)
    cap_xml: Mapped[str | None] = mapped_column(Text, nullable=True)
    parent_id: Mapped[str | None] = mapped_column(
        String(32), ForeignKey("alert.id"), nullable=True, index=True
    )
    author: Mapped[str] = mapped_column(String(80))
    approver: Mapped[str | None] = mapped_column(String(80), nullable=True)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    published_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime, nullable=True)
    expires_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime, nullable=True)
    ended_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime, nullable=True)
    # Bounding box of the area (degrees), to pre-select subscribers before the exact test.
    min_lat: Mapped[float | None] = mapped_column(Float, nullable=True)
    min_lon: Mapped[float | None] = mapped_column(Float, nullable=True)
    max_lat: Mapped[float | None] = mapped_column(Float, nullable=True)
    max_lon: Mapped[float | None] = mapped_column(Float, nullable=True)

    __table_args__ = (UniqueConstraint("sender", "identifier", name="uq_alert_sender_identifier"),)


class AlertSubscription(Base):
    """A browser (Web Push) or a platform (webhook) that receives alerts."""

    __tablename__ = "alert_subscription"

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    kind: Mapped[str] = mapped_column(String(8))  # push | webhook
    endpoint: Mapped[str] = mapped_column(String(2000))
    # push: {"p256dh", "auth"}; webhook: {"secret"} — sealed at rest.
    keys: Mapped[dict[str, Any]] = mapped_column(SealedJSON("alert_subscription.keys"))
    lat: Mapped[float | None] = mapped_column(Float, nullable=True)
    lon: Mapped[float | None] = mapped_column(Float, nullable=True)
    h3_cell: Mapped[str | None] = mapped_column(String(16), nullable=True, index=True)
    # 0: the alerts of this point; above: a followed zone, the circle of this radius around it.
    radius_km: Mapped[float] = mapped_column(Float, default=0.0)
    all_areas: Mapped[bool] = mapped_column(Boolean, default=False)
    owner: Mapped[str | None] = mapped_column(String(80), nullable=True)
    token_hash: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    expires_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, index=True)

    __table_args__ = (Index("ix_alert_subscription_lat_lon", "lat", "lon"),)


class AlertDelivery(Base):
    """One message to one subscriber: pending, sent, or dead after its last retry."""

    __tablename__ = "alert_delivery"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    alert_id: Mapped[str] = mapped_column(String(32), ForeignKey("alert.id", ondelete="CASCADE"))
    subscription_id: Mapped[str] = mapped_column(
        String(32), ForeignKey("alert_subscription.id", ondelete="CASCADE")
    )
    kind: Mapped[str] = mapped_column(String(8))
    status: Mapped[str] = mapped_column(String(8))  # pending | sent | dead
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    claimed_until: Mapped[dt.datetime | None] = mapped_column(UTCDateTime, nullable=True)
    last_error: Mapped[str | None] = mapped_column(String(300), nullable=True)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    sent_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime, nullable=True)

    __table_args__ = (
        UniqueConstraint("alert_id", "subscription_id", name="uq_alert_delivery_alert_id"),
        Index("ix_alert_delivery_due", "status", "next_attempt_at"),
    )
