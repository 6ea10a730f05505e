"""A person's record as one page shows it: the record, the records linked to it as the same
person, every note of them in order, the status history, the last known location.

Public fields only (the record page is public like the search): contact details stay sealed
and are read through ``service.read_contacts`` (audited). Linked records are those a note names
in ``linked_person_record_id`` (PFIF 1.4's way of saying "same person", written by a reviewer's
link or received from another repository), in either direction, minus the pairs a reviewer
unlinked (a ``person_duplicate`` row in status ``unlinked``: PFIF notes are immutable, so the
link notes stay and the unlink is a fact of ours, written as a note too).
"""

from __future__ import annotations

import re
from typing import Any

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from tocsin.core import audit
from tocsin.core.auth.permissions import Principal
from tocsin.core.db import utcnow
from tocsin.core.errors import Invalid
from tocsin.persons import photos
from tocsin.persons.models import DuplicateProposal, Note, Person
from tocsin.persons.schemas import NoteIn
from tocsin.persons.service import add_note, get_person

# "48.8566, 2.3522", "48.8566 2.3522", "geo:48.8566,2.3522": a position written in the free
# text of last_known_location (PFIF 1.4 gives it no structure).
_COORDINATES = re.compile(r"(?<![\d.])(-?\d{1,2}\.\d{2,})\s*[, ;]\s*(-?\d{1,3}\.\d{2,})(?![\d.])")
MAX_LINKED = 20
PUBLIC_PERSON = ("person_record_id", "full_name", "given_name", "family_name",
                 "alternate_names", "description", "sex", "date_of_birth", "age", "home_city",
                 "home_country", "photo_url", "source_name", "source_date", "entry_date",
                 "expiry_date")
PUBLIC_NOTE = ("note_record_id", "person_record_id", "linked_person_record_id", "entry_date",
               "author_name", "source_date", "author_made_contact", "status",
               "last_known_location", "text", "photo_url")


def coordinates(text: str | None) -> tuple[float, float] | None:
    """Return ``(lat, lon)`` written in a location text, or None."""
    if not text:
        return None
    match = _COORDINATES.search(text)
    if not match:
        return None
    lat, lon = float(match.group(1)), float(match.group(2))
    if -90 <= lat <= 90 and -180 <= lon <= 180:
        return lat, lon
    return None


def _unlinked(session: Session, ids: set[int]) -> set[frozenset[int]]:
    rows = session.execute(select(DuplicateProposal.person_id, DuplicateProposal.other_id).where(
        DuplicateProposal.status == "unlinked",
        or_(DuplicateProposal.person_id.in_(ids), DuplicateProposal.other_id.in_(ids))))
    return {frozenset(row) for row in rows}


def linked_records(session: Session, person: Person) -> list[Person]:
    """The live records linked to ``person`` as the same person (transitively, bounded)."""
    now = utcnow()
    group: dict[int, Person] = {person.id: person}
    frontier = [person]
    while frontier and len(group) <= MAX_LINKED:
        ids = {p.id for p in frontier}
        record_ids = {p.person_record_id for p in frontier}
        named = set(session.scalars(select(Note.linked_person_record_id).where(
            Note.person_id.in_(ids), Note.linked_person_record_id.is_not(None))))
        naming = set(session.scalars(select(Note.person_id).where(
            Note.linked_person_record_id.in_(record_ids))))
        found = session.scalars(select(Person).where(
            or_(Person.person_record_id.in_(named), Person.id.in_(naming)),
            Person.purge_at > now))
        cut = _unlinked(session, set(group))
        frontier = []
        for other in found:
            if other.id in group:
                continue
            if any(frozenset((p.id, other.id)) in cut for p in group.values()):
                continue
            group[other.id] = other
            frontier.append(other)
    return [p for p in group.values() if p.id != person.id][:MAX_LINKED]


def _photo(url: str | None) -> str | None:
    # Only our own photos are shown inline: another site's URL would tell it who reads the page
    # (and the CSP allows images from here only).
    photo_id = photos.photo_id_of(url)
    return f"{photos.PATH}{photo_id}" if photo_id else None


def view(session: Session, record_id: str) -> dict[str, Any]:
    """Return the record page's data (public fields only)."""
    person = get_person(session, record_id=record_id)
    linked = linked_records(session, person)
    records = [person, *linked]
    notes = list(session.scalars(
        select(Note).where(Note.person_id.in_([p.id for p in records]))
        .order_by(Note.source_date, Note.id)))
    history = [{"status": n.status, "source_date": n.source_date,
                "person_record_id": n.person_record_id, "author_name": n.author_name}
               for n in notes if n.status]
    last_known = None
    for note in reversed(notes):
        if note.last_known_location:
            point = coordinates(note.last_known_location)
            last_known = {"text": note.last_known_location, "source_date": note.source_date,
                          "lat": point[0] if point else None, "lon": point[1] if point else None}
            break
    photo = next((p for p in (_photo(r.photo_url) for r in records) if p), None)
    if photo is None:
        photo = next((p for p in (_photo(n.photo_url) for n in reversed(notes)) if p), None)
    return {
        "person": {name: getattr(person, name) for name in PUBLIC_PERSON},
        "linked": [{name: getattr(p, name) for name in PUBLIC_PERSON} for p in linked],
        "notes": [{name: getattr(n, name) for name in PUBLIC_NOTE} for n in notes],
        "status_history": history,
        "last_known": last_known,
        "photo_path": photo,
    }


def duplicates_of(session: Session, record_id: str) -> list[dict[str, Any]]:
    """Proposed duplicates of one record, for a reviewer on its page."""
    person = get_person(session, record_id=record_id)
    rows = session.scalars(select(DuplicateProposal).where(
        DuplicateProposal.status == "proposed",
        or_(DuplicateProposal.person_id == person.id, DuplicateProposal.other_id == person.id),
    ).order_by(DuplicateProposal.score.desc()).limit(50))
    out = []
    for row in rows:
        other = session.get(Person, row.other_id if row.person_id == person.id else row.person_id)
        if other is None:
            continue
        out.append({"id": row.id, "person_record_id": person.person_record_id,
                    "other_record_id": other.person_record_id, "person_name": person.full_name,
                    "other_name": other.full_name, "score": row.score, "status": row.status})
    return out


def unlink(session: Session, *, record_id: str, other_record_id: str, domain: str,
           actor: Principal) -> DuplicateProposal:
    """Undo a link: the pair is marked ``unlinked`` and a note on each record says so."""
    a, b = get_person(session, record_id=record_id), get_person(session, record_id=other_record_id)
    if b not in linked_records(session, a):
        raise Invalid(f"{record_id!r} and {other_record_id!r} are not linked")
    first, second = sorted((a.id, b.id))
    proposal = session.scalar(select(DuplicateProposal).where(
        DuplicateProposal.person_id == first, DuplicateProposal.other_id == second))
    if proposal is None:  # a link received in an import: no proposal was ever made
        proposal = DuplicateProposal(person_id=first, other_id=second, score=0.0,
                                     created_at=utcnow())
        session.add(proposal)
    proposal.status = "unlinked"
    proposal.decided_at = utcnow()
    proposal.decided_by = actor.username
    for this, other in ((a, b), (b, a)):
        add_note(session, domain=domain, actor=actor, data=NoteIn(
            person_record_id=this.person_record_id, author_name=actor.username,
            text=f"Pas la même personne que la fiche {other.person_record_id} "
                 "(lien retiré par un relecteur).",
        ))
    session.flush()
    audit.record(session, actor=actor, action="unlinked", object_type="person_duplicate",
                 object_id=proposal.id)
    return proposal
