"""Tables of the missing-persons registry: PFIF 1.4 person and note records, the search index,
and the duplicate proposals a reviewer decides on.

Every PFIF 1.4 field has a column, so an export gives back exactly what was imported. Values are
kept as the text PFIF carries (``date_of_birth`` "1970-01", ``age`` "35-45" are approximate on
purpose in PFIF 1.4 §person) except the three timestamps. Contact details (author e-mail and
phone, found person's e-mail and phone) are sealed at rest; reading them is audited.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import Boolean, Float, ForeignKey, Index, Integer, LargeBinary, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from tocsin.core.db import Base, UTCDateTime
from tocsin.core.seal import SealedText


class Person(Base):
    """A PFIF 1.4 person record (one per ``person_record_id``, whichever repository made it)."""

    __tablename__ = "person"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    # PFIF 1.4: "domain/unique_string"; the domain names the repository that created it.
    person_record_id: Mapped[str] = mapped_column(String(500), unique=True)
    entry_date: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    expiry_date: Mapped[dt.datetime | None] = mapped_column(UTCDateTime, nullable=True)
    # When ``tocsin purge`` deletes it: the PFIF expiry_date, or our default when the source gave
    # none (kept apart so an export gives back exactly the PFIF fields that were imported).
    purge_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, index=True)
    author_name: Mapped[str | None] = mapped_column(String(500), nullable=True)
    author_email: Mapped[str | None] = mapped_column(
        SealedText("person.author_email"), nullable=True
    )
    author_phone: Mapped[str | None] = mapped_column(
        SealedText("person.author_phone"), nullable=True
    )
    source_name: Mapped[str | None] = mapped_column(String(500), nullable=True)
    source_date: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    source_url: Mapped[str | None] = mapped_column(String(2000), nullable=True)
    full_name: Mapped[str] = mapped_column(String(500))
    given_name: Mapped[str | None] = mapped_column(String(500), nullable=True)
    family_name: Mapped[str | None] = mapped_column(String(500), nullable=True)
    alternate_names: Mapped[str | None] = mapped_column(Text, nullable=True)
    description: Mapped[str | None] = mapped_column(Text, nullable=True)
    sex: Mapped[str | None] = mapped_column(String(10), nullable=True)
    date_of_birth: Mapped[str | None] = mapped_column(String(10), nullable=True)
    age: Mapped[str | None] = mapped_column(String(10), nullable=True)
    home_street: Mapped[str | None] = mapped_column(String(500), nullable=True)
    home_neighborhood: Mapped[str | None] = mapped_column(String(500), nullable=True)
    home_city: Mapped[str | None] = mapped_column(String(500), nullable=True)
    home_state: Mapped[str | None] = mapped_column(String(500), nullable=True)
    home_postal_code: Mapped[str | None] = mapped_column(String(50), nullable=True)
    home_country: Mapped[str | None] = mapped_column(String(50), nullable=True)
    photo_url: Mapped[str | None] = mapped_column(String(2000), nullable=True)
    profile_urls: Mapped[str | None] = mapped_column(Text, nullable=True)
    # Folded tokens of every name field, space-separated: the re-ranker reads this, not the
    # sealed or display columns.
    search_tokens: Mapped[str] = mapped_column(Text, default="")


class Note(Base):
    """A PFIF 1.4 note: what someone knows about a person (status, contact, location)."""

    __tablename__ = "person_note"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    note_record_id: Mapped[str] = mapped_column(String(500), unique=True)
    person_id: Mapped[int] = mapped_column(ForeignKey("person.id", ondelete="CASCADE"), index=True)
    person_record_id: Mapped[str] = mapped_column(String(500))
    linked_person_record_id: Mapped[str | None] = mapped_column(String(500), nullable=True)
    entry_date: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    author_name: Mapped[str | None] = mapped_column(String(500), nullable=True)
    author_email: Mapped[str | None] = mapped_column(
        SealedText("person_note.author_email"), nullable=True
    )
    author_phone: Mapped[str | None] = mapped_column(
        SealedText("person_note.author_phone"), nullable=True
    )
    source_date: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    author_made_contact: Mapped[bool | None] = mapped_column(Boolean, nullable=True)
    status: Mapped[str | None] = mapped_column(String(30), nullable=True)
    email_of_found_person: Mapped[str | None] = mapped_column(
        SealedText("person_note.email_of_found_person"), nullable=True
    )
    phone_of_found_person: Mapped[str | None] = mapped_column(
        SealedText("person_note.phone_of_found_person"), nullable=True
    )
    last_known_location: Mapped[str | None] = mapped_column(String(500), nullable=True)
    text: Mapped[str] = mapped_column(Text)
    photo_url: Mapped[str | None] = mapped_column(String(2000), nullable=True)


class PersonSearchKey(Base):
    """Posting list of the search index: one row per (key, person).

    Keys are ``t:<word>`` (a folded name word) and ``2:<word> <word>`` (an unordered pair of a
    record's name words, see :mod:`tocsin.persons.search`): a few rows per record, looked up by
    equality on an index, so a query touches only the postings of the keys it probes whatever
    the size of the registry.
    """

    __tablename__ = "person_search_key"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    key: Mapped[str] = mapped_column(String(80))
    person_id: Mapped[int] = mapped_column(ForeignKey("person.id", ondelete="CASCADE"))

    __table_args__ = (
        Index("ix_person_search_key_key", "key", "person_id"),
        Index("ix_person_search_key_person_id", "person_id"),
    )


class PersonSearchTerm(Base):
    """The vocabulary of name tokens: typo and prefix expansion run on it, not on records."""

    __tablename__ = "person_search_term"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    term: Mapped[str] = mapped_column(String(80), unique=True)


class DuplicateProposal(Base):
    """Two records that look like the same person, waiting for a reviewer (never auto-merged)."""

    __tablename__ = "person_duplicate"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    person_id: Mapped[int] = mapped_column(ForeignKey("person.id", ondelete="CASCADE"))
    other_id: Mapped[int] = mapped_column(
        ForeignKey("person.id", ondelete="CASCADE"), index=True
    )
    score: Mapped[float] = mapped_column(Float)
    status: Mapped[str] = mapped_column(String(12), default="proposed", index=True)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    decided_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime, nullable=True)
    decided_by: Mapped[str | None] = mapped_column(String(80), nullable=True)

    __table_args__ = (Index("ix_person_duplicate_pair", "person_id", "other_id", unique=True),)


class PersonPhoto(Base):
    """A photo uploaded for a record or note: re-encoded JPEG, no metadata left (EXIF, GPS)."""

    __tablename__ = "person_photo"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    photo_id: Mapped[str] = mapped_column(String(32), unique=True)
    data: Mapped[bytes] = mapped_column(LargeBinary)
    width: Mapped[int] = mapped_column(Integer)
    height: Mapped[int] = mapped_column(Integer)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    purge_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, index=True)
