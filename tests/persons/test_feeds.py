"""PFIF Atom feeds (Person Finder's paging), who may read them, and ``tocsin pfif sync``
against our own feed served over a real socket."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from defusedxml import ElementTree as SafeET
from fastapi.testclient import TestClient
from sqlalchemy import func, select, update
from typer.testing import CliRunner

from tests.conftest import SEAL_KEY
from tests.factories import PASSWORD, login, make_user
from tests.served import serve_in_thread
from tests.web.conftest import build_app
from tocsin.cli import app as cli
from tocsin.core.audit.models import AuditEntry
from tocsin.core.auth.roles import Role
from tocsin.core.db import make_engine, make_sessionmaker, session_scope, utcnow
from tocsin.core.settings import Settings, get_settings
from tocsin.persons.models import Note, Person
from tocsin.retention import purge_all

ATOM = "{http://www.w3.org/2005/Atom}"
PFIF = "{http://zesty.ca/pfif/1.4}"


def entries(data: bytes, kind: str) -> list[dict[str, str]]:
    root = SafeET.fromstring(data)
    assert root.tag == ATOM + "feed"
    out = []
    for entry in root.iter(ATOM + "entry"):
        record = entry.find(PFIF + kind)
        assert record is not None
        out.append({child.tag.removeprefix(PFIF): child.text or "" for child in record
                    if child.tag != PFIF + "note"})
    return out


def add(client: Any, base: str, name: str, **extra: Any) -> str:
    response = client.post(f"{base}/api/v1/persons", json={
        "full_name": name, "author_name": "Famille", "author_email": "famille@example.fr",
        "author_phone": "06 11 22 33 44", **extra})
    assert response.status_code == 201, response.text
    return str(response.json()["person_record_id"])


def note(client: Any, base: str, record: str, text: str) -> None:
    response = client.post(f"{base}/api/v1/persons/notes", json={
        "person_record_id": record, "author_name": "Voisin", "text": text,
        "status": "believed_alive", "phone_of_found_person": "07 00 00 00 01"})
    assert response.status_code == 201, response.text


def test_feeds_page_oldest_first_without_contacts_nor_expired_records(
    client: TestClient
) -> None:
    ids = [add(client, "", name) for name in ("Anne Le Goff", "Bruno Marchal", "Chloé Nadal")]
    note(client, "", ids[0], "Vue à la gare")
    runtime = client.app.state.runtime  # type: ignore[attr-defined]
    with session_scope(runtime.sessions) as session:  # the third has expired, not yet purged
        session.execute(update(Person).where(Person.person_record_id == ids[2])
                        .values(purge_at=utcnow() - dt.timedelta(minutes=1)))
    headers = login(client, Role.partner)
    first = client.get("/api/v1/persons/feeds/person", params={"max_results": 1},
                       headers=headers)
    assert first.status_code == 200 and first.headers["content-type"].startswith(
        "application/atom+xml")
    [one] = entries(first.content, "person")
    assert one["person_record_id"] == ids[0] and one["full_name"] == "Anne Le Goff"
    assert "author_email" not in one and "author_phone" not in one
    assert b"famille@example.fr" not in first.content and b"07 00 00 00 01" not in first.content
    assert b"Vue \xc3\xa0 la gare" in first.content  # notes nested in the person feed
    rest = client.get("/api/v1/persons/feeds/person", headers=headers, params={
        "min_entry_date": one["entry_date"], "skip": 1, "max_results": 500})
    assert [e["person_record_id"] for e in entries(rest.content, "person")] == [ids[1]]
    notes = client.get("/api/v1/persons/feeds/note", headers=headers).content
    assert [e["text"] for e in entries(notes, "note")] == ["Vue à la gare"]
    with session_scope(runtime.sessions) as session:
        audited = session.scalar(select(func.count()).select_from(AuditEntry).where(
            AuditEntry.object_type == "pfif_feed"))
    assert audited == 3


def test_feeds_are_not_public_and_bad_dates_are_named(client: TestClient) -> None:
    for path in ("/api/v1/persons/feeds/person", "/api/v1/persons/feeds/note"):
        assert client.get(path).status_code == 401
        for role in (Role.dispatcher, Role.unit, Role.moderator, Role.analyst):
            assert client.get(path, headers=login(client, role)).status_code == 403
        bad = client.get(path, params={"min_entry_date": "2026-11-01"},
                         headers=login(client, Role.authority))
        assert bad.status_code == 422 and "YYYY-MM-DDTHH:MM:SSZ" in bad.text


@pytest.fixture
def source(tmp_path: Path) -> Iterator[tuple[str, str]]:
    """Another repository: the real app on its own database, served over a socket."""
    app = build_app(tmp_path / "source")
    with session_scope(app.state.runtime.sessions) as session:
        name = make_user(session, role=Role.partner).username
    with serve_in_thread(app, "pfif-source") as base:
        token = httpx.post(f"{base}/api/v1/auth/token",
                           data={"username": name, "password": PASSWORD}).json()["access_token"]
        yield base, token


@pytest.fixture
def env(settings: Settings, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    monkeypatch.setenv("TOCSIN_DATABASE_URL", settings.resolved_database_url)
    monkeypatch.setenv("TOCSIN_SEAL_KEY", SEAL_KEY)
    monkeypatch.setenv("TOCSIN_VAR_DIR", str(settings.var_dir))
    monkeypatch.setenv("TOCSIN_BASE_URL", "https://receiver.example")
    monkeypatch.setattr("tocsin.persons.interchange.BATCH_PAUSE_S", 0.0)
    get_settings.cache_clear()
    yield
    get_settings.cache_clear()


def held(settings: Settings) -> tuple[list[Person], int]:
    engine = make_engine(settings.resolved_database_url, pool_size=1)
    try:
        with make_sessionmaker(engine)() as session:
            persons = list(session.scalars(select(Person).order_by(Person.id)))
            return persons, int(session.scalar(select(func.count()).select_from(Note)) or 0)
    finally:
        engine.dispose()


def test_sync_pulls_our_own_feed_incrementally_and_expiry_purges(
    source: tuple[str, str], env: None, settings: Settings
) -> None:
    base, token = source
    feeds = f"{base}/api/v1/persons/feeds"
    soon = (dt.datetime.now(dt.UTC) + dt.timedelta(days=2)).isoformat()
    with httpx.Client() as http:
        ids = [add(http, base, f"Personne{i} Test{i}") for i in range(4)]
        ids.append(add(http, base, "Zoé Expire", expiry_date=soon))
        for record in ids[:3]:
            note(http, base, record, f"Nouvelles de {record}")
    runner = CliRunner()
    refused = runner.invoke(cli, ["pfif", "sync", feeds])  # no token: the feed says no
    assert refused.exit_code == 2 and "answered 401" in refused.output, refused.output

    first = runner.invoke(cli, ["pfif", "sync", feeds, "--token", token, "--page-size", "2"])
    assert first.exit_code == 0, first.output
    assert "5 persons created, 0 updated, 3 notes created, 0 unchanged, 0 refused" \
        in first.output
    persons, notes = held(settings)
    assert [p.person_record_id for p in persons] == ids and notes == 3
    assert all(p.author_email is None and p.author_phone is None for p in persons)
    expiring = persons[-1]
    assert expiring.expiry_date is not None and expiring.purge_at == expiring.expiry_date

    with httpx.Client() as http:
        newer = add(http, base, "Nouvelle Personne")
        note(http, base, ids[3], "Retrouvée")
    again = runner.invoke(cli, ["pfif", "sync", feeds, "--token", token, "--page-size", "2"])
    assert again.exit_code == 0, again.output
    # Only what is new since the cursor was asked for (nothing unchanged came again).
    assert "1 persons created, 0 updated, 1 notes created, 0 unchanged" in again.output
    persons, notes = held(settings)
    assert persons[-1].person_record_id == newer and notes == 4

    engine = make_engine(settings.resolved_database_url, pool_size=1)
    try:
        with session_scope(make_sessionmaker(engine)) as session:
            purge_all(session, utcnow() + dt.timedelta(days=3))
    finally:
        engine.dispose()
    persons, _ = held(settings)
    assert "Zoé Expire" not in [p.full_name for p in persons] and len(persons) == 5
