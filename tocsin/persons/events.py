"""Bus subjects the persons domain publishes (through the outbox, after commit)."""

from __future__ import annotations

from pydantic import BaseModel

PERSON_CREATED = "persons.created"
NOTE_ADDED = "persons.note_added"
IMPORTED = "persons.imported"


class PersonCreated(BaseModel):
    """A record was posted; only its id travels (no personal data on the bus)."""

    person_record_id: str


class NoteAdded(BaseModel):
    """A note was added to a record, with its PFIF status."""

    person_record_id: str
    note_record_id: str
    status: str | None


class Imported(BaseModel):
    """A PFIF import finished."""

    version: str
    stored: int
    rejected: int
