"""Tables of the cyber desk.

Incident reports hold what an organisation told us; their free text and the contact of an
anonymous reporter are sealed, evidence files are sealed too. Indicators are deduplicated on
``(kind, value)`` after normalisation. Advisories keep every version. ``cyber_stix_object`` is
the store the TAXII API serves: Tocsin's own shareable objects (written when an indicator is
confirmed or an advisory published) and partners' submissions, each with its TLP.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.engine import Dialect
from sqlalchemy.orm import Mapped, mapped_column

from tocsin.core.db import Base, UTCDateTime
from tocsin.core.seal import SealedJSON, SealedText, sealer_of


class SealedBytes(SealedText):
    """Raw bytes (an evidence file) sealed at rest, bound to the column name.

    A ``SealedText`` subclass so that ``tocsin keys rotate`` (which re-seals at the byte level
    every ``SealedText``/``SealedJSON`` column) finds and rotates it too.
    """

    cache_ok = True

    def process_bind_param(self, value: Any, dialect: Dialect) -> bytes | None:
        return None if value is None else sealer_of(dialect).seal(bytes(value), self.context)

    def process_result_value(self, value: Any, dialect: Dialect) -> Any:
        return None if value is None else sealer_of(dialect).open(bytes(value), self.context)


class CyberIncident(Base):
    """One incident reported by an organisation (account) or anonymously (sealed contact)."""

    __tablename__ = "cyber_incident"

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    incident_type: Mapped[str] = mapped_column(String(20), index=True)
    sector: Mapped[str] = mapped_column(String(30))
    size: Mapped[str] = mapped_column(String(10))
    region: Mapped[str] = mapped_column(String(10))
    occurred_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    impact: Mapped[str] = mapped_column(String(10))
    description: Mapped[str | None] = mapped_column(
        SealedText("cyber_incident.description"), nullable=True)
    contact: Mapped[dict[str, Any] | None] = mapped_column(
        SealedJSON("cyber_incident.contact"), nullable=True)
    reporter: Mapped[str | None] = mapped_column(String(64), nullable=True, index=True)
    status: Mapped[str] = mapped_column(String(10))  # statuses.IncidentStatus
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, index=True)
    # Personal data (contact, free text, evidence) expires; the statistical skeleton stays.
    personal_expires_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime, nullable=True,
                                                                     index=True)


class CyberEvidence(Base):
    """A file attached to a report, its real type sniffed, sealed at rest."""

    __tablename__ = "cyber_evidence"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    incident_id: Mapped[str] = mapped_column(
        String(32), ForeignKey("cyber_incident.id", ondelete="CASCADE"), index=True)
    filename: Mapped[str] = mapped_column(String(120))
    media_type: Mapped[str] = mapped_column(String(60))
    size: Mapped[int] = mapped_column(Integer)
    sha256: Mapped[str] = mapped_column(String(64))
    data: Mapped[bytes] = mapped_column(SealedBytes("cyber_evidence.data"))
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    expires_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, index=True)


class CyberIndicator(Base):
    """A normalised indicator of compromise, counted each time it is seen."""

    __tablename__ = "cyber_indicator"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    kind: Mapped[str] = mapped_column(String(10))
    value: Mapped[str] = mapped_column(String(2100))
    count: Mapped[int] = mapped_column(Integer, default=1)
    first_seen_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    last_seen_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    status: Mapped[str] = mapped_column(String(16), index=True)  # statuses.IndicatorStatus
    tlp: Mapped[str] = mapped_column(String(6))  # clear | green | amber | red
    # AMBER: the partner accounts named on it, as ",a,b," (usernames never hold commas).
    share_with: Mapped[str] = mapped_column(String(1000), default="")
    source: Mapped[str] = mapped_column(String(80))
    reviewed_by: Mapped[str | None] = mapped_column(String(64), nullable=True)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)

    __table_args__ = (UniqueConstraint("kind", "value", name="uq_cyber_indicator_kind"),)


class CyberIndicatorSighting(Base):
    """An indicator seen in one report (so a report counts an indicator once)."""

    __tablename__ = "cyber_indicator_sighting"

    indicator_id: Mapped[int] = mapped_column(
        ForeignKey("cyber_indicator.id", ondelete="CASCADE"), primary_key=True)
    incident_id: Mapped[str] = mapped_column(
        ForeignKey("cyber_incident.id", ondelete="CASCADE"), primary_key=True, index=True)


class CyberAdvisory(Base):
    """A bulletin and where it stands: draft, in_review, published (a revision may be pending)."""

    __tablename__ = "cyber_advisory"

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    state: Mapped[str] = mapped_column(String(12), index=True)
    published_version: Mapped[int | None] = mapped_column(Integer, nullable=True)
    draft_version: Mapped[int | None] = mapped_column(Integer, nullable=True)
    in_review: Mapped[bool] = mapped_column(Boolean, default=False)
    author: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    first_published_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime, nullable=True)
    updated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, index=True)


class CyberAdvisoryVersion(Base):
    """One version of an advisory's text; published versions are never edited again."""

    __tablename__ = "cyber_advisory_version"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    advisory_id: Mapped[str] = mapped_column(
        ForeignKey("cyber_advisory.id", ondelete="CASCADE"), index=True)
    version: Mapped[int] = mapped_column(Integer)
    title: Mapped[str] = mapped_column(String(200))
    summary: Mapped[str] = mapped_column(Text)  # what happens
    exposed: Mapped[str] = mapped_column(Text)  # who is exposed
    actions: Mapped[str] = mapped_column(Text)  # what to do
    severity: Mapped[str] = mapped_column(String(10))
    tlp: Mapped[str] = mapped_column(String(6))  # clear (public) | green (subscribers, partners)
    sectors: Mapped[list[str]] = mapped_column(JSON)  # empty: all
    regions: Mapped[list[str]] = mapped_column(JSON)  # empty: all
    incident_ids: Mapped[list[str]] = mapped_column(JSON)
    indicator_ids: Mapped[list[int]] = mapped_column(JSON)
    author: Mapped[str] = mapped_column(String(64))
    reviewer: Mapped[str | None] = mapped_column(String(64), nullable=True)
    review_note: Mapped[str | None] = mapped_column(String(500), nullable=True)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    published_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime, nullable=True)

    __table_args__ = (UniqueConstraint("advisory_id", "version",
                                       name="uq_cyber_advisory_version_advisory_id"),)


class CyberSubscription(Base):
    """An organisation's wish to receive advisories for some sectors and regions."""

    __tablename__ = "cyber_subscription"

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    owner: Mapped[str] = mapped_column(String(64), index=True)
    sectors: Mapped[list[str]] = mapped_column(JSON)
    regions: Mapped[list[str]] = mapped_column(JSON)
    email: Mapped[str | None] = mapped_column(SealedText("cyber_subscription.email"),
                                              nullable=True)
    push_endpoint: Mapped[str | None] = mapped_column(String(2000), nullable=True)
    push_keys: Mapped[dict[str, Any] | None] = mapped_column(
        SealedJSON("cyber_subscription.push_keys"), nullable=True)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    expires_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, index=True)


class CyberMailOutbox(Base):
    """An e-mail waiting for the deployment's mail relay (which marks it sent)."""

    __tablename__ = "cyber_mail_outbox"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    subscription_id: Mapped[str] = mapped_column(
        ForeignKey("cyber_subscription.id", ondelete="CASCADE"), index=True)
    advisory_id: Mapped[str] = mapped_column(String(32))
    version: Mapped[int] = mapped_column(Integer)
    recipient: Mapped[str] = mapped_column(SealedText("cyber_mail_outbox.recipient"))
    subject: Mapped[str] = mapped_column(String(250))
    body: Mapped[str] = mapped_column(Text)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    sent_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime, nullable=True)

    __table_args__ = (UniqueConstraint("subscription_id", "advisory_id", "version",
                                       name="uq_cyber_mail_outbox_subscription_id"),)


class CyberPushDelivery(Base):
    """One Web Push of one advisory version to one subscription."""

    __tablename__ = "cyber_push_delivery"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    subscription_id: Mapped[str] = mapped_column(
        ForeignKey("cyber_subscription.id", ondelete="CASCADE"), index=True)
    advisory_id: Mapped[str] = mapped_column(String(32))
    version: Mapped[int] = mapped_column(Integer)
    status: Mapped[str] = mapped_column(String(8))  # statuses.PushStatus
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    last_error: Mapped[str | None] = mapped_column(String(300), nullable=True)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    sent_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime, nullable=True)

    __table_args__ = (UniqueConstraint("subscription_id", "advisory_id", "version",
                                       name="uq_cyber_push_delivery_subscription_id"),)


class CyberStixObject(Base):
    """One version of one STIX object in a TAXII collection, with its TLP and audience."""

    __tablename__ = "cyber_stix_object"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    collection: Mapped[str] = mapped_column(String(40))
    stix_id: Mapped[str] = mapped_column(String(100))
    stix_type: Mapped[str] = mapped_column(String(40))
    version: Mapped[str] = mapped_column(String(40))  # "modified", or "created" if none
    is_latest: Mapped[bool] = mapped_column(Boolean, default=True)
    tlp: Mapped[str] = mapped_column(String(6))
    share_with: Mapped[str] = mapped_column(String(1000), default="")
    source: Mapped[str] = mapped_column(String(80))
    date_added: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    body: Mapped[dict[str, Any]] = mapped_column(JSON)

    __table_args__ = (
        UniqueConstraint("collection", "stix_id", "version",
                         name="uq_cyber_stix_object_collection"),
        Index("ix_cyber_stix_object_added", "collection", "date_added", "id"),
    )


class CyberTaxiiStatus(Base):
    """The status resource of one TAXII add-objects request (TAXII 2.1 §4.3)."""

    __tablename__ = "cyber_taxii_status"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    owner: Mapped[str] = mapped_column(String(64))
    status: Mapped[str] = mapped_column(String(10))
    request_timestamp: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    successes: Mapped[list[dict[str, Any]]] = mapped_column(JSON)
    failures: Mapped[list[dict[str, Any]]] = mapped_column(JSON)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, index=True)
