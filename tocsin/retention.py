"""Retention: every record holding personal data expires; ``tocsin purge`` deletes it.

The core purges expired tokens and old published events; a domain with personal data adds a
``tocsin.<domain>.retention`` module with ``purge(session, *, now, batch=None) -> dict[str, int]``.

The contract is one *batch*: a call deletes (or blanks) at most a bounded number of rows of
each of its tables (the modules' ``BATCH``, 500) and returns what it did. ``purge_all`` commits
after every call and calls again until a call finds nothing left. In embedded mode every write
shares one SQLite file, and the SOS intake needs its write lock to acknowledge an SOS: one
purge of a year of rows in one transaction would hold that lock for its whole length; batches
give it back every few milliseconds. Each batch is complete on its own (children before their
parent, in one transaction), so an interrupted purge leaves nothing half-deleted and running
it again finishes the job.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Protocol

from sqlalchemy import delete, or_, select
from sqlalchemy.orm import Session

from tocsin.core import audit
from tocsin.core.auth.models import AccessToken
from tocsin.core.db import bulk_batch, utcnow
from tocsin.core.outbox import OutboxEvent
from tocsin.domains import domain_modules

PUBLISHED_EVENT_RETENTION = dt.timedelta(days=1)
# Rows per table per transaction (the core's; each domain module has its own ``BATCH``).
BATCH = 500


class Purge(Protocol):
    """One purge batch: every domain's ``purge`` and the core's have this one signature
    (``batch`` overrides the module's ``BATCH``; a domain may add keyword-only settings)."""

    def __call__(self, session: Session, *, now: dt.datetime,
                 batch: int | None = None) -> dict[str, int]: ...


# ``progress(name, counts)`` after each committed batch: the purge's name ("core" or the
# domain's module) and what that batch did.
Progress = Callable[[str, dict[str, int]], None]


def _n(result: object) -> int:
    return int(result.rowcount)  # type: ignore[attr-defined]


def purge_core(session: Session, *, now: dt.datetime, batch: int | None = None) -> dict[str, int]:
    """Delete one batch of tokens past expiry or revoked, and of events published over a day
    ago."""
    limit = batch or BATCH
    tokens = session.execute(
        delete(AccessToken).where(AccessToken.token_hash.in_(
            select(AccessToken.token_hash).where(
                or_(AccessToken.expires_at <= now, AccessToken.revoked_at.is_not(None))
            ).limit(limit)
        )).execution_options(synchronize_session=False)
    )
    events = session.execute(
        delete(OutboxEvent).where(OutboxEvent.id.in_(
            select(OutboxEvent.id).where(
                OutboxEvent.published_at.is_not(None),
                OutboxEvent.published_at < now - PUBLISHED_EVENT_RETENTION,
            ).limit(limit)
        )).execution_options(synchronize_session=False)
    )
    return {"access_token": _n(tokens), "outbox_event": _n(events)}


def purges() -> list[tuple[str, Purge]]:
    """The core's purge, then every domain's, with their names."""
    return [("core", purge_core),
            *((module.__name__, module.purge) for module in domain_modules("retention"))]


def purge_all(
    session: Session, now: dt.datetime | None = None, *, progress: Progress | None = None
) -> dict[str, int]:
    """Run the core's and every domain's purge to the end, committing after every batch.

    Returns the totals per table; they are audited in the last transaction (committed by the
    caller, with the session).
    """
    now = now or utcnow()
    counts: dict[str, int] = {}
    for name, purge in purges():
        while True:
            with bulk_batch(session):  # commits; the SOS writer's turn comes between batches
                done = purge(session, now=now)
            for what, count in done.items():
                counts[what] = counts.get(what, 0) + count
            if progress is not None:
                progress(name, done)
            if not any(done.values()):
                break
    total = sum(counts.values())
    audit.record(
        session, actor="system:purge", action="purge", object_type="retention",
        object_id="*", reason=f"{total} records past retention",
    )
    return counts
