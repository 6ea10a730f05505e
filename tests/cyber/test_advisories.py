"""Advisories: draft, review by a second analyst, publication, revision, feed, deliveries."""

from __future__ import annotations

import time

import feedparser
from fastapi.testclient import TestClient
from sqlalchemy import select

from tests.cyber.helpers import ADVISORY, analysts
from tests.factories import login
from tocsin.core.auth import Role
from tocsin.core.db import session_scope
from tocsin.cyber.models import CyberAdvisoryVersion, CyberMailOutbox

API = "/api/v1/cyber/advisories"


def _publish(client: TestClient, author: dict[str, str], reviewer: dict[str, str],
             body: dict[str, object] | None = None) -> str:
    created = client.post(API, json={**ADVISORY, **(body or {})}, headers=author)
    assert created.status_code == 201, created.text
    advisory_id = created.json()["id"]
    assert client.post(f"{API}/{advisory_id}/submit", headers=author).status_code == 200
    approved = client.post(f"{API}/{advisory_id}/approve", json={}, headers=reviewer)
    assert approved.status_code == 200, approved.text
    return str(advisory_id)


def test_two_person_rule_and_revisions_keep_versions(client: TestClient) -> None:
    alice, bob = analysts(client)
    created = client.post(API, json=ADVISORY, headers=alice).json()
    advisory_id = created["id"]
    assert created["state"] == "draft"
    # Not public while a draft.
    assert client.get("/api/v1/cyber/public/advisories").json() == []
    assert client.post(f"{API}/{advisory_id}/approve", json={}, headers=bob).status_code == 409
    client.post(f"{API}/{advisory_id}/submit", headers=alice)
    own = client.post(f"{API}/{advisory_id}/approve", json={}, headers=alice)
    assert own.status_code == 403 and "second analyst" in own.json()["error"]["message"]
    assert client.put(f"{API}/{advisory_id}", json=ADVISORY, headers=alice).status_code == 409
    published = client.post(f"{API}/{advisory_id}/approve", json={"note": "ok"}, headers=bob)
    assert published.status_code == 200
    assert published.json()["published_version"] == 1

    # Revision: a new draft version; the public still sees version 1 until it is approved.
    revised = client.put(f"{API}/{advisory_id}", json={**ADVISORY, "title": "Mise à jour : "
                                                       "vague de défigurations"}, headers=bob)
    assert revised.json()["draft_version"] == 2
    public = client.get("/api/v1/cyber/public/advisories").json()
    assert public[0]["version"] == 1 and public[0]["title"] == ADVISORY["title"]
    assert not {"author", "reviewer", "review_note", "incident_ids"} & set(public[0])
    client.post(f"{API}/{advisory_id}/submit", headers=bob)
    sent_back = client.post(f"{API}/{advisory_id}/send-back", json={"note": "préciser"},
                            headers=alice)
    assert sent_back.json()["draft"]["review_note"] == "préciser"
    client.post(f"{API}/{advisory_id}/submit", headers=bob)
    assert client.post(f"{API}/{advisory_id}/approve", json={}, headers=bob).status_code == 403
    assert client.post(f"{API}/{advisory_id}/approve", json={}, headers=alice).status_code == 200
    versions = client.get(f"{API}/{advisory_id}/versions", headers=alice).json()
    assert [(v["version"], v["author"] != v["reviewer"]) for v in versions] == [
        (1, True), (2, True)]
    assert versions[0]["title"] == ADVISORY["title"]
    public = client.get("/api/v1/cyber/public/advisories").json()
    assert public[0]["version"] == 2


def test_atom_feed_is_valid_and_lists_only_clear_advisories(client: TestClient) -> None:
    alice, bob = analysts(client)
    _publish(client, alice, bob)
    _publish(client, alice, bob, {"title": "Avis réservé aux abonnés", "tlp": "green"})
    response = client.get("/cyber/advisories.atom")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("application/atom+xml")
    parsed = feedparser.parse(response.content)
    assert not parsed.bozo, parsed.bozo_exception
    assert parsed.version == "atom10"
    assert [e.title for e in parsed.entries] == [ADVISORY["title"]]
    assert parsed.entries[0].id.startswith("urn:uuid:")


def test_subscribers_get_a_mail_in_the_outbox(client: TestClient) -> None:
    alice, bob = analysts(client)
    org = login(client, Role.organisation)
    other = login(client, Role.organisation)
    sub = client.post("/api/v1/cyber/subscriptions", headers=org, json={
        "sectors": ["local_authority"], "regions": ["FR-IDF"], "email": "rssi@ville.example.fr"})
    assert sub.status_code == 201, sub.text
    client.post("/api/v1/cyber/subscriptions", headers=other, json={
        "sectors": ["health"], "email": "rssi@chu.example.fr"})
    bad = client.post("/api/v1/cyber/subscriptions", headers=org, json={
        "push": {"endpoint": "https://evil.example/push", "keys": {
            "p256dh": "B" * 40, "auth": "A" * 16}}})
    assert bad.status_code == 422 and "not in the allowed list" in bad.text
    assert client.post("/api/v1/cyber/subscriptions", headers=org, json={}).status_code == 422
    advisory_id = _publish(client, alice, bob)
    runtime = client.app.state.runtime  # type: ignore[attr-defined]
    deadline = time.monotonic() + 10
    mails: list[tuple[str, str]] = []
    while time.monotonic() < deadline and not mails:
        with session_scope(runtime.sessions) as s:
            mails = [(m.recipient, m.subject) for m in s.scalars(
                select(CyberMailOutbox).where(CyberMailOutbox.advisory_id == advisory_id))]
        time.sleep(0.1)
    assert mails == [("rssi@ville.example.fr",
                      f"[Tocsin] Avis de sécurité : {ADVISORY['title']}")]
    assert len(client.get("/api/v1/cyber/subscriptions", headers=org).json()) == 1


def test_bad_advisories_are_refused(client: TestClient) -> None:
    alice, _ = analysts(client)
    for body in ({"title": ""}, {"tlp": "red"}, {"sectors": ["space"]},
                 {"incident_ids": ["nope"]}, {"indicator_ids": [999]}):
        response = client.post(API, json={**ADVISORY, **body}, headers=alice)
        assert response.status_code == 422, (body, response.text)
    assert client.get(API, headers=alice).json() == []
    assert client.post(f"{API}/nope/submit", headers=alice).status_code == 404


def test_control_characters_are_refused_and_never_break_the_feed(client: TestClient) -> None:
    """Issue 19 (low): a title with a control character made the Atom feed a 500 for good."""
    alice, bob = analysts(client)
    for field, value in (("title", "Avis\x07urgent"), ("title", "Avis\nBcc: x@evil.example"),
                         ("summary", "Résumé\x1b[31m"), ("actions", "Faire\x00ceci")):
        refused = client.post(API, json={**ADVISORY, field: value}, headers=alice)
        assert refused.status_code == 422, (field, refused.text)
        assert field in refused.text and "U+" in refused.text
    assert client.get(API, headers=alice).json() == []
    # Text fields keep tab and line breaks.
    advisory_id = _publish(client, alice, bob, {"summary": "Ligne 1\n\tLigne 2\r\nLigne 3"})
    # A title stored before the check (or by another path) must not break the feed either.
    runtime = client.app.state.runtime  # type: ignore[attr-defined]
    with session_scope(runtime.sessions) as s:
        version = s.scalars(select(CyberAdvisoryVersion).where(
            CyberAdvisoryVersion.advisory_id == advisory_id)).one()
        version.title = "Avis\x07 \x1bpiégé\x0c"
        version.exposed = "Tous\x0b"
    response = client.get("/cyber/advisories.atom")
    assert response.status_code == 200, response.text
    parsed = feedparser.parse(response.content)
    assert not parsed.bozo, parsed.bozo_exception
    assert [e.title for e in parsed.entries] == ["Avis piégé"]
    assert "Ligne 1\n\tLigne 2" in parsed.entries[0].content[0].value


def test_a_stored_title_never_breaks_a_mail_subject() -> None:
    from tocsin.cyber import delivery

    assert delivery._one_line("Avis\r\nBcc: x@evil.example\x00") == "Avis  Bcc: x@evil.example "
