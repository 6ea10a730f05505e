"""PFIF parsing and writing: shipped samples, 1.2 mapping, refusals, hostile XML, round trip."""

from __future__ import annotations

import datetime as dt

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.persons.helpers import sample
from tocsin.persons import pfif


def test_person_sample_12_maps_onto_14() -> None:
    parsed = pfif.parse(sample("test.pfif-1.2.xml"))
    assert parsed.version == "1.2" and parsed.errors == []
    [person] = parsed.persons
    assert person["person_record_id"] == "test.google.com/person.21009"
    assert person["full_name"] == "_test_first_name _test_last_name"
    assert person["given_name"] == "_test_first_name"
    assert person["family_name"] == "_test_last_name"
    assert person["home_city"] == "_test_home_city"  # whitespace stripped
    assert person["description"].startswith("description:")
    assert person["source_date"] == dt.datetime(2000, 1, 1, tzinfo=dt.UTC)
    assert person["date_of_birth"] == "1970-01" and person["age"] == "35-45"
    assert len(parsed.notes) == 4
    first = parsed.notes[0]
    assert first["author_made_contact"] is False and first["status"] == "believed_missing"
    assert first["linked_person_record_id"] == "test.google.com/person.999"
    # Nested notes without person_record_id belong to their person.
    assert {n["person_record_id"] for n in parsed.notes} == {person["person_record_id"]}
    assert parsed.notes[1]["author_made_contact"] is True
    assert parsed.notes[2]["author_name"] is None  # tolerated, see pfif._note


def test_note_sample_12() -> None:
    parsed = pfif.parse(sample("test.pfif-1.2-note.xml"))
    assert [n["note_record_id"] for n in parsed.notes] == [
        "test.google.com/note.27009", "test.google.com/note.31095"]
    assert parsed.notes[1]["status"] == "is_note_author"


def test_bad_record_sample_parses_both_persons() -> None:
    parsed = pfif.parse(sample("test.pfif-1.2-badrecord.xml"))
    ids = [p["person_record_id"] for p in parsed.persons]
    assert ids == ["test.google.com/person.21009", "foo.google.com/person.666"]
    # Its badness is the domain, judged at import time (see test_api).
    assert pfif.record_domain(ids[1]) == "foo.google.com"


def _doc(body: str, version: str = "1.4") -> bytes:
    return (f'<?xml version="1.0"?><pfif:pfif xmlns:pfif="http://zesty.ca/pfif/{version}">'
            f"{body}</pfif:pfif>").encode()


def test_record_errors_list_every_reason() -> None:
    parsed = pfif.parse(_doc(
        "<pfif:person><pfif:person_record_id>x.org/1</pfif:person_record_id>"
        "<pfif:sex>yes</pfif:sex><pfif:source_date>yesterday</pfif:source_date></pfif:person>"
        "<pfif:note><pfif:note_record_id>x.org/n1</pfif:note_record_id>"
        "<pfif:person_record_id>x.org/1</pfif:person_record_id><pfif:text>t</pfif:text>"
        "<pfif:source_date>2020-01-01T00:00:00Z</pfif:source_date>"
        "<pfif:status>kidnapped</pfif:status></pfif:note>"
    ))
    assert parsed.persons == [] and parsed.notes == []
    person, note = parsed.errors
    text = " | ".join(person.reasons)
    assert "sex must be" in text and "source_date" in text and "full_name is required" in text
    assert note.record_type == "note" and "unknown note status 'kidnapped'" in note.reasons[0]


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"", "empty"),
        (b"<pfif", "not well-formed"),
        (b"<root/>", "root element"),
        (b'<p:pfif xmlns:p="http://zesty.ca/pfif/1.1"/>', "not supported"),
        (b'<?xml version="1.0"?><!DOCTYPE r [<!ENTITY x SYSTEM "file:///etc/passwd">]>'
         b'<pfif:pfif xmlns:pfif="http://zesty.ca/pfif/1.4">&x;</pfif:pfif>', "hostile"),
        (b'<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol">'
         b'<!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">'
         b'<!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">]>'
         b"<lolz>&lol3;</lolz>", "hostile"),
    ],
    ids=["empty", "malformed", "not-pfif", "pfif-1.1", "xxe", "billion-laughs"],
)
def test_documents_refused_with_reason(data: bytes, message: str) -> None:
    with pytest.raises(pfif.PfifError, match=message):
        pfif.parse(data)


def test_round_trip_of_samples_is_lossless() -> None:
    for name in ("test.pfif-1.2.xml", "test.pfif-1.2-badrecord.xml"):
        first = pfif.parse(sample(name))
        notes: dict[str, list[dict[str, object]]] = {}
        for note in first.notes:
            notes.setdefault(str(note["person_record_id"]), []).append(note)
        again = pfif.parse(pfif.write(first.persons, notes))
        assert again.version == "1.4" and again.errors == []
        assert again.persons == first.persons and again.notes == first.notes


text_values = st.text(
    alphabet=st.characters(blacklist_categories=("Cs", "Cc"),
                           blacklist_characters="\ufffe\uffff"), min_size=1, max_size=40
).map(str.strip).filter(bool)
dates = st.datetimes(min_value=dt.datetime(1900, 1, 1), max_value=dt.datetime(2100, 1, 1),
                     timezones=st.just(dt.UTC)).map(lambda d: d.replace(microsecond=0))


@settings(max_examples=60, suppress_health_check=[HealthCheck.too_slow], deadline=None)
@given(full_name=text_values, description=text_values, city=text_values, source=dates,
       status=st.sampled_from(sorted(pfif.STATUSES)), contact=st.booleans(), text=text_values)
def test_round_trip_of_any_record(full_name: str, description: str, city: str,
                                  source: dt.datetime, status: str, contact: bool,
                                  text: str) -> None:
    person = {name: None for name in pfif.PERSON_FIELDS}
    person.update(person_record_id="example.org/p.1", full_name=full_name,
                  description=description, home_city=city, source_date=source,
                  sex="other", age="30-40")
    note = {name: None for name in pfif.NOTE_FIELDS}
    note.update(note_record_id="example.org/n.1", person_record_id="example.org/p.1",
                source_date=source, status=status, author_made_contact=contact, text=text,
                author_name=full_name)
    parsed = pfif.parse(pfif.write([person], {"example.org/p.1": [note]}))
    assert parsed.errors == [] and parsed.persons == [person] and parsed.notes == [note]


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=400))
def test_parser_never_crashes_on_bytes(data: bytes) -> None:
    try:
        parsed = pfif.parse(data)
    except pfif.PfifError:
        return
    assert isinstance(parsed, pfif.ParsedPfif)


FIELD = st.sampled_from([*pfif.PERSON_FIELDS, "first_name", "other", "bogus", "note"])


@settings(max_examples=200, deadline=None)
@given(st.lists(st.tuples(FIELD, st.text(max_size=30)), max_size=12),
       st.sampled_from(pfif.VERSIONS))
def test_parser_never_crashes_on_pfif_shaped_input(
    fields: list[tuple[str, str]], version: str
) -> None:
    from xml.sax.saxutils import escape

    body = "".join(f"<pfif:{n}>{escape(v)}</pfif:{n}>" for n, v in fields)
    try:
        parsed = pfif.parse(_doc(f"<pfif:person>{body}</pfif:person>", version))
    except pfif.PfifError:
        return
    for error in parsed.errors:
        assert error.reasons and all(isinstance(r, str) for r in error.reasons)
