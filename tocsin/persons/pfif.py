"""PFIF reading (1.2, 1.3, 1.4) and writing (1.4), hardened against hostile XML.

PFIF (Person Finder Interchange Format, http://zesty.ca/pfif/1.4/) is how repositories of missing
persons exchange records. We read the three versions still in circulation and map the older
names onto 1.4 (PFIF 1.3 renamed ``first_name``/``last_name`` to ``given_name``/``family_name``,
``other`` to ``description``, ``found`` to ``author_made_contact``; 1.1's ``home_zip`` is
``home_postal_code``). A 1.2 record has no ``full_name``: it is composed from the two names.

Parsing is done by ``defusedxml`` with DTDs forbidden: no entity expansion (billion laughs), no
external entity (XXE), no network access, and the document size and record count are capped
before and right after reading the XML (before any record is converted). A malformed *document*
raises :class:`PfifError` (nothing imported); a malformed *record* is reported in
``ParsedPfif.errors`` with every reason, and the good records go on (the import keeps the good
and reports the bad, consistently).

A parsed record is a ``dict`` of PFIF 1.4 field names to values (``str``, ``datetime`` for the
three dates, ``bool`` for ``author_made_contact``); :func:`write` turns such dicts back into the
same PFIF 1.4 text, which is what makes the round trip lossless.
"""

from __future__ import annotations

import datetime as dt
import re
import xml.etree.ElementTree as ET  # writing only; reading goes through defusedxml
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import defusedxml.ElementTree as SafeET
from defusedxml import DefusedXmlException

NS_PREFIX = "http://zesty.ca/pfif/"
VERSIONS = ("1.2", "1.3", "1.4")
NS_14 = NS_PREFIX + "1.4"
MAX_DOCUMENT_BYTES = 20_000_000
MAX_RECORDS = 50_000

PERSON_FIELDS: tuple[str, ...] = (
    "person_record_id", "entry_date", "expiry_date", "author_name", "author_email",
    "author_phone", "source_name", "source_date", "source_url", "full_name", "given_name",
    "family_name", "alternate_names", "description", "sex", "date_of_birth", "age",
    "home_street", "home_neighborhood", "home_city", "home_state", "home_postal_code",
    "home_country", "photo_url", "profile_urls",
)
NOTE_FIELDS: tuple[str, ...] = (
    "note_record_id", "person_record_id", "linked_person_record_id", "entry_date",
    "author_name", "author_email", "author_phone", "source_date", "author_made_contact",
    "status", "email_of_found_person", "phone_of_found_person", "last_known_location", "text",
    "photo_url",
)
STATUSES = frozenset(
    {"information_sought", "is_note_author", "believed_alive", "believed_missing",
     "believed_dead"}
)
SEXES = frozenset({"female", "male", "other"})
DATE_FIELDS = frozenset({"entry_date", "expiry_date", "source_date"})
# Older names mapped onto PFIF 1.4 (PFIF 1.3 "changes from 1.2"; 1.1 home_zip).
RENAMED = {
    "first_name": "given_name",
    "last_name": "family_name",
    "other": "description",
    "found": "author_made_contact",
    "home_zip": "home_postal_code",
}
# Free-text fields keep their inner whitespace; the others are single values.
LONG_TEXT = frozenset({"description", "text", "alternate_names", "profile_urls"})
MAX_LEN = {"text": 20_000, "description": 20_000, "alternate_names": 2_000,
           "profile_urls": 4_000, "source_url": 2_000, "photo_url": 2_000}
DEFAULT_MAX_LEN = 500

RECORD_ID = re.compile(r"^[A-Za-z0-9](?:[A-Za-z0-9.-]{0,252})(?::\d{1,5})?/[^\s/][^\s]{0,400}$")
DATETIME = re.compile(r"^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})(?:\.(\d{1,6}))?Z$")
BIRTH = re.compile(r"^\d{4}(?:-\d{2}(?:-\d{2})?)?$")
AGE = re.compile(r"^\d{1,3}(?:-\d{1,3})?$")
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\ud800-\udfff\ufffe\uffff]")


class PfifError(Exception):
    """The document as a whole cannot be read (not XML, hostile XML, not PFIF, too large)."""


class PfifTooLarge(PfifError):
    """The document is over a size limit (bytes or records): refused before any record work."""


@dataclass
class RecordError:
    """One refused record and every reason it was refused."""

    index: int
    record_type: str
    record_id: str | None
    reasons: list[str]


@dataclass
class ParsedPfif:
    """What a PFIF document holds: its version, valid records, and refused ones."""

    version: str
    persons: list[dict[str, Any]] = field(default_factory=list)
    notes: list[dict[str, Any]] = field(default_factory=list)
    errors: list[RecordError] = field(default_factory=list)


def format_datetime(value: dt.datetime) -> str:
    """Return a PFIF date (``YYYY-MM-DDTHH:MM:SSZ``, UTC)."""
    value = value.astimezone(dt.UTC)
    text = value.strftime("%Y-%m-%dT%H:%M:%S")
    if value.microsecond:
        text += f".{value.microsecond:06d}".rstrip("0")
    return text + "Z"


def parse_datetime(text: str) -> dt.datetime:
    """Parse a PFIF date; raise ``ValueError`` naming the expected form."""
    match = DATETIME.match(text)
    if not match:
        raise ValueError(f"{text[:40]!r} is not a UTC date of the form YYYY-MM-DDTHH:MM:SSZ")
    year, month, day, hour, minute, second = (int(p) for p in match.groups()[:6])
    micro = int((match.group(7) or "0").ljust(6, "0"))
    return dt.datetime(year, month, day, hour, minute, second, micro, tzinfo=dt.UTC)


def check_text(name: str, value: str) -> str | None:
    """Return why a text value is unacceptable, or None."""
    if _CONTROL.search(value):
        return f"{name} contains control characters"
    limit = MAX_LEN.get(name, DEFAULT_MAX_LEN)
    if len(value) > limit:
        return f"{name} is longer than {limit} characters"
    return None


def convert(name: str, raw: str) -> tuple[Any, str | None]:
    """Convert one field's text to its PFIF 1.4 value; return ``(value, reason or None)``."""
    reason = check_text(name, raw)
    if reason:
        return None, reason
    try:
        if name in DATE_FIELDS:
            return parse_datetime(raw), None
    except ValueError as exc:
        return None, f"{name}: {exc}"
    if name == "author_made_contact":
        low = raw.lower()
        if low in {"true", "1"}:
            return True, None
        if low in {"false", "0"}:
            return False, None
        return None, f"author_made_contact must be true or false, not {raw[:20]!r}"
    if name == "status" and raw not in STATUSES:
        return None, f"unknown note status {raw[:40]!r} (PFIF 1.4: {', '.join(sorted(STATUSES))})"
    if name == "sex" and raw not in SEXES:
        return None, f"sex must be female, male or other, not {raw[:20]!r}"
    if name == "date_of_birth" and not BIRTH.match(raw):
        return None, f"date_of_birth must be YYYY, YYYY-MM or YYYY-MM-DD, not {raw[:20]!r}"
    if name == "age" and not AGE.match(raw):
        return None, f"age must be a number or a range N-M, not {raw[:20]!r}"
    if name.endswith("record_id") and not RECORD_ID.match(raw):
        return None, f"{name} must be 'domain/unique-id', not {raw[:60]!r}"
    return raw, None


def record_domain(record_id: str) -> str:
    """Return the repository domain of a PFIF record id (the part before the first '/')."""
    return record_id.split("/", 1)[0].lower()


def _fields(elem: Any, ns: str, allowed: frozenset[str]) -> tuple[dict[str, str], list[str]]:
    values: dict[str, str] = {}
    reasons: list[str] = []
    for child in elem:
        if not isinstance(child.tag, str) or not child.tag.startswith("{" + ns + "}"):
            continue  # comments and other namespaces' extensions are not PFIF fields
        name = child.tag[len(ns) + 2 :]
        if name == "note":
            continue
        name = RENAMED.get(name, name)
        if name not in allowed:
            continue
        text = "".join(child.itertext())
        text = text.strip() if name not in LONG_TEXT else text.strip("\r\n ")
        if name in values:
            reasons.append(f"{name} is given more than once")
        values[name] = text
    return values, reasons


def _record(
    raw: dict[str, str], reasons: list[str], names: tuple[str, ...]
) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for name in names:
        text = raw.get(name, "")
        if not text:
            out[name] = None
            continue
        value, why = convert(name, text)
        if why:
            reasons.append(why)
        out[name] = value
    return out


def _person(elem: Any, ns: str, version: str) -> tuple[dict[str, Any], list[str]]:
    raw, reasons = _fields(elem, ns, frozenset(PERSON_FIELDS))
    if version == "1.2" and not raw.get("full_name"):
        raw["full_name"] = " ".join(
            p for p in (raw.get("given_name", ""), raw.get("family_name", "")) if p
        )
    record = _record(raw, reasons, PERSON_FIELDS)
    for required in ("person_record_id", "source_date", "full_name"):
        if not raw.get(required):
            reasons.append(f"{required} is required (PFIF 1.4 person)")
    return record, reasons


def _note(elem: Any, ns: str, parent_id: str | None) -> tuple[dict[str, Any], list[str]]:
    raw, reasons = _fields(elem, ns, frozenset(NOTE_FIELDS))
    if parent_id and not raw.get("person_record_id"):
        raw["person_record_id"] = parent_id  # PFIF: a nested note belongs to its person
    elif parent_id and raw.get("person_record_id") != parent_id:
        reasons.append("person_record_id differs from the enclosing person's")
    record = _record(raw, reasons, NOTE_FIELDS)
    # PFIF 1.4 also marks author_name required, but Person Finder wrote notes without it (the
    # shipped 1.2 sample has two); refusing them would drop what a family wrote, so it may be
    # absent, and is then absent from the export too.
    for required in ("note_record_id", "person_record_id", "source_date", "text"):
        if not raw.get(required):
            reasons.append(f"{required} is required (PFIF 1.4 note)")
    return record, reasons


def count_records(root: Any, ns: str) -> int:
    """Return how many person and note records (nested notes included) ``root`` holds."""
    person, note = f"{{{ns}}}person", f"{{{ns}}}note"
    count = 0
    for child in root:
        if child.tag == person:
            count += 1 + len(child.findall(note))
        elif child.tag == note:
            count += 1
    return count


def parse(
    data: bytes | str, *, max_bytes: int = MAX_DOCUMENT_BYTES, max_records: int = MAX_RECORDS
) -> ParsedPfif:
    """Parse a PFIF 1.2/1.3/1.4 document; raise :class:`PfifError` if it is not one.

    Over ``max_bytes`` (checked first) or ``max_records`` (counted right after the XML is read,
    before any record is converted): :class:`PfifTooLarge`, naming the limit.
    """
    if isinstance(data, str):
        data = data.encode("utf-8")
    if len(data) > max_bytes:
        raise PfifTooLarge(f"document larger than {max_bytes:,} bytes")
    if not data.strip():
        raise PfifError("empty document")
    try:
        root = SafeET.fromstring(data, forbid_dtd=True, forbid_entities=True,
                                 forbid_external=True)
    except DefusedXmlException as exc:
        raise PfifError(f"refused hostile XML: {exc.__class__.__name__} (DTDs and entities "
                        "are not accepted)") from None
    except ET.ParseError as exc:
        raise PfifError(f"not well-formed XML: {exc}") from None
    except (ValueError, RecursionError) as exc:
        raise PfifError(f"unreadable XML: {exc.__class__.__name__}") from None
    tag = root.tag if isinstance(root.tag, str) else ""
    match = re.fullmatch(r"\{http://zesty\.ca/pfif/(\d\.\d)\}pfif", tag)
    if not match:
        raise PfifError("the root element is not <pfif> in a PFIF namespace "
                        f"({NS_PREFIX}1.2, 1.3 or 1.4)")
    version = match.group(1)
    if version not in VERSIONS:
        raise PfifError(f"PFIF {version} is not supported (1.2, 1.3 and 1.4 are)")
    ns = NS_PREFIX + version
    records = count_records(root, ns)
    if records > max_records:
        raise PfifTooLarge(f"{records:,} records in one document; at most {max_records:,} "
                           "are taken at once")
    parsed = ParsedPfif(version=version)
    index = 0

    def add_note(elem: Any, parent: str | None) -> None:
        nonlocal index
        index += 1
        note, reasons = _note(elem, ns, parent)
        if reasons:
            parsed.errors.append(RecordError(index, "note", note.get("note_record_id"), reasons))
        else:
            parsed.notes.append(note)

    for child in root:
        if child.tag == f"{{{ns}}}person":
            index += 1
            person, reasons = _person(child, ns, version)
            pid = person.get("person_record_id")
            if reasons:
                parsed.errors.append(RecordError(index, "person", pid, reasons))
            else:
                parsed.persons.append(person)
            for sub in child.findall(f"{{{ns}}}note"):
                add_note(sub, pid or "")
        elif child.tag == f"{{{ns}}}note":
            add_note(child, None)
    return parsed


def _text(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, dt.datetime):
        return format_datetime(value)
    return str(value)


def write(
    persons: Iterable[Mapping[str, Any]],
    notes_by_person: Mapping[str, Sequence[Mapping[str, Any]]],
) -> bytes:
    """Return a PFIF 1.4 document of ``persons``, each with its notes nested (PFIF 1.4 §3)."""
    ET.register_namespace("pfif", NS_14)
    root = ET.Element(f"{{{NS_14}}}pfif")
    for person in persons:
        elem = ET.SubElement(root, f"{{{NS_14}}}person")
        for name in PERSON_FIELDS:
            if person.get(name) is not None:
                ET.SubElement(elem, f"{{{NS_14}}}{name}").text = _text(person[name])
        for note in notes_by_person.get(str(person["person_record_id"]), []):
            sub = ET.SubElement(elem, f"{{{NS_14}}}note")
            for name in NOTE_FIELDS:
                if note.get(name) is not None:
                    ET.SubElement(sub, f"{{{NS_14}}}{name}").text = _text(note[name])
    ET.indent(root, space="  ")
    return ET.tostring(root, encoding="utf-8", xml_declaration=True) + b"\n"
