"""TAXII 2.1 with a real client (taxii2-client) over HTTP, TLP rules, STIX validity, bad input."""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable, Iterator
from typing import Any

import httpx
import pytest
import stix2
from fastapi import FastAPI
from sqlalchemy import func, select
from stix2validator import ValidationOptions, validate_instance
from taxii2client.v21 import Server, as_pages

from tests.factories import PASSWORD, make_user
from tests.served import serve_in_thread as serve
from tocsin.core.db import session_scope, utcnow
from tocsin.cyber import stix
from tocsin.cyber.models import CyberIndicator, CyberStixObject

TAXII = "application/taxii+json;version=2.1"
OWN = "3d6c7a58-5d8f-4b0a-9a51-5f1f4f7e2a01"
EXCHANGE = "8b1e0c3d-2f6a-4d7e-b5c9-0a4e6f3d9b12"
# Bundles are validated in the worker's process pool: its first job starts the pool and imports
# the validator, seconds on a loaded machine, past httpx's default of 5 s.
SLOW = 60


def post(url: str, **kwargs: Any) -> httpx.Response:
    return httpx.post(url, timeout=SLOW, **kwargs)


@pytest.fixture
def desk(make_app: Callable[..., FastAPI]) -> Iterator[tuple[FastAPI, str]]:
    app = make_app()
    with serve(app) as base:
        with session_scope(app.state.runtime.sessions) as session:
            for name, role in (("cert-be", "partner"), ("cert-de", "partner"),
                               ("analyste.a", "analyst"), ("analyste.b", "analyst")):
                make_user(session, role=role, username=name)
        yield app, base


def _token(base: str, name: str) -> dict[str, str]:
    r = httpx.post(f"{base}/api/v1/auth/token", data={"username": name, "password": PASSWORD})
    return {"Authorization": f"Bearer {r.json()['access_token']}"}


def _indicator(base: str, analyst: dict[str, str], value: str, tlp: str,
               share: list[str] | None = None) -> None:
    r = httpx.post(f"{base}/api/v1/cyber/indicators", headers=analyst,
                   json={"value": value, "tlp": tlp, "share_with": share or []})
    assert r.status_code == 201, r.text
    # Confirmed by a second analyst: the one who entered it may not (four eyes).
    r = httpx.patch(f"{base}/api/v1/cyber/indicators/{r.json()['id']}",
                    headers=_token(base, "analyste.b"), json={"status": "confirmed"})
    assert r.status_code == 200, r.text


def _values(objects: list[dict[str, Any]]) -> set[str]:
    return {str(o.get("pattern")) for o in objects if o["type"] == "indicator"}


def _bundle(n: int) -> dict[str, Any]:
    indicators = [stix2.Indicator(
        name=f"C2 {i}", description="partner feed", indicator_types=["malicious-activity"],
        pattern=f"[ipv4-addr:value = '198.51.100.{i}']", pattern_type="stix",
        valid_from="2026-11-13T20:00:00Z", object_marking_refs=[stix2.TLP_GREEN])
        for i in range(1, n + 1)]
    return json.loads(stix2.Bundle(*indicators, stix2.TLP_GREEN).serialize())


def test_taxii_client_discovers_adds_and_pages(desk: tuple[FastAPI, str]) -> None:
    app, base = desk
    server = Server(f"{base}/taxii2/", user="cert-be", password=PASSWORD)
    assert server.title == "Tocsin TAXII 2.1"
    root = server.api_roots[0]
    assert root.versions == [TAXII]
    collections = {c.id: c for c in root.collections}
    assert set(collections) == {OWN, EXCHANGE}
    exchange = collections[EXCHANGE]
    assert exchange.can_write and not collections[OWN].can_write

    status = exchange.add_objects(_bundle(5))
    assert status.status == "complete" and status.success_count == 6
    pages = list(as_pages(exchange.get_objects, per_request=2))
    assert len(pages) == 3 and [p["more"] for p in pages] == [True, True, False]
    ids = [o["id"] for p in pages for o in p["objects"]]
    assert len(ids) == len(set(ids)) == 6
    one = exchange.get_object(ids[0])
    assert one["objects"][0]["id"] == ids[0]

    # The headers and added_after of §5.3, checked on the raw answer.
    auth = ("cert-be", PASSWORD)
    url = f"{base}/taxii2/tocsin/collections/{EXCHANGE}/objects/"
    first = httpx.get(url, params={"limit": 2}, auth=auth, headers={"Accept": TAXII})
    assert first.headers["content-type"] == TAXII
    assert first.headers["X-TAXII-Date-Added-First"].endswith("Z")
    last = first.headers["X-TAXII-Date-Added-Last"]
    later = httpx.get(url, params={"added_after": last}, auth=auth, headers={"Accept": TAXII})
    assert later.json() == {"more": False}
    # The partner's green indicators joined the desk's list, unreviewed.
    with session_scope(app.state.runtime.sessions) as session:
        rows = session.scalars(select(CyberIndicator)).all()
        assert {(r.value, r.status, r.tlp) for r in rows} == {
            (f"198.51.100.{i}", "new", "green") for i in range(1, 6)}


def test_tlp_red_never_leaves_and_amber_only_for_its_partner(desk: tuple[FastAPI, str]) -> None:
    _, base = desk
    analyst = _token(base, "analyste.a")
    _indicator(base, analyst, "red-only[.]example", "red")
    _indicator(base, analyst, "amber-be[.]example", "amber", ["cert-be"])
    _indicator(base, analyst, "green[.]example", "green")
    _indicator(base, analyst, "hxxp://clear[.]example/x", "clear")
    # A green indicator turned red later is withdrawn from every answer.
    _indicator(base, analyst, "later-red[.]example", "green")
    rows = httpx.get(f"{base}/api/v1/cyber/indicators?q=later-red", headers=analyst).json()
    httpx.patch(f"{base}/api/v1/cyber/indicators/{rows[0]['id']}", headers=analyst,
                json={"tlp": "red"})
    assert httpx.post(f"{base}/api/v1/cyber/indicators", headers=analyst, json={
        "value": "x[.]example", "tlp": "amber", "share_with": ["nobody"]}).status_code == 422

    def seen(user: str) -> str:
        server = Server(f"{base}/taxii2/", user=user, password=PASSWORD)
        own = next(c for c in server.api_roots[0].collections if c.id == OWN)
        objects = [o for p in as_pages(own.get_objects, per_request=3) for o in p["objects"]]
        return json.dumps(objects)

    be, de = seen("cert-be"), seen("cert-de")
    staff = seen("analyste.b")
    export = httpx.get(f"{base}/api/v1/cyber/stix/export", headers=analyst)
    export_be = httpx.get(f"{base}/api/v1/cyber/stix/export?partner=cert-be", headers=analyst)
    for text in (be, de, staff, export.text, export_be.text):
        assert "red-only.example" not in text and "later-red.example" not in text
        assert stix2.TLP_RED.id not in text
        assert "green.example" in text and "clear.example" in text
    assert "amber-be.example" in be and "amber-be.example" in export_be.text
    assert "amber-be.example" not in de and "amber-be.example" not in export.text


def test_every_exported_object_is_valid_stix(desk: tuple[FastAPI, str]) -> None:
    _, base = desk
    analyst, second = _token(base, "analyste.a"), _token(base, "analyste.b")
    for value in ("hxxp://evil[.]com/a.js", "evil[.]com", "203.0.113[.]7", "2001:db8::7",
                  "phish[@]evil[.]com", "d41d8cd98f00b204e9800998ecf8427e",
                  "da39a3ee5e6b4b0d3255bfef95601890afd80709",
                  "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"):
        _indicator(base, analyst, value, "green")
    ids = [i["id"] for i in httpx.get(f"{base}/api/v1/cyber/indicators",
                                       headers=analyst).json()]
    advisory = httpx.post(f"{base}/api/v1/cyber/advisories", headers=analyst, json={
        "title": "Campagne evil.com", "summary": "Hameçonnage ciblé.", "exposed": "Tous.",
        "actions": "Bloquer les indicateurs.", "indicator_ids": ids}).json()
    httpx.post(f"{base}/api/v1/cyber/advisories/{advisory['id']}/submit", headers=analyst)
    approved = httpx.post(f"{base}/api/v1/cyber/advisories/{advisory['id']}/approve",
                          headers=second, json={})
    assert approved.status_code == 200
    bundle = httpx.get(f"{base}/api/v1/cyber/stix/export", headers=analyst).json()
    types = {o["type"] for o in bundle["objects"]}
    assert {"indicator", "observed-data", "report", "identity", "marking-definition"} <= types
    options = ValidationOptions(version="2.1")
    for obj in bundle["objects"]:
        result = validate_instance(obj, options)
        assert result.is_valid, (obj["id"], [str(e) for e in result.errors])
    assert validate_instance(bundle, options).is_valid
    report = next(o for o in bundle["objects"] if o["type"] == "report")
    assert len(report["object_refs"]) == 8


def test_bad_taxii_requests_get_taxii_errors_and_store_nothing(
        desk: tuple[FastAPI, str]) -> None:
    app, base = desk
    auth = ("cert-be", PASSWORD)
    objects = f"{base}/taxii2/tocsin/collections/{EXCHANGE}/objects/"
    post_headers = {"Accept": TAXII, "Content-Type": TAXII}

    def error(response: httpx.Response, status: int) -> dict[str, Any]:
        assert response.status_code == status, response.text
        assert response.headers["content-type"] == TAXII
        body = response.json()
        assert body["http_status"] == str(status) and body["title"]
        return dict(body)

    # No credentials: a TAXII error whose description and challenge both ask for HTTP Basic.
    anonymous = httpx.get(f"{base}/taxii2/", headers={"Accept": TAXII})
    assert "HTTP Basic" in error(anonymous, 401)["description"]
    assert anonymous.headers["www-authenticate"].startswith("Basic")
    error(httpx.get(f"{base}/taxii2/", auth=("cert-be", "wrong-password-1"),
                    headers={"Accept": TAXII}), 401)
    error(httpx.get(f"{base}/taxii2/", auth=auth, headers={"Accept": "application/json"}), 406)
    error(httpx.get(f"{base}/taxii2/tocsin/collections/nope/objects/", auth=auth,
                    headers={"Accept": TAXII}), 404)
    error(httpx.get(objects, params={"next": "abc"}, auth=auth, headers={"Accept": TAXII}), 400)
    error(httpx.get(objects, params={"limit": 0}, auth=auth, headers={"Accept": TAXII}), 400)
    error(post(objects, auth=auth, content=json.dumps(_bundle(1)),
                     headers={"Accept": TAXII, "Content-Type": "application/json"}), 415)
    error(httpx.post(f"{base}/taxii2/tocsin/collections/{OWN}/objects/", auth=auth,
                     content=json.dumps(_bundle(1)), headers=post_headers), 403)
    bad = _bundle(2)
    bad["objects"][0]["pattern"] = "[ipv4-addr:value = "  # not a pattern
    refused = error(post(objects, auth=auth, content=json.dumps(bad),
                               headers=post_headers), 400)
    assert "STIX error" in refused["description"]
    no_type = {"objects": [{"id": "indicator--x"}]}
    error(post(objects, auth=auth, content=json.dumps(no_type), headers=post_headers), 400)
    error(post(objects, auth=auth, content=b"{not json", headers=post_headers), 400)
    error(post(objects, auth=auth, content=json.dumps(_bundle(501)),
                     headers=post_headers), 413)
    # Refused by the body-limit middleware, before any route: still TAXII error objects.
    error(post(objects, auth=auth, content=b"x" * 1_000_001, headers=post_headers), 413)
    error(post(objects, auth=auth, content=b"<html>",
                     headers={"Accept": TAXII, "Content-Type": "text/html"}), 415)
    error(httpx.get(f"{base}/taxii2/tocsin/status/nope/", auth=auth,
                    headers={"Accept": TAXII}), 404)
    with session_scope(app.state.runtime.sessions) as session:
        assert session.scalar(select(func.count()).select_from(CyberStixObject)) == 0
        assert session.scalar(select(func.count()).select_from(CyberIndicator)) == 0
    # A dispatcher's valid account is still refused, exactly as a wrong password would be (a
    # distinct 403 told a guesser the password was right: tests/cyber/test_taxii_auth.py).
    with session_scope(app.state.runtime.sessions) as session:
        make_user(session, role="dispatcher", username="operateur.1")
    error(httpx.get(f"{base}/taxii2/", auth=("operateur.1", PASSWORD),
                    headers={"Accept": TAXII}), 401)


def test_analyst_import_refuses_invalid_stix(desk: tuple[FastAPI, str]) -> None:
    _, base = desk
    analyst = _token(base, "analyste.a")
    url = f"{base}/api/v1/cyber/stix/import?source=cert-fr"
    good = post(url, headers={**analyst, "Content-Type": "application/stix+json"},
                      content=json.dumps(_bundle(2)))
    assert good.status_code == 200, good.text
    assert good.json() == {"stored": 3, "indicators": 2, "skipped": []}
    bad = _bundle(1)
    del bad["objects"][0]["pattern"]
    refused = post(url, headers={**analyst, "Content-Type": "application/stix+json"},
                         content=json.dumps(bad))
    assert refused.status_code == 400 and refused.json()["error"]["code"] == "invalid_stix"


def test_partner_submissions_keep_their_tlp(desk: tuple[FastAPI, str]) -> None:
    _, base = desk
    red = stix2.Indicator(name="red", pattern="[domain-name:value = 'red-partner.example']",
                          pattern_type="stix", valid_from="2026-11-13T20:00:00Z",
                          object_marking_refs=[stix2.TLP_RED])
    amber = stix2.Indicator(name="amber", pattern="[domain-name:value = 'amber-de.example']",
                            pattern_type="stix", valid_from="2026-11-13T20:00:00Z",
                            object_marking_refs=[stix2.TLP_AMBER])
    unmarked = stix2.Indicator(name="unmarked", pattern="[domain-name:value = 'plain.example']",
                               pattern_type="stix", valid_from="2026-11-13T20:00:00Z")
    de = Server(f"{base}/taxii2/", user="cert-de", password=PASSWORD)
    exchange = next(c for c in de.api_roots[0].collections if c.id == EXCHANGE)
    bundle = json.loads(stix2.Bundle(red, amber, unmarked, stix2.TLP_RED, stix2.TLP_AMBER)
                        .serialize())
    assert exchange.add_objects(bundle).success_count == 5

    def seen(user: str) -> str:
        server = Server(f"{base}/taxii2/", user=user, password=PASSWORD)
        collection = next(c for c in server.api_roots[0].collections if c.id == EXCHANGE)
        return json.dumps(collection.get_objects().get("objects", []))

    by_de, by_be, by_staff = seen("cert-de"), seen("cert-be"), seen("analyste.a")
    for text in (by_de, by_be, by_staff):
        assert "red-partner.example" not in text
    assert "amber-de.example" in by_de and "plain.example" in by_de
    assert "amber-de.example" not in by_be and "plain.example" not in by_be


def _post(base: str, bundle: dict[str, Any] | bytes, user: str = "cert-be") -> httpx.Response:
    content = bundle if isinstance(bundle, bytes) else json.dumps(bundle).encode()
    return httpx.post(f"{base}/taxii2/tocsin/collections/{EXCHANGE}/objects/",
                      auth=(user, PASSWORD), content=content, timeout=SLOW,
                      headers={"Accept": TAXII, "Content-Type": TAXII})


def test_bundle_is_stored_in_short_batches_with_a_right_status(
        desk: tuple[FastAPI, str], monkeypatch: pytest.MonkeyPatch) -> None:
    app, base = desk
    from tocsin.cyber import exchange as module

    monkeypatch.setattr(module, "BATCH", 4)
    seen: list[int] = []
    store = module.store_batch

    def spy(session: Any, items: Any, **kwargs: Any) -> list[dict[str, Any]]:
        seen.append(len(items))
        return store(session, items, **kwargs)

    monkeypatch.setattr(module, "store_batch", spy)
    bundle = _bundle(10)  # 10 indicators and the TLP:GREEN marking
    r = _post(base, bundle)
    assert r.status_code == 202, r.text
    status = r.json()
    assert seen == [4, 4, 3]  # one transaction each
    assert status["status"] == "complete" and status["total_count"] == 11
    assert status["success_count"] == 11 and status["failure_count"] == 0
    assert {s["message"] for s in status["successes"]} == {"stored"}
    again = httpx.get(f"{base}/taxii2/tocsin/status/{status['id']}/", auth=("cert-be", PASSWORD),
                      headers={"Accept": TAXII}).json()
    assert again["success_count"] == 11 and again["successes"] == status["successes"]
    with session_scope(app.state.runtime.sessions) as session:
        assert session.scalar(select(func.count()).select_from(CyberStixObject)) == 11
        assert session.scalar(select(func.count()).select_from(CyberIndicator)) == 10
    # Sent again: everything is already present, nothing is counted twice.
    repeat = _post(base, bundle).json()
    assert repeat["success_count"] == 11
    assert {s["message"] for s in repeat["successes"]} == {"already present"}
    with session_scope(app.state.runtime.sessions) as session:
        assert session.scalar(select(func.count()).select_from(CyberStixObject)) == 11
        assert set(session.scalars(select(CyberIndicator.count))) == {1}


def test_a_batch_that_fails_leaves_the_rest_as_failures(
        desk: tuple[FastAPI, str], monkeypatch: pytest.MonkeyPatch) -> None:
    app, base = desk
    from sqlalchemy.exc import OperationalError

    from tocsin.cyber import exchange as module

    monkeypatch.setattr(module, "BATCH", 4)
    store = module.store_batch
    calls = []

    def flaky(session: Any, items: Any, **kwargs: Any) -> list[dict[str, Any]]:
        calls.append(len(items))
        if len(calls) == 2:
            raise OperationalError("INSERT", {}, Exception("disk I/O error"))
        return store(session, items, **kwargs)

    monkeypatch.setattr(module, "store_batch", flaky)
    bundle = _bundle(10)
    r = _post(base, bundle)
    assert r.status_code == 202, r.text
    status = r.json()
    assert status["total_count"] == 11
    assert status["success_count"] == 4 and status["failure_count"] == 7
    assert "send the bundle again" in status["failures"][0]["message"]
    with session_scope(app.state.runtime.sessions) as session:
        assert session.scalar(select(func.count()).select_from(CyberStixObject)) == 4
    # Sending it again completes it.
    monkeypatch.setattr(module, "store_batch", store)
    repeat = _post(base, bundle).json()
    assert repeat["failure_count"] == 0 and repeat["success_count"] == 11
    assert [s["message"] for s in repeat["successes"]].count("already present") == 4
    with session_scope(app.state.runtime.sessions) as session:
        assert session.scalar(select(func.count()).select_from(CyberStixObject)) == 11
        assert set(session.scalars(select(CyberIndicator.count))) == {1}


def test_bundles_over_the_limits_are_refused_naming_them(desk: tuple[FastAPI, str]) -> None:
    app, base = desk
    too_many = _post(base, _bundle(500))  # 500 indicators and their marking: 501 objects
    assert too_many.status_code == 413, too_many.text
    assert too_many.headers["content-type"] == TAXII
    assert "at most 500 objects per bundle" in too_many.json()["description"]
    padded = _bundle(2)
    padded["objects"][0]["description"] = "x" * 520_000
    too_big = _post(base, padded)
    assert too_big.status_code == 413, too_big.text
    assert "at most 512000 bytes" in too_big.json()["description"]
    with session_scope(app.state.runtime.sessions) as session:
        assert session.scalar(select(func.count()).select_from(CyberStixObject)) == 0
        assert session.scalar(select(func.count()).select_from(CyberIndicator)) == 0


def _reads(base: str, user: str, collection: str, object_id: str | None = None) -> str:
    """Everything ``user`` can read of a collection: objects (latest and all versions), and
    one object's versions by id (404 counts as nothing)."""
    auth = (user, PASSWORD)
    url = f"{base}/taxii2/tocsin/collections/{collection}/objects/"
    parts = [httpx.get(url, auth=auth, headers={"Accept": TAXII}, params=params).text
             for params in ({}, {"match[version]": "all"})]
    if object_id is not None:
        for params in ({}, {"match[version]": "all"}):
            one = httpx.get(f"{url}{object_id}/", auth=auth, headers={"Accept": TAXII},
                            params=params)
            assert one.status_code in (200, 404), one.text
            parts.append(one.text if one.status_code == 200 else "")
    return "\n".join(parts)


def test_confirming_our_indicator_never_re_marks_a_partners_object(
        desk: tuple[FastAPI, str]) -> None:
    """Issue 19 (high): SCO ids are derived from the value, so a partner's AMBER domain-name had
    the id of ours; confirming ours GREEN re-marked every stored version with that id, the
    partner's too, and another partner then read it with its private note."""
    app, base = desk
    private = stix2.DomainName(value="shared.example", object_marking_refs=[stix2.TLP_AMBER],
                               allow_custom=True, x_partner_note="informateur: M. X")
    bundle = json.loads(stix2.Bundle(private, stix2.TLP_AMBER, allow_custom=True).serialize())
    status = _post(base, bundle, user="cert-de").json()
    assert status["success_count"] == 2, status
    analyst = _token(base, "analyste.a")
    _indicator(base, analyst, "shared[.]example", "green")
    own_ids = {o["id"] for o in stix.indicator_objects(
        CyberIndicator(kind="domain", value="shared.example", count=1, status="confirmed",
                       tlp="green", first_seen_at=utcnow(), last_seen_at=utcnow(),
                       created_at=utcnow()), utcnow())}
    assert private.id in own_ids  # the same id: the class of the finding
    # Turned RED and back to GREEN: every re-marking, still only ours.
    rows = httpx.get(f"{base}/api/v1/cyber/indicators?q=shared", headers=analyst).json()
    for level in ("red", "green"):
        r = httpx.patch(f"{base}/api/v1/cyber/indicators/{rows[0]['id']}", headers=analyst,
                        json={"tlp": level})
        assert r.status_code == 200, r.text
    for collection in (EXCHANGE, OWN):
        be = _reads(base, "cert-be", collection, private.id)
        assert "informateur" not in be, collection
    export = httpx.get(f"{base}/api/v1/cyber/stix/export", headers=analyst).text
    export_be = httpx.get(f"{base}/api/v1/cyber/stix/export?partner=cert-be",
                          headers=analyst).text
    assert "informateur" not in export and "informateur" not in export_be
    # Ours is shared GREEN; the partner's keeps its marking and audience.
    assert "shared.example" in _reads(base, "cert-be", OWN)
    assert "informateur" in _reads(base, "cert-de", EXCHANGE, private.id)
    with session_scope(app.state.runtime.sessions) as session:
        theirs = session.scalars(select(CyberStixObject).where(
            CyberStixObject.stix_id == private.id,
            CyberStixObject.source == "partner:cert-de")).all()
        assert [(r.tlp, r.share_with) for r in theirs] == [("amber", ",cert-de,")]


def test_a_partner_cannot_overwrite_another_sources_object(desk: tuple[FastAPI, str]) -> None:
    """Issue 19 (medium): the same id with a later ``modified`` and ``revoked`` from partner B
    became the latest version of partner A's object for everyone."""
    app, base = desk
    original = stix2.Indicator(
        name="C2 de cert-be", pattern="[ipv4-addr:value = '198.51.100.77']", pattern_type="stix",
        valid_from="2026-11-13T20:00:00Z", object_marking_refs=[stix2.TLP_GREEN],
        created="2026-11-13T20:00:00Z", modified="2026-11-13T20:00:00Z")
    bundle = json.loads(stix2.Bundle(original, stix2.TLP_GREEN).serialize())
    assert _post(base, bundle, user="cert-be").json()["success_count"] == 2
    forged = original.new_version(modified="2026-11-20T20:00:00Z", revoked=True,
                                  name="révoqué par cert-de")
    attack = json.loads(stix2.Bundle(forged, stix2.TLP_GREEN).serialize())
    status = _post(base, attack, user="cert-de").json()
    assert status["status"] == "complete"
    assert status["failure_count"] == 1 and status["success_count"] == 1  # the TLP marking
    assert status["failures"][0]["id"] == original.id
    assert "belongs to another source" in status["failures"][0]["message"]
    # cert-de cannot plant our objects either (our identity, our indicators' ids).
    analyst = _token(base, "analyste.a")
    _indicator(base, analyst, "tocsin-owned[.]example", "green")
    ours = stix.indicator_objects(
        CyberIndicator(kind="domain", value="tocsin-owned.example", count=1, status="confirmed",
                       tlp="green", first_seen_at=utcnow(), last_seen_at=utcnow(),
                       created_at=utcnow()), utcnow())[0]
    planted = {**ours, "modified": "2030-01-01T00:00:00.000Z", "revoked": True,
               "created_by_ref": stix.IDENTITY_ID}
    status = _post(base, {"type": "bundle", "id": "bundle--" + str(uuid.uuid4()),
                          "objects": [planted, stix.identity()]}, user="cert-de").json()
    assert status["failure_count"] == 2 and status["success_count"] == 0, status
    # Every reader still sees cert-be's object as cert-be wrote it.
    for user in ("cert-be", "cert-de", "analyste.b"):
        seen = _reads(base, user, EXCHANGE, original.id)
        assert "C2 de cert-be" in seen and "révoqué" not in seen and '"revoked":true' not in seen
    # The same observable (an SCO: its id comes from its value) from two partners: each keeps
    # its own copy, marking and audience.
    de_ip = stix2.IPv4Address(value="198.51.100.77", object_marking_refs=[stix2.TLP_AMBER])
    for user in ("cert-be", "cert-de"):
        body = json.loads(stix2.Bundle(de_ip, stix2.TLP_AMBER).serialize())
        assert _post(base, body, user=user).json()["failure_count"] == 0
    with session_scope(app.state.runtime.sessions) as session:
        rows = session.scalars(select(CyberStixObject).where(
            CyberStixObject.stix_id == de_ip.id)).all()
        assert sorted((r.source, r.share_with, r.is_latest) for r in rows) == [
            ("partner:cert-be", ",cert-be,", True), ("partner:cert-de", ",cert-de,", True)]
    # The analyst's import of another source's object is refused the same way (skipped).
    r = post(f"{base}/api/v1/cyber/stix/import?source=cert-fr",
             headers={**analyst, "Content-Type": "application/stix+json"},
             content=json.dumps(attack))
    assert r.status_code == 200, r.text
    assert r.json()["skipped"] == [stix2.TLP_GREEN.id, original.id]


def test_unpaired_surrogates_are_refused_and_stored_ones_never_break_an_answer(
        desk: tuple[FastAPI, str]) -> None:
    app, base = desk
    bundle = _bundle(1)
    bundle["objects"][0]["description"] = "\ud800"
    refused = _post(base, json.dumps(bundle).encode())  # ASCII JSON with the escape
    assert refused.status_code == 400 and "surrogate" in refused.json()["description"]
    # One stored before the check: the answers stay 200 (JSON escapes).
    assert _post(base, _bundle(1)).status_code == 202
    with session_scope(app.state.runtime.sessions) as session:
        row = session.scalars(select(CyberStixObject).where(
            CyberStixObject.stix_type == "indicator")).one()
        row.body = {**row.body, "description": "\ud800 partner\x07"}
    answer = httpx.get(f"{base}/taxii2/tocsin/collections/{EXCHANGE}/objects/",
                       auth=("cert-be", PASSWORD), headers={"Accept": TAXII})
    assert answer.status_code == 200, answer.text
    assert answer.json()["objects"]
