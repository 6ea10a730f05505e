"""The persons API end to end, in both modes: post, search, notes, contacts, PFIF, duplicates."""

from __future__ import annotations

import datetime as dt
from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import func, select

from tests.factories import login
from tests.persons.helpers import sample
from tocsin.core.audit.models import AuditEntry
from tocsin.core.auth.roles import Role
from tocsin.core.db import session_scope, utcnow
from tocsin.persons import pfif
from tocsin.persons.models import DuplicateProposal, Note, Person, PersonSearchKey, PersonSearchTerm
from tocsin.retention import purge_all

PERSON = {
    "full_name": "Hélène Gauthier",
    "given_name": "Hélène",
    "family_name": "Gauthier",
    "age": "30-35",
    "home_city": "Paris",
    "description": "Vue au Bataclan vers 21 h 40, manteau rouge.",
    "author_name": "Sa sœur",
    "author_email": "soeur@example.fr",
    "author_phone": "06 12 34 56 78",
}


def count(client: TestClient, model: Any) -> int:
    runtime = client.app.state.runtime  # type: ignore[attr-defined]
    with session_scope(runtime.sessions) as session:
        return int(session.scalar(select(func.count()).select_from(model)) or 0)


def post_person(client: TestClient, **changes: Any) -> str:
    response = client.post("/api/v1/persons", json={**PERSON, **changes})
    assert response.status_code == 201, response.text
    return str(response.json()["person_record_id"])


def test_post_then_search_with_typo(client: TestClient) -> None:
    record_id = post_person(client)
    assert record_id.startswith("127.0.0.1:8000/person.")
    response = client.get("/api/v1/persons/search", params={"q": "helene gautier", "limit": 5})
    assert response.status_code == 200
    [hit] = response.json()["results"]
    assert hit["person_record_id"] == record_id and hit["full_name"] == "Hélène Gauthier"
    assert 0.9 <= hit["score"] <= 1
    assert "author_email" not in hit and "author_phone" not in hit


def test_public_record_hides_contacts_and_contacts_are_audited(client: TestClient) -> None:
    record_id = post_person(client)
    note = client.post("/api/v1/persons/notes", json={
        "person_record_id": record_id, "author_name": "Un voisin", "status": "believed_alive",
        "text": "Je l'ai vue à l'hôpital Saint-Louis.", "phone_of_found_person": "0700000000",
        "author_made_contact": True,
    })
    assert note.status_code == 201, note.text
    public = client.get(f"/api/v1/persons/records/{record_id}")
    assert public.status_code == 200
    body = public.text
    assert "soeur@example.fr" not in body and "0700000000" not in body
    assert public.json()["notes"][0]["status"] == "believed_alive"
    search = client.get("/api/v1/persons/search", params={"q": "Helene Gauthier"}).json()
    assert search["results"][0]["latest_status"] == "believed_alive"

    headers = login(client, Role.dispatcher)
    missing_reason = client.get(f"/api/v1/persons/contacts/{record_id}", headers=headers)
    assert missing_reason.status_code == 422
    before = count(client, AuditEntry)
    contacts = client.get(f"/api/v1/persons/contacts/{record_id}", headers=headers,
                          params={"reason": "rappel de la famille"})
    assert contacts.status_code == 200
    assert contacts.json()["author_email"] == "soeur@example.fr"
    assert contacts.json()["notes"][0]["phone_of_found_person"] == "0700000000"
    assert count(client, AuditEntry) == before + 1
    # Citizens and other roles may not read contacts.
    assert client.get(f"/api/v1/persons/contacts/{record_id}",
                      params={"reason": "curiosité"}).status_code == 401
    assert client.get(f"/api/v1/persons/contacts/{record_id}", params={"reason": "curiosité"},
                      headers=login(client, Role.moderator)).status_code == 403


def test_contact_details_are_sealed_at_rest(client: TestClient) -> None:
    post_person(client)
    runtime = client.app.state.runtime  # type: ignore[attr-defined]
    with runtime.engine.connect() as conn:
        raw = conn.exec_driver_sql("SELECT author_email, author_phone FROM person").one()
    assert b"soeur@example.fr" not in bytes(raw[0]) and b"06 12" not in bytes(raw[1])


def test_bad_input_is_refused_and_stores_nothing(client: TestClient) -> None:
    bad_bodies = [
        {**PERSON, "full_name": ""},
        {**PERSON, "age": "old"},
        {**PERSON, "sex": "unknown"},
        {**PERSON, "author_email": "not-an-email"},
        {**PERSON, "extra": 1},
        {**PERSON, "full_name": "A\x00B"},
        {**PERSON, "expiry_date": "2001-01-01T00:00:00Z"},
        {**{k: v for k, v in PERSON.items() if k != "author_name"}},
    ]
    for body in bad_bodies:
        response = client.post("/api/v1/persons", json=body)
        assert response.status_code == 422, (body, response.text)
        assert response.json()["error"]["message"]
    record_id = post_person(client)
    notes = [
        ({"person_record_id": "nowhere.org/p.1", "author_name": "x", "text": "t"}, 404),
        ({"person_record_id": record_id, "author_name": "x", "text": "t", "status": "gone"}, 422),
        ({"person_record_id": record_id, "author_name": "x", "text": "t",
          "linked_person_record_id": record_id}, 422),
        ({"person_record_id": record_id, "author_name": "x", "text": "t",
          "linked_person_record_id": "nowhere.org/p.2"}, 404),
    ]
    for body, status in notes:
        response = client.post("/api/v1/persons/notes", json=body)
        assert response.status_code == status, (body, response.text)
    assert count(client, Person) == 1 and count(client, Note) == 0
    assert client.get("/api/v1/persons/search", params={"q": ""}).status_code == 422
    assert client.get("/api/v1/persons/search", params={"q": "x", "limit": 0}).status_code == 422
    assert client.get("/api/v1/persons/records/nowhere.org/1").status_code == 404


def _import(client: TestClient, data: bytes, headers: dict[str, str], **params: str) -> Any:
    return client.post("/api/v1/persons/import", content=data, params=params,
                       headers={**headers, "Content-Type": "application/xml"})


def test_import_samples_and_round_trip(client: TestClient) -> None:
    headers = login(client, Role.authority)
    first = _import(client, sample("test.pfif-1.2.xml"), headers)
    assert first.status_code == 200, first.text
    report = first.json()
    assert report["version"] == "1.2" and report["persons_created"] == 1
    assert report["notes_created"] == 4 and report["rejected"] == []
    # The note sample: one note already held, one for a person we do not have.
    notes = _import(client, sample("test.pfif-1.2-note.xml"), headers).json()
    assert notes["unchanged"] == 1 and notes["notes_created"] == 0
    [refused] = notes["rejected"]
    assert refused["record_id"] == "test.google.com/note.31095"
    assert "unknown person 'test.google.com/person.21010'" in refused["reasons"][0]

    exported = client.get("/api/v1/persons/export", headers=headers)
    assert exported.status_code == 200 and exported.headers["content-type"].startswith(
        "application/xml")
    again = pfif.parse(exported.content)
    original = pfif.parse(sample("test.pfif-1.2.xml"))
    assert again.version == "1.4"
    assert again.persons == original.persons  # every field, entry_date included
    assert sorted(again.notes, key=lambda n: n["note_record_id"]) == sorted(
        original.notes, key=lambda n: n["note_record_id"])
    # Re-importing our own export changes nothing.
    same = _import(client, exported.content, headers).json()
    assert same["persons_updated"] == 0 and same["notes_created"] == 0 and same["unchanged"] == 5
    assert client.get("/api/v1/persons/export").status_code == 401


def test_bad_record_is_reported_and_good_ones_kept(client: TestClient) -> None:
    headers = login(client, Role.admin)
    response = _import(client, sample("test.pfif-1.2-badrecord.xml"), headers,
                       domain="test.google.com")
    assert response.status_code == 200, response.text
    report = response.json()
    assert report["persons_created"] == 1 and report["notes_created"] == 4
    [bad] = report["rejected"]
    assert bad["record_id"] == "foo.google.com/person.666"
    assert "not in the declared domain 'test.google.com'" in bad["reasons"][0]
    assert count(client, Person) == 1


def test_hostile_or_broken_documents_change_nothing(client: TestClient) -> None:
    headers = login(client, Role.authority)
    xxe = (b'<?xml version="1.0"?><!DOCTYPE r [<!ENTITY x SYSTEM "file:///etc/passwd">]>'
           b'<pfif:pfif xmlns:pfif="http://zesty.ca/pfif/1.4">&x;</pfif:pfif>')
    for data in (xxe, b"<not xml", b"<root/>"):
        response = _import(client, data, headers)
        assert response.status_code == 422, response.text
        assert "not a PFIF document" in response.json()["error"]["message"]
    only_bad = (b'<pfif:pfif xmlns:pfif="http://zesty.ca/pfif/1.4"><pfif:person>'
                b"<pfif:person_record_id>x.org/1</pfif:person_record_id></pfif:person>"
                b"</pfif:pfif>")
    response = _import(client, only_bad, headers)
    assert response.status_code == 422
    assert "full_name is required" in str(response.json()["error"]["details"])
    own = (b'<pfif:pfif xmlns:pfif="http://zesty.ca/pfif/1.4"><pfif:person>'
           b"<pfif:person_record_id>127.0.0.1:8000/person.1</pfif:person_record_id>"
           b"<pfif:full_name>X</pfif:full_name>"
           b"<pfif:source_date>2020-01-01T00:00:00Z</pfif:source_date></pfif:person>"
           b"</pfif:pfif>")
    response = _import(client, own, headers)
    assert response.status_code == 422 and "own domain" in response.text
    assert count(client, Person) == 0 and count(client, PersonSearchKey) == 0


def test_duplicate_proposed_then_linked_never_merged(client: TestClient) -> None:
    first = post_person(client)
    second = post_person(client, full_name="Helene Gautier", author_name="Un ami",
                         given_name=None, family_name=None)
    headers = login(client, Role.moderator)
    proposals = client.get("/api/v1/persons/duplicates", headers=headers).json()
    [proposal] = proposals
    assert {proposal["person_record_id"], proposal["other_record_id"]} == {first, second}
    assert count(client, Person) == 2  # nothing merged
    linked = client.post(f"/api/v1/persons/duplicates/{proposal['id']}/link", headers=headers)
    assert linked.status_code == 200 and linked.json()["status"] == "linked"
    notes = client.get(f"/api/v1/persons/records/{first}").json()["notes"]
    assert notes[0]["linked_person_record_id"] == second
    again = client.post(f"/api/v1/persons/duplicates/{proposal['id']}/dismiss", headers=headers)
    assert again.status_code == 409
    assert client.get("/api/v1/persons/duplicates", headers=headers).json() == []
    assert client.post("/api/v1/persons/duplicates/999/link", headers=headers).status_code == 404


def test_purge_deletes_expired_records_with_notes_and_index(client: TestClient) -> None:
    soon = (utcnow() + dt.timedelta(hours=1)).isoformat()
    record_id = post_person(client, expiry_date=soon)
    client.post("/api/v1/persons/notes", json={
        "person_record_id": record_id, "author_name": "x", "text": "vue"})
    kept = post_person(client, full_name="Jean Valjean", author_name="Fantine",
                       given_name=None, family_name=None)
    runtime = client.app.state.runtime  # type: ignore[attr-defined]
    with session_scope(runtime.sessions) as session:
        counts = purge_all(session, utcnow() + dt.timedelta(hours=2))
        terms = set(session.scalars(select(PersonSearchTerm.term)))
    assert counts["person"] == 1 and counts["person_note"] == 1
    assert counts["person_search_term"] == 2 and terms == {"jean", "valjean"}
    assert count(client, Person) == 1 and count(client, DuplicateProposal) == 0
    assert client.get(f"/api/v1/persons/records/{record_id}").status_code == 404
    hits = client.get("/api/v1/persons/search", params={"q": "Valjean"}).json()["results"]
    assert [h["person_record_id"] for h in hits] == [kept]
