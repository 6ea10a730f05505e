"""Bulk PFIF: a file of any size imported and exported as a stream (``tocsin pfif``).

Import: records come from :class:`~tocsin.persons.pfif_stream.Reader` one at a time and are
written in chunks of :data:`BATCH` records, each chunk one short transaction (its persons, their
search index, then its notes) under the process's SQLite write lock, with the same pause after
it as the API import (``interchange.BATCH_PAUSE_S``: the server is another process, whose
writers poll the file lock), so the SOS intake of a running server is never held longer than
one chunk. Nothing accumulates: a refused record is handed to ``refused`` (the command line
prints it) and only counted; the session of a chunk is closed after it. Memory is that of one
chunk (see BENCHMARKS.md, "PFIF bulk import").

A top-level note may come before its person in a file: such a note is kept aside (at most
:data:`MAX_DEFERRED`, beyond which it is refused) and written after the last record, when it is
refused only if its person is still unknown.

Re-running the same file is idempotent (see ``interchange``): a person whose ``source_date`` is
older than, or equal to and with the same fields as, the one held is left unchanged; a note held
is left unchanged. A failed chunk raises ``ImportInterrupted``; the chunks before it stay.

Export: persons are read by id in pages of :data:`EXPORT_PAGE`, each page with its notes, and
written as they come (:class:`~tocsin.persons.pfif_stream.Writer`).
"""

from __future__ import annotations

import datetime as dt
import time
from collections import defaultdict
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import IO, Any, Protocol

from sqlalchemy import select
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session, sessionmaker

from tocsin.core import audit
from tocsin.core.auth.permissions import Principal
from tocsin.core.db import session_scope, utcnow, write_lock
from tocsin.core.outbox import add_event
from tocsin.persons import interchange, pfif
from tocsin.persons.models import Note, Person
from tocsin.persons.pfif_stream import Streamed, Writer
from tocsin.persons.service import add_duplicate_proposals, find_duplicates

BATCH = 500
MAX_DEFERRED = 100_000
EXPORT_PAGE = 1_000

NoteItem = tuple[int, dict[str, Any], str | None]


class RecordSource(Protocol):
    """Where records come from: a file (``pfif_stream.Reader``) or a feed page (``sync``)."""

    version: str
    bytes_read: int

    def __iter__(self) -> Iterator[Streamed]: ...


@dataclass
class BulkReport(interchange.ImportReport):
    """An import's counts; refused records were handed out as they came, only counted here."""

    refused: int = 0
    records_read: int = 0


def import_stream(
    sessions: sessionmaker[Session],
    reader: RecordSource,
    *,
    home_domain: str,
    source_domain: str | None,
    actor: Principal | str,
    refused: Callable[[pfif.RecordError], None],
    progress: Callable[[int, int], None] | None = None,
    batch: int | None = None,
    pause_s: float | None = None,
    duplicates: bool = True,
) -> BulkReport:
    """Import every record of ``reader``; hand each refused one to ``refused``; count them.

    ``progress(records_read, bytes_read)`` is called after each chunk. ``duplicates=False``
    skips the duplicate proposals (a first load of another repository's records, reviewed
    later with ``tocsin persons reindex``-like tools; on by default).
    """
    batch = batch or BATCH
    engine = sessions.kw.get("bind")
    if pause_s is None:
        sqlite = engine is not None and engine.dialect.name == "sqlite"
        pause_s = interchange.BATCH_PAUSE_S if sqlite else 0.0
    report = BulkReport(version=reader.version)
    writer = _ChunkWriter(sessions, write_lock(engine), report, home_domain, source_domain,
                          actor, refused, duplicates)
    deferred: list[NoteItem] = []
    persons: list[tuple[int, dict[str, Any]]] = []
    notes: list[NoteItem] = []
    items = iter(reader)
    while True:
        try:
            item = next(items)
        except StopIteration:
            break
        except pfif.PfifError:
            # The document breaks here: what was read before it is kept (written now), so a
            # re-run of the mended file only adds the rest.
            writer.write(persons, notes, None)
            raise
        report.records_read += 1
        if item.reasons:
            _refuse(report, refused, item.error())
        elif item.record_type == "person":
            persons.append((item.index, item.values))
        else:
            notes.append((item.index, item.values, None))
        if len(persons) + len(notes) >= batch:
            if writer.chunks and pause_s:
                time.sleep(pause_s)  # the lock is free: let the other writers in
            writer.write(persons, notes, deferred)
            persons, notes = [], []
            if progress:
                progress(report.records_read, reader.bytes_read)
    if persons or notes:
        if writer.chunks and pause_s:
            time.sleep(pause_s)
        writer.write(persons, notes, deferred)
    for start in range(0, len(deferred), batch):
        if pause_s:
            time.sleep(pause_s)
        writer.write([], deferred[start : start + batch], None)
    if progress:
        progress(report.records_read, reader.bytes_read)
    if report.stored:
        with write_lock(engine), session_scope(sessions) as session:
            add_event(session, "persons.imported", {
                "version": report.version, "stored": report.stored, "rejected": report.refused,
            })
    return report


def _refuse(report: BulkReport, sink: Callable[[pfif.RecordError], None],
            error: pfif.RecordError) -> None:
    report.refused += 1
    sink(error)


class _ChunkWriter:
    """Writes one chunk per call in its own transaction; counts into the report."""

    def __init__(self, sessions: sessionmaker[Session], lock: Any, report: BulkReport,
                 home: str, declared: str | None, actor: Principal | str,
                 refused: Callable[[pfif.RecordError], None], duplicates: bool) -> None:
        self.sessions, self.lock, self.report = sessions, lock, report
        self.home, self.declared, self.actor = home, declared, actor
        self.refused, self.duplicates = refused, duplicates
        self.actor_name = actor if isinstance(actor, str) else actor.username
        self.now = utcnow()
        self.chunks = 0

    def write(self, persons: list[tuple[int, dict[str, Any]]], notes: list[NoteItem],
              defer: list[NoteItem] | None) -> None:
        report = self.report
        good: list[dict[str, Any]] = []
        for index, values in persons:
            record_id = values["person_record_id"]
            reason = interchange._domain_reason(record_id, self.home, self.declared)
            if reason:
                _refuse(report, self.refused, pfif.RecordError(index, "person", record_id,
                                                               [reason]))
            else:
                good.append(values)
        checked = [(index, values, interchange._domain_reason(
            values["note_record_id"], self.home, self.declared)) for index, values, _ in notes]
        aside: list[NoteItem] = []
        self.chunks += 1
        written: list[tuple[int, str]] = []
        try:
            with self.lock, session_scope(self.sessions) as session:
                done = interchange.ImportReport(version=report.version)
                if good:
                    done, written = interchange._persons_batch(session, good, self.now,
                                                               report.version)
                if checked:
                    done.add(interchange._notes_batch(
                        session, checked, self.now, report.version,
                        defer=aside if defer is not None else None))
                if done.stored or done.unchanged:
                    audit.record(session, actor=self.actor, action="import", object_type="pfif",
                                 object_id=self.declared or "*", reason=(
                                     f"bulk chunk {self.chunks}: {done.stored} stored, "
                                     f"{done.unchanged} unchanged, {len(done.rejected)} refused "
                                     f"by {self.actor_name}"))
            if written and self.duplicates:
                with self.sessions() as reader:
                    pairs = find_duplicates(reader, persons=written)
                if pairs:
                    with self.lock, session_scope(self.sessions) as session:
                        add_duplicate_proposals(session, pairs=pairs)
        except SQLAlchemyError as exc:
            raise interchange.ImportInterrupted(
                f"the import stopped at chunk {self.chunks} ({exc.__class__.__name__}) after "
                f"{report.records_read:,} records read; what is counted in the details is "
                "imported and kept; running the same import again is safe and completes it",
                details=report.counts(),
            ) from exc
        rejected, done.rejected = done.rejected, []
        report.add(done)
        for error in rejected:
            _refuse(report, self.refused, error)
        if defer is not None:
            room = MAX_DEFERRED - len(defer)
            defer.extend(aside[:room])
            for index, values, _ in aside[room:]:
                _refuse(report, self.refused, pfif.RecordError(
                    index, "note", values["note_record_id"],
                    [f"note for unknown person {values['person_record_id']!r} (more than "
                     f"{MAX_DEFERRED:,} notes came before their person)"]))


def _pages(session: Session, since: dt.datetime | None) -> Iterator[list[Person]]:
    last = 0
    while True:
        query = select(Person).where(Person.id > last).order_by(Person.id).limit(EXPORT_PAGE)
        if since is not None:
            query = query.where(Person.source_date >= since)
        page = list(session.scalars(query))
        if not page:
            return
        yield page
        last = page[-1].id
        session.expunge_all()


def export_stream(
    sessions: sessionmaker[Session], out: IO[bytes], *, actor: Principal | str,
    since: dt.datetime | None = None,
    progress: Callable[[int], None] | None = None,
) -> int:
    """Write every record (or those changed since ``since``) as PFIF 1.4 to ``out``; audited.

    Reads in pages by id (one read transaction; the pages keep memory flat), writes as it goes.
    Returns the number of persons written. The export carries the sealed contact details (PFIF
    has no other way to pass them on), so it is audited like any read of them.
    """
    # Audited before the first byte leaves (the count is not known yet: the reason says when).
    with write_lock(sessions.kw.get("bind")), session_scope(sessions) as session:
        audit.record_read(session, actor=actor, object_type="pfif_export", object_id="*",
                          reason="PFIF 1.4 export (streamed)" + (
                              f" of records changed since {since.isoformat()}" if since else ""))
    count = 0
    with sessions() as session, Writer(out) as writer:
        for page in _pages(session, since):
            notes: dict[int, list[dict[str, Any]]] = defaultdict(list)
            for note in session.scalars(
                select(Note).where(Note.person_id.in_([p.id for p in page]))
                .order_by(Note.person_id, Note.source_date, Note.id)
            ):
                notes[note.person_id].append(interchange.note_fields(note))
            for person in page:
                writer.person(interchange.person_fields(person), notes.get(person.id, []))
            count += len(page)
            writer.flush()
            if progress:
                progress(count)
    return count
