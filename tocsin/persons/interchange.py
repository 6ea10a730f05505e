"""PFIF import (1.2-1.4) and export (1.4) against the registry.

Import policy, consistent everywhere (API and CLI): the good records are kept and each bad one is
reported with its reasons; a document that is not PFIF at all changes nothing. Records keep their
``person_record_id`` and its domain, so repositories can exchange records both ways, with two
refusals taken from Person Finder's importer: a record in *our own* domain is never overwritten
by an import (only this repository writes its originals), and when the caller declares the
domain it imports from, records of any other domain are refused ("not in the declared domain";
this is what makes the shipped ``test.pfif-1.2-badrecord.xml`` bad).

A person already held is replaced only by a version with a newer or equal ``source_date``
(PFIF 1.4: source_date is when the record was last changed at its source); notes are immutable
in PFIF, so a note already held is left unchanged. ``entry_date`` is, per PFIF 1.4, when *this*
repository entered the record: it is kept as sent if present (so a round trip is lossless for
every field) and set to now otherwise. Records without ``expiry_date`` are purged after our
default retention (``purge_at``) but exported, as received, without one.

Where the work runs, and in what transactions (the server's event loop also answers the silent
SOS, and on SQLite every writer shares one file lock): the XML is read and checked by
:func:`parse_document`, bytes in and plain picklable records out, which the API runs in the
worker's process pool (lane :data:`LANE`); :func:`import_parsed` then writes the records in
short transactions of :data:`BATCH` records each (persons first, then notes), each its own
commit, taking the process's SQLite write lock (``tocsin.core.db.write_lock``) around each batch
and pausing between batches, so the SOS writer and every other writer get the file in between.

Limits: the API takes at most :data:`API_MAX_RECORDS` records and :data:`API_MAX_BYTES` bytes per
request, refused (413, naming the limit) before any record is converted; big files go through
the command line (``tocsin pfif import``, :mod:`tocsin.persons.bulk`), which streams a file of
any size in the same short transactions.

Partial failure and re-runs: a batch that fails (database error) is rolled back, the batches
before it stay committed, and the import stops with :class:`ImportInterrupted` (503) saying how
far it got. Re-sending the same document is safe and completes it: records are keyed by their
PFIF ids (unique in the tables), a person already held is updated in place with the same values
(counted "updated", and its duplicates searched again), a note already held is left as it is
("unchanged"), duplicate proposals are made once per pair. Each committed batch writes its own
audit entry. The duplicate searches of a batch read outside the write lock, after its commit;
their proposals are written in a second short transaction.
"""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session, sessionmaker

from tocsin.core import audit
from tocsin.core.auth.permissions import Principal
from tocsin.core.db import session_scope, utcnow, write_lock
from tocsin.core.errors import DomainError, Invalid, TooLarge
from tocsin.core.offload import Lane
from tocsin.core.outbox import add_event
from tocsin.persons import pfif
from tocsin.persons.models import Note, Person
from tocsin.persons.service import (
    DEFAULT_RETENTION,
    add_duplicate_proposals,
    find_duplicates,
    index_persons,
)

# One API request: 2,000 records is a large batch from another repository (a few MB at most);
# bigger files go through the command line. The request-wide body limit
# (TOCSIN_MAX_BODY_BYTES, 1 MB by default) applies first when it is lower.
API_MAX_RECORDS = 2_000
API_MAX_BYTES = 2_000_000
# Records per write transaction: on SQLite a batch holds the write lock for about a tenth of a
# second on a small machine (the records, their search keys, the duplicate searches).
BATCH = 200
# Pause between batches on SQLite: a writer of another process polls the lock every 100 ms at
# most (SQLite's busy handler), so a longer gap lets it in whatever its phase.
BATCH_PAUSE_S = 0.11
LANE = Lane("persons.pfif", concurrency=1, waiting=2, timeout_s=60.0, retry_after_s=10)
_LARGER = ("split the document, or load it with the command line `tocsin pfif import` "
           "(streamed, no size limit); the whole-document reader takes up to")


class PfifTooLarge(TooLarge):
    """A PFIF document over the bytes or records limit of this import (413)."""


class ImportInterrupted(DomainError):
    """A batch failed: the batches before it are committed; re-sending the document is safe."""

    status = 503
    code = "import_interrupted"


@dataclass
class ImportReport:
    """Counts of what an import did, and the refused records."""

    version: str
    persons_created: int = 0
    persons_updated: int = 0
    notes_created: int = 0
    unchanged: int = 0
    rejected: list[pfif.RecordError] = field(default_factory=list)

    @property
    def stored(self) -> int:
        return self.persons_created + self.persons_updated + self.notes_created

    def add(self, other: ImportReport) -> None:
        self.persons_created += other.persons_created
        self.persons_updated += other.persons_updated
        self.notes_created += other.notes_created
        self.unchanged += other.unchanged
        self.rejected.extend(other.rejected)

    def counts(self) -> dict[str, int]:
        return {"persons_created": self.persons_created, "persons_updated": self.persons_updated,
                "notes_created": self.notes_created, "unchanged": self.unchanged,
                "rejected": len(self.rejected)}


def _domain_reason(record_id: str | None, home: str, declared: str | None) -> str | None:
    if not record_id:
        return None
    domain = pfif.record_domain(record_id)
    if domain == home.lower():
        return f"{record_id!r} is in this repository's own domain; imports cannot overwrite it"
    if declared and domain != declared.lower():
        return f"{record_id!r} is not in the declared domain {declared!r}"
    return None


def check_size(data: bytes, max_bytes: int) -> None:
    """Refuse a document over ``max_bytes`` (413 naming the limit): cheap, before any parsing."""
    if len(data) > max_bytes:
        raise PfifTooLarge(f"the PFIF document is larger than {max_bytes:,} bytes; "
                           f"{_LARGER} {pfif.MAX_DOCUMENT_BYTES:,}",
                           details={"max_bytes": max_bytes})


def parse_document(
    data: bytes, max_bytes: int = pfif.MAX_DOCUMENT_BYTES, max_records: int = pfif.MAX_RECORDS
) -> pfif.ParsedPfif:
    """Read and check a PFIF document: plain picklable records out, or a ``DomainError``.

    CPU-heavy (the API runs it in the process pool: ``runtime.offload.run(LANE, ...)``).
    Over a limit: 413 naming it; not PFIF: 422. Nothing is written.
    """
    check_size(data, max_bytes)
    try:
        return pfif.parse(data, max_bytes=max_bytes, max_records=max_records)
    except pfif.PfifTooLarge as exc:
        raise PfifTooLarge(f"{exc}; this import takes at most {max_records:,} records "
                           f"({_LARGER} {pfif.MAX_RECORDS:,})",
                           details={"max_records": max_records}) from None
    except pfif.PfifError as exc:
        raise Invalid(f"not a PFIF document: {exc}") from None


def _persons_batch(
    session: Session, chunk: Sequence[dict[str, Any]], now: dt.datetime, version: str
) -> tuple[ImportReport, list[tuple[int, str]]]:
    """Write a batch of persons and their index; return the counts and ``(id, name)`` written."""
    done = ImportReport(version=version)
    ids = {values["person_record_id"] for values in chunk}
    held = {p.person_record_id: p
            for p in session.scalars(select(Person).where(Person.person_record_id.in_(ids)))}
    touched: dict[str, Person] = {}
    for values in chunk:
        record_id = values["person_record_id"]
        person = held.get(record_id)
        fields = dict(values)
        fields["entry_date"] = fields["entry_date"] or now
        fields["purge_at"] = fields["expiry_date"] or now + DEFAULT_RETENTION
        if person is None:
            person = held[record_id] = Person(**fields)
            session.add(person)
            done.persons_created += 1
        elif fields["source_date"] > person.source_date or (
            fields["source_date"] == person.source_date and _differs(person, values)
        ):
            for name, value in fields.items():
                setattr(person, name, value)
            done.persons_updated += 1
        else:
            # Older, or the very version held (a re-run): PFIF's source_date says which is
            # newer; the same date with the same fields is the same record, left untouched.
            done.unchanged += 1
            continue
        touched[record_id] = person
    index_persons(session, persons=list(touched.values()))
    return done, [(p.id, p.full_name) for p in touched.values()]


def _differs(person: Person, values: dict[str, Any]) -> bool:
    """Whether an import carries other values than the record held (entry_date aside when the
    document gives none: we set it ourselves)."""
    return any(getattr(person, name) != value for name, value in values.items()
               if not (name == "entry_date" and value is None))


def _notes_batch(
    session: Session, chunk: Sequence[tuple[int, dict[str, Any], str | None]],
    now: dt.datetime, version: str,
    defer: list[tuple[int, dict[str, Any], str | None]] | None = None,
) -> ImportReport:
    """Write a batch of notes; with ``defer``, a note whose person is not held (yet: a stream
    may give a top-level note before its person) is put there instead of refused."""
    done = ImportReport(version=version)
    person_ids = {values["person_record_id"] for _, values, _ in chunk}
    persons: dict[str, int] = {
        record_id: person_id for record_id, person_id in session.execute(
            select(Person.person_record_id, Person.id)
            .where(Person.person_record_id.in_(person_ids)))
    }
    note_ids = {values["note_record_id"] for _, values, _ in chunk}
    held = set(session.scalars(select(Note.note_record_id).where(
        Note.note_record_id.in_(note_ids))))
    for index, values, reason in chunk:
        record_id, person_record_id = values["note_record_id"], values["person_record_id"]
        reasons = [reason] if reason else []
        person_id = persons.get(person_record_id)
        if person_id is None and defer is not None and not reasons:
            defer.append((index, values, reason))
            continue
        if person_id is None:
            reasons.append(f"note for unknown person {person_record_id!r}")
        if reasons:
            done.rejected.append(pfif.RecordError(index, "note", record_id, reasons))
            continue
        if record_id in held:
            done.unchanged += 1
            continue
        fields = dict(values)
        fields["entry_date"] = fields["entry_date"] or now
        session.add(Note(person_id=person_id, **fields))
        held.add(record_id)
        done.notes_created += 1
    session.flush()
    return done


def import_parsed(
    sessions: sessionmaker[Session],
    parsed: pfif.ParsedPfif,
    *,
    home_domain: str,
    source_domain: str | None,
    actor: Principal | str,
    batch: int | None = None,
    pause_s: float | None = None,
) -> ImportReport:
    """Write parsed records in short transactions of ``batch`` records (blocking: a thread).

    Keeps the good records and reports each bad one with its reasons. A failed batch raises
    :class:`ImportInterrupted`; the batches before it stay committed (see the module docstring:
    re-running the same document is safe and completes it).
    """
    batch = batch or BATCH
    report = ImportReport(version=parsed.version, rejected=list(parsed.errors))
    persons: list[dict[str, Any]] = []
    for index, values in enumerate(parsed.persons):
        record_id = values["person_record_id"]
        reason = _domain_reason(record_id, home_domain, source_domain)
        if reason:
            report.rejected.append(pfif.RecordError(index, "person", record_id, [reason]))
        else:
            persons.append(values)
    notes = [(index, values, _domain_reason(values["note_record_id"], home_domain, source_domain))
             for index, values in enumerate(parsed.notes)]
    jobs: list[tuple[str, int, int]] = [("persons", i, min(i + batch, len(persons)))
                                        for i in range(0, len(persons), batch)]
    jobs += [("notes", i, min(i + batch, len(notes))) for i in range(0, len(notes), batch)]
    engine = sessions.kw.get("bind")
    lock = write_lock(engine)
    if pause_s is None:
        sqlite = engine is not None and engine.dialect.name == "sqlite"
        pause_s = BATCH_PAUSE_S if sqlite else 0.0
    actor_name = actor if isinstance(actor, str) else actor.username
    now = utcnow()
    for number, (kind, start, stop) in enumerate(jobs, 1):
        if number > 1 and pause_s:
            time.sleep(pause_s)  # the lock is free: let the other writers in
        written: list[tuple[int, str]] = []
        try:
            with lock, session_scope(sessions) as session:
                if kind == "persons":
                    done, written = _persons_batch(session, persons[start:stop], now,
                                                   parsed.version)
                else:
                    done = _notes_batch(session, notes[start:stop], now, parsed.version)
                if done.stored or done.unchanged:
                    audit.record(session, actor=actor, action="import", object_type="pfif",
                                 object_id=source_domain or "*", reason=(
                                     f"batch {number}/{len(jobs)} ({kind} {start + 1}-{stop}): "
                                     f"{done.stored} stored, {done.unchanged} unchanged, "
                                     f"{len(done.rejected)} refused by {actor_name}"))
                if number == len(jobs) and (report.stored + done.stored
                                            + report.unchanged + done.unchanged):
                    add_event(session, "persons.imported", {
                        "version": report.version, "stored": report.stored + done.stored,
                        "rejected": len(report.rejected) + len(done.rejected),
                    })
            report.add(done)
            if written:
                # The duplicate searches read outside the write lock; the proposals are then
                # written in their own short transaction (a re-run proposes them again).
                with sessions() as reader:
                    pairs = find_duplicates(reader, persons=written)
                if pairs:
                    with lock, session_scope(sessions) as session:
                        add_duplicate_proposals(session, pairs=pairs)
        except SQLAlchemyError as exc:
            raise ImportInterrupted(
                f"the import stopped at batch {number} of {len(jobs)} ({kind} {start + 1}-"
                f"{stop}: {exc.__class__.__name__}); what is counted in the details is imported "
                "and kept; sending the same document again is safe and completes it",
                details=report.counts(), headers={"Retry-After": "10"},
            ) from exc
    return report


def person_fields(person: Person) -> dict[str, Any]:
    """Return a record's PFIF 1.4 fields."""
    return {name: getattr(person, name) for name in pfif.PERSON_FIELDS}


def note_fields(note: Note) -> dict[str, Any]:
    """Return a note's PFIF 1.4 fields."""
    return {name: getattr(note, name) for name in pfif.NOTE_FIELDS}
