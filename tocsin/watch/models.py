"""Tables of the content watch.

An *item* is one piece of online content (keyed by its normalised URL, so every report, ingest
push or feed entry about it lands on the same row and is counted). Items carry what a moderator
needs to decide and nothing about who reported them: public reports keep no address, no device,
no contact (data minimisation). Removal orders follow TCO Regulation (EU) 2021/784: Art. 3(3)
one hour from receipt, Art. 3(2) twelve hours' prior notice before a platform's first order,
Art. 6 preservation of removed content for six months.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    Float,
    ForeignKey,
    Integer,
    LargeBinary,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from tocsin.core.db import Base, UTCDateTime
from tocsin.core.seal import SealedText


class WatchPlatform(Base):
    """A platform (hosting service provider) that receives orders through its account."""

    __tablename__ = "watch_platform"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    name: Mapped[str] = mapped_column(String(40), unique=True)
    display_name: Mapped[str] = mapped_column(String(100))
    # The username of its account of role "platform"; orders need one (nobody to send to).
    account: Mapped[str | None] = mapped_column(String(64), nullable=True, index=True)
    # TCO Art. 3(2): information on procedures at least 12 hours before the first order.
    notice_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime, nullable=True)
    # Orders are also pushed to this URL, signed with HMAC-SHA256 under the sealed secret.
    webhook_url: Mapped[str | None] = mapped_column(String(2000), nullable=True)
    webhook_secret: Mapped[str | None] = mapped_column(
        SealedText("watch_platform.webhook_secret"), nullable=True)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)


class WatchItem(Base):
    """One piece of content under review, however it reached us."""

    __tablename__ = "watch_item"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    # SHA-256 of the normalised URL: the grouping key of identical reports.
    item_key: Mapped[str] = mapped_column(String(64), unique=True)
    url: Mapped[str] = mapped_column(String(2000))
    platform: Mapped[str] = mapped_column(String(40), index=True)
    source: Mapped[str] = mapped_column(String(10))  # report, ingest, feed
    reported_category: Mapped[str] = mapped_column(String(20))
    excerpt: Mapped[str] = mapped_column(Text)
    text_sha256: Mapped[str] = mapped_column(String(64), index=True)
    author_handle: Mapped[str | None] = mapped_column(String(100), nullable=True)
    category: Mapped[str] = mapped_column(String(20))  # the classifier's
    score: Mapped[float] = mapped_column(Float)
    explanation: Mapped[Any] = mapped_column(JSON)
    hash_matches: Mapped[int] = mapped_column(Integer, default=0)
    report_count: Mapped[int] = mapped_column(Integer, default=0)
    reach: Mapped[int] = mapped_column(Integer, default=0)
    image: Mapped[bytes | None] = mapped_column(LargeBinary, nullable=True)
    image_sha256: Mapped[str | None] = mapped_column(String(64), nullable=True, index=True)
    # PDQ of the uploaded image (256 bits, 64 hex digits) and its quality (0-100).
    image_pdq: Mapped[str | None] = mapped_column(String(64), nullable=True)
    image_pdq_quality: Mapped[int | None] = mapped_column(Integer, nullable=True)
    # pending, second_opinion, removed, kept, escalated
    status: Mapped[str] = mapped_column(String(16), default="pending", index=True)  # ItemStatus
    first_seen_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    last_seen_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    decided_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime, nullable=True)


class WatchReport(Base):
    """One public report of an item: what was said about it, never who said it."""

    __tablename__ = "watch_report"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    item_id: Mapped[int] = mapped_column(ForeignKey("watch_item.id", ondelete="CASCADE"),
                                         index=True)
    category: Mapped[str] = mapped_column(String(20))
    has_image: Mapped[bool] = mapped_column(Boolean, default=False)
    reported_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)


class WatchDecision(Base):
    """A moderator's decision on an item, with its reason (also in the audit log)."""

    __tablename__ = "watch_decision"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    item_id: Mapped[int] = mapped_column(ForeignKey("watch_item.id", ondelete="CASCADE"),
                                         index=True)
    moderator: Mapped[str] = mapped_column(String(64))
    decision: Mapped[str] = mapped_column(String(10))  # remove, keep, escalate
    reason: Mapped[str] = mapped_column(String(500))
    # True when it contradicts the classifier: then a second moderator must decide.
    disagrees: Mapped[bool] = mapped_column(Boolean, default=False)
    decided_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)


class WatchHash(Base):
    """A known-content hash (image PDQ, file MD5/SHA-256, TLSH, text SHA-256) from a hash list."""

    __tablename__ = "watch_hash"
    __table_args__ = (UniqueConstraint("signal_type", "signal", name="uq_watch_hash_signal"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    signal_type: Mapped[str] = mapped_column(String(20))
    signal: Mapped[str] = mapped_column(String(80))  # TLSH is 72 characters
    category: Mapped[str] = mapped_column(String(20))
    source: Mapped[str] = mapped_column(String(100))
    added_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)


class WatchOrder(Base):
    """What a platform receives about one item: a removal order (TCO Art. 3, one hour from
    receipt) or a DSA Art. 16 notice (no clock); see ``tocsin.watch.instruments``."""

    __tablename__ = "watch_order"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    platform_id: Mapped[int] = mapped_column(ForeignKey("watch_platform.id"), index=True)
    item_id: Mapped[int] = mapped_column(ForeignKey("watch_item.id"), index=True)
    instrument: Mapped[str] = mapped_column(String(8), default="order", index=True)
    # The illegal-content category the instrument is for (the moderator's, else the classifier's).
    content_category: Mapped[str | None] = mapped_column(String(20), nullable=True)
    # A notice sent while the authority holds the DSA Art. 22 trusted-flagger status.
    trusted_flagger: Mapped[bool] = mapped_column(Boolean, default=False)
    legal_basis: Mapped[str] = mapped_column(String(200))
    reason: Mapped[str] = mapped_column(String(1000))
    emergency: Mapped[bool] = mapped_column(Boolean, default=False)
    # The moderator who asked for it; ``approved_by`` the second one where two are needed.
    issued_by: Mapped[str] = mapped_column(String(64))
    proposed_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime, nullable=True)
    approved_by: Mapped[str | None] = mapped_column(String(64), nullable=True)
    # When it left Tocsin (for a proposal: when it was approved).
    issued_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    # Art. 3(3): the hour runs from receipt, i.e. the platform's first fetch of the order.
    received_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime, nullable=True)
    deadline_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime, nullable=True)
    status: Mapped[str] = mapped_column(String(10), default="issued", index=True)
    removed_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime, nullable=True)
    contested_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime, nullable=True)
    contest_reason: Mapped[str | None] = mapped_column(String(1000), nullable=True)


class WatchFeed(Base):
    """An Atom/RSS feed polled for keywords; entries that match become items."""

    __tablename__ = "watch_feed"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    url: Mapped[str] = mapped_column(String(2000))
    platform: Mapped[str] = mapped_column(String(40))
    keywords: Mapped[Any] = mapped_column(JSON)
    etag: Mapped[str | None] = mapped_column(String(200), nullable=True)
    modified: Mapped[str | None] = mapped_column(String(100), nullable=True)
    last_polled_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime, nullable=True)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
