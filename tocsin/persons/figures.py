"""Figures the persons domain contributes to the observatory (contract: ``tocsin.core.figures``).

``persons.reported``: a missing-person record entered. ``persons.found``: the first note about a
person saying they are alive (PFIF 1.4 status ``believed_alive``, or ``is_note_author``: the
person wrote it). Nothing identifying leaves the domain: only record ids as keys.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import select
from sqlalchemy.orm import Session

from tocsin.core.bus import Event
from tocsin.core.figures import Fact, Kind
from tocsin.persons.models import Note, Person

FOUND_STATUSES = ("believed_alive", "is_note_author")
KINDS = (
    Kind("persons.reported", "Personnes signalées", "Persons reported"),
    Kind("persons.found", "Personnes retrouvées", "Persons found", categories=FOUND_STATUSES),
)
SUBJECTS: tuple[str, ...] = ()


def from_event(session: Session, event: Event) -> list[Fact]:
    """No event is consumed (records and notes are swept from the tables)."""
    return []


def from_tables(session: Session, start: dt.datetime, end: dt.datetime) -> list[Fact]:
    """Return records entered and persons found in ``[start, end)``."""
    facts = [
        Fact("persons.reported", r.person_record_id, r.entry_date)
        for r in session.execute(select(Person.person_record_id, Person.entry_date).where(
            Person.entry_date >= start, Person.entry_date < end))
    ]
    # Oldest first: a person found twice counts once, at the first such note.
    facts += [
        Fact("persons.found", r.person_record_id, r.entry_date, category=r.status)
        for r in session.execute(
            select(Note.person_record_id, Note.entry_date, Note.status)
            .where(Note.status.in_(FOUND_STATUSES), Note.entry_date >= start,
                   Note.entry_date < end)
            .order_by(Note.entry_date))
    ]
    return facts
