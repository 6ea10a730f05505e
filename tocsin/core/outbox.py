"""Transactional outbox: a record and its event commit together; a relay publishes afterwards.

``add_event`` inserts the event in the caller's transaction, so either both the record and the
event are committed or neither is. The relay (``tocsin.core.relay.OutboxRelay``) publishes
committed events in order and marks them; if the bus is down or the worker dies, the rows wait
and are published later (by this worker or any other: PostgreSQL rows are claimed with
``FOR UPDATE SKIP LOCKED``). Delivery is at-least-once; the event id lets consumers drop
duplicates.

Payloads are sealed at rest: events carry what their records seal (an SOS trail point, a safety
mark's position), and published rows are kept a minute, so a plain JSON column would hold in
clear what the domain tables seal. The column is the project's ``SealedJSON``, like every other
sealed column, so ``tocsin keys rotate`` re-seals pending and kept rows too (migration
``20261124_core_outbox`` converted the earlier JSON envelope).
"""

from __future__ import annotations

import datetime as dt
import logging
from typing import Any

from sqlalchemy import (
    Index,
    Integer,
    String,
    func,
    select,
    text,
)
from sqlalchemy.orm import Mapped, Session, mapped_column

from tocsin.core import seal
from tocsin.core.bus import Event
from tocsin.core.db import Base, UTCDateTime, utcnow

log = logging.getLogger("tocsin.outbox")


class OutboxEvent(Base):
    """An event waiting to be (or already) published to the bus."""

    __tablename__ = "outbox_event"

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    subject: Mapped[str] = mapped_column(String(120))
    payload: Mapped[dict[str, Any]] = mapped_column(seal.SealedJSON("outbox_event.payload"))
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    published_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime, nullable=True)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    # A lease, so two workers' relays never publish the same rows at once; a dead worker's
    # lease simply runs out and another relay takes the rows over.
    claimed_by: Mapped[str | None] = mapped_column(String(32), nullable=True)
    claimed_until: Mapped[dt.datetime | None] = mapped_column(UTCDateTime, nullable=True)

    __table_args__ = (
        Index("ix_outbox_event_pending", "published_at", "created_at"),
        # What the relay claims, in its order: only the rows still to publish are in it, so the
        # claim does not walk past the published rows (kept a minute) nor grow with them.
        Index("ix_outbox_event_unpublished", "created_at", "id",
              postgresql_where=text("published_at IS NULL"),
              sqlite_where=text("published_at IS NULL")),
    )


def add_event(session: Session, subject: str, data: dict[str, Any]) -> Event:
    """Queue ``subject`` with ``data`` in the caller's transaction and return the event."""
    evt = Event(subject=subject, data=data)
    session.add(
        OutboxEvent(
            id=evt.id,
            subject=evt.subject,
            payload=evt.model_dump(mode="json"),
            created_at=evt.occurred_at,
            attempts=0,
        )
    )
    session.info["outbox_dirty"] = True
    return evt


# ``Session.info`` keys: the running relay and its id (set on its sessions by
# ``tocsin.core.relay.OutboxRelay.start``), the events a transaction hands over to it and the
# marks it carries for it (see ``hand_over``).
RELAY_ID = "outbox_relay_id"
RELAY = "outbox_relay"
HANDED_OVER = "outbox_handed_over"
MARKS = "outbox_marks"


def hand_over(session: Session, events: list[Event]) -> list[dict[str, Any]]:
    """The outbox rows of ``events`` for one bulk INSERT, handed to this worker's relay.

    Why: on the SOS path the relay's claim (select the pending rows, lease them, read and unseal
    their payloads back) cost about as much CPU as writing them. Here the rows are written
    already leased to the worker's running relay, which publishes the ``Event`` objects it is
    handed from memory once the transaction commits, then marks them published. If that worker
    dies first, the lease runs out and any relay publishes the rows from the database, as
    before. Without a running relay the rows are written unleased and simply claimed.

    The same transaction also marks published what the relay published since (``mark_in``), so
    under load the relay needs no write transaction of its own.

    For a transaction without savepoints: a rolled-back transaction hands nothing over (what it
    left in ``Session.info`` is dropped when it ends), a rolled-back savepoint would.
    """
    relay_id = session.info.get(RELAY_ID)
    relay = session.info.get(RELAY)  # a ``tocsin.core.relay.OutboxRelay``
    if relay is not None:
        relay.mark_in(session)
    if relay_id:
        session.info.setdefault(HANDED_OVER, []).extend(events)
    session.info["outbox_dirty"] = True
    return outbox_rows(events, relay_id=relay_id)


def outbox_rows(events: list[Event], *, relay_id: str | None) -> list[dict[str, Any]]:
    """The outbox rows of ``events``, leased to the relay ``relay_id`` if one is given."""
    lease = utcnow() + HANDOVER_LEASE if relay_id else None
    return [
        {
            "id": evt.id,
            "subject": evt.subject,
            "payload": evt.model_dump(mode="json"),
            "created_at": evt.occurred_at,
            "published_at": None,
            "attempts": 0,
            "claimed_by": relay_id,
            "claimed_until": lease,
        }
        for evt in events
    ]


# How long a relay may take to publish what it was handed before others may.
HANDOVER_LEASE = dt.timedelta(seconds=30)


# Published rows are deleted this long after publication. Nothing reads them (the bus's stream
# keeps the events); they are kept only to look at what was just published. An hour kept
# 1.6 million rows at 250 SOS/s, so the table and its indexes grew through a whole soak.
KEEP_PUBLISHED = dt.timedelta(minutes=1)


def pending_count(session: Session) -> int:
    """Count events committed but not yet published."""
    return int(
        session.scalar(
            select(func.count()).select_from(OutboxEvent).where(OutboxEvent.published_at.is_(None))
        )
        or 0
    )
