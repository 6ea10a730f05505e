"""Write and query the audit log. Entries are added in the caller's transaction: an action and
its audit entry commit together or not at all.

An entry is chained onto the log when it is flushed (``chain.seal``, from the session's
``before_flush``), so it can be read back in its transaction like any row; from then until the
commit the transaction holds the chain's head (see ``chain``): keep audited transactions short.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import event, func, or_, select
from sqlalchemy.orm import Session, SessionTransaction

from tocsin.core.audit import chain
from tocsin.core.audit.models import AuditEntry
from tocsin.core.auth.permissions import Principal
from tocsin.core.db import utcnow

_PENDING = "tocsin.audit.pending"


@event.listens_for(Session, "before_flush")
def _seal_before_flush(session: Session, _context: object, _instances: object) -> None:
    entries: list[AuditEntry] = session.info.pop(_PENDING, [])
    with session.no_autoflush:
        chain.seal(session, [e for e in entries if e.seq is None and e in session.new])


@event.listens_for(Session, "after_transaction_end")
def _forget_on_end(session: Session, transaction: SessionTransaction) -> None:
    # Entries of a transaction rolled back (or closed) are gone with it; a savepoint's end
    # leaves them to its parent.
    if transaction.parent is None:
        session.info.pop(_PENDING, None)


def record(
    session: Session,
    *,
    actor: Principal | str,
    action: str,
    object_type: str,
    object_id: str | int,
    reason: str = "",
) -> AuditEntry:
    """Append one entry for ``actor`` doing ``action`` on an object."""
    if isinstance(actor, Principal):
        name, role = actor.username, actor.role.value if actor.role else "citizen"
    else:
        name, role = actor, "system"
    entry = AuditEntry(
        at=utcnow(),
        actor=name[:80],
        role=role,
        action=action[:60],
        object_type=object_type[:60],
        object_id=str(object_id)[:80],
        reason=reason[:300],
    )
    session.add(entry)
    session.info.setdefault(_PENDING, []).append(entry)
    return entry


def record_read(
    session: Session,
    *,
    actor: Principal | str,
    object_type: str,
    object_id: str | int,
    reason: str,
) -> AuditEntry:
    """Record a read of sensitive data; ``reason`` says why it was needed."""
    return record(
        session,
        actor=actor,
        action="read_sensitive",
        object_type=object_type,
        object_id=object_id,
        reason=reason,
    )


def search(
    session: Session,
    *,
    actor: str | None = None,
    action: str | None = None,
    object_type: str | None = None,
    object_id: str | None = None,
    since: dt.datetime | None = None,
    until: dt.datetime | None = None,
    q: str | None = None,
    limit: int = 100,
    offset: int = 0,
) -> tuple[int, list[AuditEntry]]:
    """Return the total and one page of entries matching the filters, newest first.

    ``q`` is a search: every word must appear, in any case, in the actor, the action, the
    object or the reason of an entry.
    """
    query = select(AuditEntry)
    for word in (q or "").split():
        needle = word.lower()
        query = query.where(or_(*(func.lower(column).contains(needle, autoescape=True)
                                  for column in (AuditEntry.actor, AuditEntry.action,
                                                 AuditEntry.object_type, AuditEntry.object_id,
                                                 AuditEntry.reason))))
    if actor:
        query = query.where(AuditEntry.actor == actor)
    if action:
        query = query.where(AuditEntry.action == action)
    if object_type:
        query = query.where(AuditEntry.object_type == object_type)
    if object_id:
        query = query.where(AuditEntry.object_id == object_id)
    if since:
        query = query.where(AuditEntry.at >= since)
    if until:
        query = query.where(AuditEntry.at < until)
    total = session.scalar(select(func.count()).select_from(query.subquery())) or 0
    page = session.scalars(
        query.order_by(AuditEntry.id.desc()).limit(limit).offset(offset)
    ).all()
    return int(total), list(page)
