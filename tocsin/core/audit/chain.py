"""The audit log as a hash chain: each entry's hash covers the previous hash and the entry.

Why: triggers keep honest code from changing the log, but not someone holding the SQLite file or
the database owner's login (who can drop them, or use a statement they miss). With the chain,
changing, removing or slipping in an entry breaks every later link, and ``tocsin audit verify``
names the first broken one. Removing the *last* entries together with the head row leaves a
shorter chain that is still consistent: only a head noted elsewhere shows it (``--head``).

Writers are serialised on the single ``audit_chain_head`` row: the UPDATE that reads the head
takes its row lock (PostgreSQL, held to the commit) or the database's write lock (SQLite), so two
workers never link onto the same entry. Entries are chained when flushed (``seal``, from the
session's ``before_flush``): an audited transaction holds the head from its first audit write to
its commit, so every audited transaction keeps the audit write near its end (they all do: the
record is the last step of a service function, and bulk jobs commit per batch).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import func, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from tocsin.core.audit.models import AuditChainHead, AuditEntry

GENESIS = "0" * 64
HEAD_ID = 1


def canonical(*, seq: int, at: dt.datetime, actor: str, role: str, action: str,
              object_type: str, object_id: str, reason: str) -> bytes:
    """The bytes an entry's hash covers: its fields as sorted, compact JSON (UTC, microseconds)."""
    when = at.astimezone(dt.UTC).replace(tzinfo=None).isoformat(timespec="microseconds")
    fields = {"seq": seq, "at": when, "actor": actor, "role": role, "action": action,
              "object_type": object_type, "object_id": object_id, "reason": reason}
    return json.dumps(fields, sort_keys=True, ensure_ascii=False,
                      separators=(",", ":")).encode("utf-8")


def link(previous: str, entry: Any) -> str:
    """Return sha256(previous hash, newline, canonical entry) in hex (an AuditEntry or alike)."""
    body = canonical(seq=int(entry.seq), at=entry.at, actor=entry.actor, role=entry.role,
                     action=entry.action, object_type=entry.object_type,
                     object_id=entry.object_id, reason=entry.reason)
    return hashlib.sha256(previous.encode("ascii") + b"\n" + body).hexdigest()


def _take_head(session: Session, count: int) -> tuple[int, str]:
    """Lock the head, move it ``count`` links on; return the last seq and hash before."""
    move = (update(AuditChainHead).where(AuditChainHead.id == HEAD_ID)
            .values(seq=AuditChainHead.seq + count)
            .returning(AuditChainHead.seq, AuditChainHead.hash))
    row = session.execute(move).one_or_none()
    if row is None:
        # A new database (or one whose head row was removed): start from the last entry
        # written, and let one of several first writers create the row.
        last = session.execute(select(AuditEntry.seq, AuditEntry.hash)
                               .where(AuditEntry.seq.is_not(None))
                               .order_by(AuditEntry.seq.desc()).limit(1)).one_or_none()
        seq, digest = (int(last.seq), str(last.hash)) if last is not None else (0, GENESIS)
        dialect = session.get_bind().dialect.name
        make = pg_insert if dialect == "postgresql" else sqlite_insert
        session.execute(make(AuditChainHead).values(id=HEAD_ID, seq=seq, hash=digest)
                        .on_conflict_do_nothing(index_elements=["id"]))
        row = session.execute(move).one()
    return int(row.seq) - count, str(row.hash)


def seal(session: Session, entries: list[AuditEntry]) -> None:
    """Chain ``entries`` after the current head and add them, in the caller's transaction."""
    if not entries:
        return
    seq, digest = _take_head(session, len(entries))
    for entry in entries:
        seq += 1
        entry.seq = seq
        entry.hash = digest = link(digest, entry)
        session.add(entry)
    session.execute(update(AuditChainHead).where(AuditChainHead.id == HEAD_ID)
                    .values(hash=digest))


@dataclass
class Verdict:
    """What a walk of the chain found: how many entries, the last hash, the first problem."""

    checked: int
    total: int
    head: str
    problem: str | None = None


def count(session: Session) -> int:
    """Return how many entries the log holds (chained or not)."""
    return int(session.scalar(select(func.count()).select_from(AuditEntry)) or 0)


def verify(session: Session, *, batch: int = 5000, expect_head: str | None = None,
           progress: Callable[[int], None] | None = None) -> Verdict:
    """Walk the chain in order and stop at the first entry that does not link."""
    verdict = Verdict(checked=0, total=count(session), head=GENESIS)
    seen_expected = expect_head is None or expect_head == GENESIS
    last_seq = 0
    while verdict.problem is None:
        rows = session.scalars(select(AuditEntry).where(AuditEntry.seq > last_seq)
                               .order_by(AuditEntry.seq).limit(batch)).all()
        if not rows:
            break
        for row in rows:
            assert row.seq is not None
            if row.seq != last_seq + 1:
                verdict.problem = (f"entry {last_seq + 1} of the chain is missing (removed?): "
                                   f"the next one is entry {row.seq} (id {row.id})")
                break
            if row.hash != link(verdict.head, row):
                verdict.problem = (f"entry {row.seq} (id {row.id}, {row.action} by "
                                   f"{row.actor}) does not match its hash: changed or forged")
                break
            verdict.head, last_seq = row.hash, row.seq
            verdict.checked += 1
            seen_expected = seen_expected or row.hash == expect_head
        session.expunge_all()  # a long log is walked in constant memory
        if progress is not None:
            progress(len(rows))
    if verdict.problem is None:
        verdict.problem = _outside_or_cut(session, verdict, last_seq)
    if verdict.problem is None and not seen_expected:
        verdict.problem = (f"the head noted earlier, {expect_head}, is no longer in the chain: "
                           "entries were removed from its end")
    return verdict


def _outside_or_cut(session: Session, verdict: Verdict, last_seq: int) -> str | None:
    outside = session.execute(select(AuditEntry.id, AuditEntry.action, AuditEntry.actor)
                              .where(AuditEntry.seq.is_(None) | AuditEntry.hash.is_(None))
                              .order_by(AuditEntry.id).limit(1)).one_or_none()
    if outside is not None:
        return (f"entry id {outside.id} ({outside.action} by {outside.actor}) is outside the "
                "chain: written behind the application's back")
    head = session.get(AuditChainHead, HEAD_ID)
    if head is not None and (head.seq, head.hash) != (last_seq, verdict.head):
        return (f"the chain head names entry {head.seq} but the log ends at entry {last_seq}: "
                "entries were removed from its end")
    return None
