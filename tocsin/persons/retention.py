"""Purge of person records past their PFIF 1.4 ``expiry_date``, with their notes and index rows.

PFIF 1.4 says a record past its expiry_date must no longer be shown or exported (search and reads
already hide it); we go further and delete it at ``purge_at`` (its expiry_date, or 60 days after
entry when the source gave none), with its notes, search keys and duplicate proposals; name words
no longer used by any record leave the search vocabulary, since they are personal data too.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import delete, exists, select
from sqlalchemy.orm import Session

from tocsin.persons import photos
from tocsin.persons.models import (
    DuplicateProposal,
    Note,
    Person,
    PersonPhoto,
    PersonSearchKey,
    PersonSearchTerm,
)

BATCH = 500  # records, search words, photos per call: ``tocsin purge`` commits between calls


def purge(session: Session, *, now: dt.datetime, batch: int | None = None) -> dict[str, int]:
    """Delete one batch of expired records and everything derived from them; count them."""
    limit = batch or BATCH  # read here: a test may lower the module's BATCH
    expired = list(session.scalars(select(Person.id).where(Person.purge_at <= now).limit(limit)))
    cited = [
        *session.scalars(select(Person.photo_url).where(Person.id.in_(expired))),
        *session.scalars(select(Note.photo_url).where(Note.person_id.in_(expired))),
    ]
    photo_ids = [p for p in (photos.photo_id_of(url) for url in cited) if p]
    removed_photos = session.execute(
        delete(PersonPhoto).where(
            PersonPhoto.photo_id.in_(photo_ids)
            | PersonPhoto.id.in_(select(PersonPhoto.id).where(PersonPhoto.purge_at <= now)
                                 .limit(limit))
        ).execution_options(synchronize_session=False)
    )
    notes = session.execute(delete(Note).where(Note.person_id.in_(expired)))
    session.execute(delete(PersonSearchKey).where(PersonSearchKey.person_id.in_(expired)))
    session.execute(
        delete(DuplicateProposal).where(
            DuplicateProposal.person_id.in_(expired) | DuplicateProposal.other_id.in_(expired)
        )
    )
    persons = session.execute(delete(Person).where(Person.id.in_(expired)))
    unused = ~exists().where(PersonSearchKey.key == "t:" + PersonSearchTerm.term)
    terms = session.execute(
        delete(PersonSearchTerm).where(PersonSearchTerm.id.in_(
            select(PersonSearchTerm.id).where(unused).limit(limit)
        )).execution_options(synchronize_session=False)
    )
    return {
        "person": int(persons.rowcount),  # type: ignore[attr-defined]
        "person_note": int(notes.rowcount),  # type: ignore[attr-defined]
        "person_search_term": int(terms.rowcount),  # type: ignore[attr-defined]
        "person_photo": int(removed_photos.rowcount),  # type: ignore[attr-defined]
    }
