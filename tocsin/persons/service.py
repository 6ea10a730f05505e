"""Missing-persons logic: records and notes (PFIF 1.4), search, contacts, duplicates.

Services never commit (the route or CLI command does). Contact details are sealed columns;
reading them goes through :func:`read_contacts`, which writes an audit entry with the reason.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import delete, insert, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from tocsin.core import audit
from tocsin.core.auth.permissions import Principal
from tocsin.core.db import utcnow
from tocsin.core.errors import Conflict, Invalid, NotFound
from tocsin.core.outbox import add_event
from tocsin.persons import pfif, search
from tocsin.persons.models import (
    DuplicateProposal,
    Note,
    Person,
    PersonSearchKey,
    PersonSearchTerm,
)
from tocsin.persons.schemas import NoteIn, PersonIn

# PFIF 1.4 leaves expiry to the repository; the issue asks for 60 days after the crisis.
DEFAULT_RETENTION = dt.timedelta(days=60)
MAX_RETENTION = dt.timedelta(days=366)
DUPLICATE_THRESHOLD = 0.9


def clean(value: str | None) -> str | None:
    """Strip a text value, normalise line ends (XML keeps no CR), empty -> None."""
    if value is None:
        return None
    value = value.replace("\r\n", "\n").replace("\r", "\n").strip()
    return value or None


def new_record_id(domain: str, kind: str) -> str:
    """Return a fresh PFIF record id in our own domain (PFIF 1.4: ``domain/unique``)."""
    return f"{domain}/{kind}.{uuid.uuid4().hex[:16]}"


def _insert_terms(session: Session, words: Sequence[str]) -> None:
    if not words:
        return
    rows = [{"term": w} for w in words]
    dialect = session.get_bind().dialect.name
    stmt: Any
    if dialect == "postgresql":
        stmt = pg_insert(PersonSearchTerm).values(rows).on_conflict_do_nothing()
    else:
        stmt = sqlite_insert(PersonSearchTerm).values(rows).on_conflict_do_nothing()
    session.execute(stmt)


def index_person(session: Session, *, person: Person) -> None:
    """(Re)build a record's search keys and add its words to the vocabulary."""
    plain, joined = search.person_tokens(person)
    words = plain + joined
    person.search_tokens = search.stored_form(plain, joined)
    session.flush()
    session.execute(delete(PersonSearchKey).where(PersonSearchKey.person_id == person.id))
    keys = search.index_keys(plain, joined)
    if keys:
        session.execute(
            insert(PersonSearchKey), [{"key": k, "person_id": person.id} for k in keys]
        )
    _insert_terms(session, words)


def index_persons(session: Session, *, persons: Sequence[Person]) -> None:
    """:func:`index_person` for many records at once: one flush, one delete, a few inserts.

    For imports: a batch's index written in a handful of statements, not four per record.
    """
    if not persons:
        return
    session.flush()
    keys: list[dict[str, Any]] = []
    words: dict[str, None] = {}
    for person in persons:
        plain, joined = search.person_tokens(person)
        person.search_tokens = search.stored_form(plain, joined)
        keys.extend({"key": k, "person_id": person.id} for k in search.index_keys(plain, joined))
        words.update(dict.fromkeys(plain + joined))
    session.flush()
    session.execute(delete(PersonSearchKey).where(
        PersonSearchKey.person_id.in_([p.id for p in persons])))
    if keys:
        session.execute(insert(PersonSearchKey), keys)
    vocabulary = list(words)
    for start in range(0, len(vocabulary), 500):
        _insert_terms(session, vocabulary[start : start + 500])


def _expiry(now: dt.datetime, asked: dt.datetime | None) -> dt.datetime:
    if asked is None:
        return now + DEFAULT_RETENTION
    if asked.tzinfo is None:
        raise Invalid("expiry_date must carry a time zone (e.g. 2026-12-01T00:00:00Z)")
    if asked <= now or asked > now + MAX_RETENTION:
        raise Invalid("expiry_date must be in the future and within a year")
    return asked


def create_person(
    session: Session, *, data: PersonIn, domain: str, actor: Principal | str
) -> Person:
    """Record a person someone is looking for; propose likely duplicates to reviewers."""
    now = utcnow()
    values = {k: clean(v) if isinstance(v, str) else v for k, v in data.model_dump().items()}
    if not values["full_name"] or not values["author_name"]:
        raise Invalid("full_name and author_name must not be blank")
    for name, value in values.items():
        if isinstance(value, str) and (why := pfif.check_text(name, value)):
            raise Invalid(why)
    values["expiry_date"] = _expiry(now, data.expiry_date)
    values["purge_at"] = values["expiry_date"]
    person = Person(
        person_record_id=new_record_id(domain, "person"),
        entry_date=now,
        source_date=now,
        source_name=domain,
        **values,
    )
    session.add(person)
    index_person(session, person=person)
    propose_duplicates(session, person=person)
    add_event(session, "persons.created", {"person_record_id": person.person_record_id})
    audit.record(session, actor=actor, action="create", object_type="person",
                 object_id=person.id)
    return person


def get_person(session: Session, *, record_id: str) -> Person:
    """Return the record with this PFIF id, or raise NotFound."""
    person = session.scalar(select(Person).where(Person.person_record_id == record_id))
    if person is None or person.purge_at <= utcnow():
        raise NotFound(f"no person record {record_id!r}")
    return person


def notes_of(session: Session, *, person: Person) -> list[Note]:
    """Return a record's notes, oldest first (PFIF order of source_date)."""
    return list(
        session.scalars(
            select(Note).where(Note.person_id == person.id).order_by(Note.source_date, Note.id)
        )
    )


def add_note(session: Session, *, data: NoteIn, domain: str, actor: Principal | str) -> Note:
    """Add a note (status, contact, a link to another record) to an existing person."""
    person = get_person(session, record_id=data.person_record_id)
    values = {k: clean(v) if isinstance(v, str) else v for k, v in data.model_dump().items()}
    if not values["text"] or not values["author_name"]:
        raise Invalid("text and author_name must not be blank")
    for name, value in values.items():
        if isinstance(value, str) and (why := pfif.check_text(name, value)):
            raise Invalid(why)
    linked = values.get("linked_person_record_id")
    if linked is not None:
        if linked == person.person_record_id:
            raise Invalid("a record cannot be linked to itself")
        get_person(session, record_id=linked)
    now = utcnow()
    note = Note(
        note_record_id=new_record_id(domain, "note"),
        person_id=person.id,
        entry_date=now,
        source_date=now,
        **values,
    )
    session.add(note)
    session.flush()
    add_event(session, "persons.note_added", {
        "person_record_id": person.person_record_id, "note_record_id": note.note_record_id,
        "status": note.status,
    })
    audit.record(session, actor=actor, action="add_note", object_type="person",
                 object_id=person.id)
    return note


def read_contacts(
    session: Session, *, record_id: str, actor: Principal, reason: str
) -> dict[str, Any]:
    """Open the sealed contact details of a record and its notes; audit the read."""
    if len(reason.strip()) < 5:
        raise Invalid("a reason (at least 5 characters) is required to read contact details")
    person = get_person(session, record_id=record_id)
    audit.record_read(session, actor=actor, object_type="person", object_id=person.id,
                      reason=reason.strip())
    return {
        "person_record_id": person.person_record_id,
        "author_email": person.author_email,
        "author_phone": person.author_phone,
        "notes": [
            {
                "note_record_id": n.note_record_id,
                "author_email": n.author_email,
                "author_phone": n.author_phone,
                "email_of_found_person": n.email_of_found_person,
                "phone_of_found_person": n.phone_of_found_person,
            }
            for n in notes_of(session, person=person)
        ],
    }


@dataclass(frozen=True)
class Found:
    """A search hit with the public fields the result list shows."""

    person: Person
    score: float
    latest_status: str | None


def search_persons(session: Session, *, text: str, limit: int = 20) -> list[Found]:
    """Search names (see :mod:`tocsin.persons.search`); return hits with public fields."""
    if len(text) > 200:
        raise Invalid("the search text is longer than 200 characters")
    hits = search.search(session, text, limit=limit)
    if not hits:
        return []
    persons = {
        p.id: p
        for p in session.scalars(select(Person).where(Person.id.in_([h.person_id for h in hits])))
    }
    statuses: dict[int, str | None] = {}
    for person_id, status in session.execute(
        select(Note.person_id, Note.status)
        .where(Note.person_id.in_(list(persons)), Note.status.is_not(None))
        .order_by(Note.source_date, Note.id)
    ):
        statuses[person_id] = status
    return [Found(persons[h.person_id], h.score, statuses.get(h.person_id)) for h in hits
            if h.person_id in persons]


def propose_duplicates(session: Session, *, person: Person) -> list[DuplicateProposal]:
    """Propose records whose names score as the same person; a reviewer decides (never merged)."""
    proposals: list[DuplicateProposal] = []
    for hit in search.search(session, person.full_name, limit=10):
        if hit.person_id == person.id or hit.score < DUPLICATE_THRESHOLD:
            continue
        first, second = sorted((hit.person_id, person.id))
        exists = session.scalar(
            select(DuplicateProposal.id).where(
                DuplicateProposal.person_id == first, DuplicateProposal.other_id == second
            )
        )
        if exists is None:
            proposal = DuplicateProposal(person_id=first, other_id=second, score=hit.score,
                                         status="proposed", created_at=utcnow())
            session.add(proposal)
            proposals.append(proposal)
    session.flush()
    return proposals


def find_duplicates(
    session: Session, *, persons: Sequence[tuple[int, str]]
) -> list[tuple[int, int, float]]:
    """Return ``(person_id, other_id, score)`` pairs that score as the same person (read only).

    ``persons`` are ``(id, full_name)``; each pair once, the lower id first. With
    :func:`add_duplicate_proposals`, the batch form of :func:`propose_duplicates`: the searches
    run outside any write transaction.
    """
    pairs: dict[tuple[int, int], float] = {}
    for person_id, full_name in persons:
        for hit in search.search(session, full_name, limit=10):
            if hit.person_id == person_id or hit.score < DUPLICATE_THRESHOLD:
                continue
            first, second = sorted((hit.person_id, person_id))
            pairs.setdefault((first, second), hit.score)
    return [(first, second, score) for (first, second), score in pairs.items()]


def add_duplicate_proposals(session: Session, *, pairs: Sequence[tuple[int, int, float]]) -> int:
    """Propose the pairs not proposed yet (and whose records still exist); return how many."""
    if not pairs:
        return 0
    ids = {i for first, second, _ in pairs for i in (first, second)}
    alive = set(session.scalars(select(Person.id).where(Person.id.in_(ids))))
    rows = session.execute(
        select(DuplicateProposal.person_id, DuplicateProposal.other_id).where(
            DuplicateProposal.person_id.in_({first for first, _, _ in pairs}),
            DuplicateProposal.other_id.in_({second for _, second, _ in pairs})))
    known = {(row[0], row[1]) for row in rows}
    now = utcnow()
    new = [{"person_id": first, "other_id": second, "score": score, "status": "proposed",
            "created_at": now}
           for first, second, score in pairs
           if (first, second) not in known and first in alive and second in alive]
    if new:
        session.execute(insert(DuplicateProposal), new)
    return len(new)


def list_duplicates(session: Session, *, status: str = "proposed") -> list[dict[str, Any]]:
    """Return the duplicate proposals in ``status``, best score first."""
    rows = session.scalars(
        select(DuplicateProposal).where(DuplicateProposal.status == status)
        .order_by(DuplicateProposal.score.desc(), DuplicateProposal.id).limit(200)
    ).all()
    out = []
    for row in rows:
        a, b = session.get(Person, row.person_id), session.get(Person, row.other_id)
        if a is None or b is None:
            continue
        out.append({
            "id": row.id, "person_record_id": a.person_record_id,
            "other_record_id": b.person_record_id, "person_name": a.full_name,
            "other_name": b.full_name, "score": row.score, "status": row.status,
        })
    return out


def decide_duplicate(
    session: Session, *, proposal_id: int, link: bool, domain: str, actor: Principal
) -> DuplicateProposal:
    """Link the pair (a PFIF note with ``linked_person_record_id`` on each) or dismiss it."""
    proposal = session.get(DuplicateProposal, proposal_id)
    if proposal is None:
        raise NotFound(f"no duplicate proposal {proposal_id}")
    if proposal.status != "proposed":
        raise Conflict(f"duplicate proposal {proposal_id} was already {proposal.status}")
    a, b = session.get(Person, proposal.person_id), session.get(Person, proposal.other_id)
    assert a is not None and b is not None  # cascade deletes the proposal with either record
    if link:
        for this, other in ((a, b), (b, a)):
            add_note(session, domain=domain, actor=actor, data=NoteIn(
                person_record_id=this.person_record_id,
                linked_person_record_id=other.person_record_id,
                author_name=actor.username,
                text="Même personne que la fiche liée (vérifié par un relecteur).",
            ))
    proposal.status = "linked" if link else "dismissed"
    proposal.decided_at = utcnow()
    proposal.decided_by = actor.username
    audit.record(session, actor=actor, action=proposal.status, object_type="person_duplicate",
                 object_id=proposal.id)
    return proposal
