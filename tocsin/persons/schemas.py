"""The persons API contract (PFIF 1.4 field names, bounded so bad input is a 422 naming it)."""

from __future__ import annotations

import datetime as dt
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

Status = Literal[
    "information_sought", "is_note_author", "believed_alive", "believed_missing", "believed_dead"
]
Short = Field(default=None, max_length=500)


class PersonIn(BaseModel):
    """A person record posted from the page ("Je cherche quelqu'un")."""

    model_config = ConfigDict(extra="forbid")

    full_name: str = Field(min_length=1, max_length=500)
    given_name: str | None = Short
    family_name: str | None = Short
    alternate_names: str | None = Field(default=None, max_length=2000)
    description: str | None = Field(default=None, max_length=5000)
    sex: Literal["female", "male", "other"] | None = None
    date_of_birth: str | None = Field(
        default=None, pattern=r"^\d{4}(-\d{2}(-\d{2})?)?$", max_length=10
    )
    age: str | None = Field(default=None, pattern=r"^\d{1,3}(-\d{1,3})?$", max_length=7)
    home_street: str | None = Short
    home_neighborhood: str | None = Short
    home_city: str | None = Short
    home_state: str | None = Short
    home_postal_code: str | None = Field(default=None, max_length=50)
    home_country: str | None = Field(default=None, max_length=50)
    photo_url: str | None = Field(default=None, max_length=2000, pattern=r"^https?://\S+$")
    profile_urls: str | None = Field(default=None, max_length=4000)
    author_name: str = Field(min_length=1, max_length=500)
    author_email: str | None = Field(default=None, max_length=254, pattern=r"^[^@\s]+@[^@\s]+$")
    author_phone: str | None = Field(default=None, max_length=40, pattern=r"^[0-9+ ().-]{3,40}$")
    expiry_date: dt.datetime | None = None


class NoteIn(BaseModel):
    """A note posted about a person ("J'ai des informations")."""

    model_config = ConfigDict(extra="forbid")

    person_record_id: str = Field(min_length=3, max_length=500)
    text: str = Field(min_length=1, max_length=5000)
    author_name: str = Field(min_length=1, max_length=500)
    status: Status | None = None
    author_made_contact: bool | None = None
    linked_person_record_id: str | None = Field(default=None, max_length=500)
    author_email: str | None = Field(default=None, max_length=254, pattern=r"^[^@\s]+@[^@\s]+$")
    author_phone: str | None = Field(default=None, max_length=40, pattern=r"^[0-9+ ().-]{3,40}$")
    email_of_found_person: str | None = Field(
        default=None, max_length=254, pattern=r"^[^@\s]+@[^@\s]+$"
    )
    phone_of_found_person: str | None = Field(
        default=None, max_length=40, pattern=r"^[0-9+ ().-]{3,40}$"
    )
    last_known_location: str | None = Short
    photo_url: str | None = Field(default=None, max_length=2000, pattern=r"^https?://\S+$")


class NoteOut(BaseModel):
    """A note as the public sees it: no contact details."""

    note_record_id: str
    person_record_id: str
    linked_person_record_id: str | None
    entry_date: dt.datetime
    source_date: dt.datetime
    author_name: str | None
    author_made_contact: bool | None
    status: str | None
    last_known_location: str | None
    text: str
    photo_url: str | None


class RecordPerson(BaseModel):
    """The public fields of a person record: names, description, city; never contacts."""

    person_record_id: str
    full_name: str
    given_name: str | None
    family_name: str | None
    alternate_names: str | None
    description: str | None
    sex: str | None
    date_of_birth: str | None
    age: str | None
    home_city: str | None
    home_country: str | None
    photo_url: str | None
    source_name: str | None
    source_date: dt.datetime
    entry_date: dt.datetime
    expiry_date: dt.datetime | None


class PersonOut(RecordPerson):
    """A person record as the public sees it, with its notes."""

    notes: list[NoteOut] = []


class ContactOut(BaseModel):
    """Sealed contact details of a record and its notes (authorised roles, audited)."""

    person_record_id: str
    author_email: str | None
    author_phone: str | None
    notes: list[dict[str, str | None]]


class SearchResult(BaseModel):
    """One search hit: enough to recognise the person, nothing private."""

    person_record_id: str
    full_name: str
    score: float
    home_city: str | None
    age: str | None
    sex: str | None
    latest_status: str | None
    source_date: dt.datetime


class SearchOut(BaseModel):
    """Answer of ``GET /api/v1/persons/search`` (DESIGN.md contract)."""

    results: list[SearchResult]


class ImportError_(BaseModel):
    """One refused record of an import and every reason."""

    index: int
    record_type: str
    record_id: str | None
    reasons: list[str]


class ImportOut(BaseModel):
    """What an import did: records stored, records left as they were, records refused."""

    version: str
    persons_created: int
    persons_updated: int
    notes_created: int
    unchanged: int
    rejected: list[ImportError_]


class DuplicateOut(BaseModel):
    """A proposed duplicate pair for a reviewer."""

    id: int
    person_record_id: str
    other_record_id: str
    person_name: str
    other_name: str
    score: float
    status: str


class CreatedOut(BaseModel):
    """Answer to a posted record or note."""

    person_record_id: str
    note_record_id: str | None = None
    expiry_date: dt.datetime | None = None


class RecordNote(BaseModel):
    """A note's public fields (never the contact details), with the record it belongs to."""

    note_record_id: str
    person_record_id: str
    linked_person_record_id: str | None
    entry_date: dt.datetime
    author_name: str | None
    source_date: dt.datetime
    author_made_contact: bool | None
    status: str | None
    last_known_location: str | None
    text: str
    photo_url: str | None


class StatusChange(BaseModel):
    status: str
    source_date: dt.datetime
    person_record_id: str
    author_name: str | None


class LastKnown(BaseModel):
    """The latest location a note gave; ``lat``/``lon`` when its text holds a position."""

    text: str
    source_date: dt.datetime
    lat: float | None
    lon: float | None


class RecordView(BaseModel):
    """``GET /api/v1/persons/view/{id}``: a record with the records linked to it as one."""

    person: RecordPerson
    linked: list[RecordPerson]
    notes: list[RecordNote]
    status_history: list[StatusChange]
    last_known: LastKnown | None
    photo_path: str | None


class UnlinkIn(BaseModel):
    """Two linked records a reviewer says are different people."""

    person_record_id: str = Field(min_length=3, max_length=500)
    other_record_id: str = Field(min_length=3, max_length=500)
