"""Retention: every record holding personal data expires; ``tocsin purge`` deletes it.

The core purges expired tokens and old published events; a domain with personal data adds a
``tocsin.<domain>.retention`` module with ``purge(session, now) -> dict[str, int]``.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import delete, or_
from sqlalchemy.orm import Session

from tocsin.app import domain_modules
from tocsin.core import audit
from tocsin.core.auth.models import AccessToken
from tocsin.core.db import utcnow
from tocsin.core.outbox import OutboxEvent

PUBLISHED_EVENT_RETENTION = dt.timedelta(days=1)


def purge_core(session: Session, now: dt.datetime) -> dict[str, int]:
    """Delete tokens past expiry or revoked, and events published more than a day ago."""
    tokens = session.execute(
        delete(AccessToken).where(
            or_(AccessToken.expires_at <= now, AccessToken.revoked_at.is_not(None))
        )
    )
    events = session.execute(
        delete(OutboxEvent).where(
            OutboxEvent.published_at.is_not(None),
            OutboxEvent.published_at < now - PUBLISHED_EVENT_RETENTION,
        )
    )
    return {
        "access_token": int(tokens.rowcount),  # type: ignore[attr-defined]
        "outbox_event": int(events.rowcount),  # type: ignore[attr-defined]
    }


def purge_all(session: Session, now: dt.datetime | None = None) -> dict[str, int]:
    """Run the core's and every domain's purge in one transaction; audit the totals."""
    now = now or utcnow()
    counts = purge_core(session, now)
    for module in domain_modules("retention"):
        counts.update(module.purge(session, now))
    total = sum(counts.values())
    audit.record(
        session, actor="system:purge", action="purge", object_type="retention",
        object_id="*", reason=f"{total} records past retention",
    )
    return counts
