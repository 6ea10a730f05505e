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
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from tocsin.core import audit
from tocsin.core.auth.permissions import Principal
from tocsin.core.db import utcnow
from tocsin.core.errors import Invalid
from tocsin.core.outbox import add_event
from tocsin.persons import pfif
from tocsin.persons.models import Note, Person
from tocsin.persons.service import DEFAULT_RETENTION, index_person, notes_of, propose_duplicates


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


def _domain_reason(record_id: str | None, home: str, declared: str | None) -> str | None:
    if not record_id:
        return None
    domain = pfif.record_domain(record_id)
    if domain == home.lower():
        return f"{record_id!r} is in this repository's own domain; imports cannot overwrite it"
    if declared and domain != declared.lower():
        return f"{record_id!r} is not in the declared domain {declared!r}"
    return None


def import_document(
    session: Session,
    *,
    data: bytes,
    home_domain: str,
    source_domain: str | None,
    actor: Principal | str,
) -> ImportReport:
    """Import a PFIF document: keep the good records, report each bad one with its reasons."""
    try:
        parsed = pfif.parse(data)
    except pfif.PfifError as exc:
        raise Invalid(f"not a PFIF document: {exc}") from None
    report = ImportReport(version=parsed.version, rejected=list(parsed.errors))
    now = utcnow()
    held: dict[str, Person] = {}
    for index, values in enumerate(parsed.persons):
        record_id = values["person_record_id"]
        reason = _domain_reason(record_id, home_domain, source_domain)
        if reason:
            report.rejected.append(pfif.RecordError(index, "person", record_id, [reason]))
            continue
        person = session.scalar(select(Person).where(Person.person_record_id == record_id))
        fields = dict(values)
        fields["entry_date"] = fields["entry_date"] or now
        fields["purge_at"] = fields["expiry_date"] or now + DEFAULT_RETENTION
        if person is None:
            person = Person(**fields)
            session.add(person)
            report.persons_created += 1
        elif fields["source_date"] >= person.source_date:
            for name, value in fields.items():
                setattr(person, name, value)
            report.persons_updated += 1
        else:
            report.unchanged += 1
            held[record_id] = person
            continue
        index_person(session, person)
        held[record_id] = person
    for index, values in enumerate(parsed.notes):
        record_id = values["note_record_id"]
        person_id = values["person_record_id"]
        reason = _domain_reason(record_id, home_domain, source_domain)
        person = held.get(person_id) or session.scalar(
            select(Person).where(Person.person_record_id == person_id)
        )
        reasons = [reason] if reason else []
        if person is None:
            reasons.append(f"note for unknown person {person_id!r}")
        if reasons:
            report.rejected.append(pfif.RecordError(index, "note", record_id, reasons))
            continue
        assert person is not None
        if session.scalar(select(Note.id).where(Note.note_record_id == record_id)) is not None:
            report.unchanged += 1
            continue
        fields = dict(values)
        fields["entry_date"] = fields["entry_date"] or now
        session.add(Note(person_id=person.id, **fields))
        session.flush()
        report.notes_created += 1
    for person in held.values():
        propose_duplicates(session, person=person)
    add_event(session, "persons.imported", {
        "version": report.version, "stored": report.stored, "rejected": len(report.rejected),
    })
    actor_name = actor if isinstance(actor, str) else actor.username
    audit.record(session, actor=actor, action="import", object_type="pfif",
                 object_id=source_domain or "*",
                 reason=f"{report.stored} stored, {len(report.rejected)} refused by {actor_name}")
    return report


def person_fields(person: Person) -> dict[str, Any]:
    """Return a record's PFIF 1.4 fields."""
    return {name: getattr(person, name) for name in pfif.PERSON_FIELDS}


def note_fields(note: Note) -> dict[str, Any]:
    """Return a note's PFIF 1.4 fields."""
    return {name: getattr(note, name) for name in pfif.NOTE_FIELDS}


def export_document(
    session: Session, *, actor: Principal | str, since: dt.datetime | None = None
) -> bytes:
    """Return every record (or those changed since ``since``) as PFIF 1.4; audit the export.

    The export carries the sealed contact details (PFIF has no other way to pass them on), so it
    is written to the audit log like any other read of them.
    """
    query = select(Person).order_by(Person.id)
    if since is not None:
        query = query.where(Person.source_date >= since)
    persons = list(session.scalars(query))
    notes: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for person in persons:
        notes[person.person_record_id] = [note_fields(n) for n in notes_of(session, person)]
    audit.record_read(session, actor=actor, object_type="pfif_export", object_id="*",
                      reason=f"PFIF 1.4 export of {len(persons)} records")
    return pfif.write([person_fields(p) for p in persons], notes)
