"""PFIF API import: limits refused before any work, batched writes, idempotent re-runs."""

from __future__ import annotations

import datetime as dt
import random
import string
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlalchemy.exc import OperationalError

from tests.factories import login
from tocsin.core.audit.models import AuditEntry
from tocsin.core.auth.roles import Role
from tocsin.core.db import session_scope
from tocsin.persons import interchange, pfif
from tocsin.persons.models import DuplicateProposal, Note, Person, PersonSearchKey

SOURCE = dt.datetime(2026, 11, 1, 12, tzinfo=dt.UTC)


def invented_name(seed: int) -> str:
    """Two invented words, far from any other seed's (no duplicate proposals between them)."""
    draw = random.Random(seed)
    return " ".join("".join(draw.choice(string.ascii_lowercase) for _ in range(9)).title()
                    for _ in range(2))


def document(persons: int, *, notes: bool = True, twin: bool = False) -> bytes:
    """A PFIF 1.4 document of ``persons`` records (each with one note when ``notes``)."""
    people, by_person = [], {}
    for i in range(persons):
        record = dict.fromkeys(pfif.PERSON_FIELDS)
        record_id = f"other.example/person.{i}"
        name = "Aurélie Ferrandier" if twin and i in (0, persons - 1) else invented_name(i)
        record.update(person_record_id=record_id, full_name=name, source_date=SOURCE)
        people.append(record)
        if notes:
            note = dict.fromkeys(pfif.NOTE_FIELDS)
            note.update(note_record_id=f"other.example/note.{i}", person_record_id=record_id,
                        source_date=SOURCE, text="Vue au gymnase", status="believed_alive")
            by_person[record_id] = [note]
    return pfif.write(people, by_person)


def post(client: TestClient, data: bytes, headers: dict[str, str]) -> Any:
    return client.post("/api/v1/persons/import", content=data,
                       headers={**headers, "Content-Type": "application/xml"})


def count(client: TestClient, model: Any, **where: Any) -> int:
    runtime = client.app.state.runtime  # type: ignore[attr-defined]
    query = select(func.count()).select_from(model).filter_by(**where)
    with session_scope(runtime.sessions) as session:
        return int(session.scalar(query) or 0)


def imports_audited(client: TestClient) -> int:
    return count(client, AuditEntry, action="import", object_type="pfif")


def test_more_records_than_an_api_call_takes_is_refused_and_nothing_stored(
    client: TestClient,
) -> None:
    headers = login(client, Role.authority)
    data = document(interchange.API_MAX_RECORDS // 2 + 1)  # persons + notes: 2,002 records
    assert len(data) < interchange.API_MAX_BYTES
    response = post(client, data, headers)
    assert response.status_code == 413, response.text
    error = response.json()["error"]
    assert error["code"] == "payload_too_large"
    assert "at most 2,000 records" in error["message"] and "tocsin pfif import" in error["message"]
    assert error["details"] == {"max_records": interchange.API_MAX_RECORDS}
    assert count(client, Person) == 0 and count(client, Note) == 0
    assert imports_audited(client) == 0


def test_more_bytes_than_an_api_call_takes_is_refused(
    client: TestClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(interchange, "API_MAX_BYTES", 5_000)
    headers = login(client, Role.admin)
    data = document(30)
    assert len(data) > 5_000
    response = post(client, data, headers)
    assert response.status_code == 413, response.text
    assert "larger than 5,000 bytes" in response.json()["error"]["message"]
    assert count(client, Person) == 0


def test_parse_document_limits_name_themselves() -> None:
    with pytest.raises(interchange.PfifTooLarge, match="larger than 100 bytes"):
        interchange.parse_document(b"<x/>" * 30, 100)
    with pytest.raises(interchange.PfifTooLarge, match="4 records in one document; at most 3"):
        interchange.parse_document(document(2), 10_000, 3)
    assert len(interchange.parse_document(document(2), 10_000, 4).persons) == 2


def test_import_in_several_batches_stores_all_and_a_rerun_is_idempotent(
    client: TestClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(interchange, "BATCH", 20)
    monkeypatch.setattr(interchange, "BATCH_PAUSE_S", 0.001)
    headers = login(client, Role.authority)
    data = document(50, twin=True)  # persons in 3 batches, notes in 3 more
    first = post(client, data, headers)
    assert first.status_code == 200, first.text
    report = first.json()
    assert (report["persons_created"], report["notes_created"], report["rejected"]) == (50, 50, [])
    assert count(client, Person) == 50 and count(client, Note) == 50
    assert imports_audited(client) == 6  # one entry per committed batch
    keys = count(client, PersonSearchKey)
    # The two namesakes sit in the first and the last batch of persons: proposed once.
    assert count(client, DuplicateProposal) == 1
    hits = client.get("/api/v1/persons/search", params={"q": invented_name(48)}).json()
    assert hits["results"][0]["person_record_id"] == "other.example/person.48"

    again = post(client, data, headers).json()
    assert again["persons_created"] == 0 and again["persons_updated"] == 0
    assert again["notes_created"] == 0 and again["unchanged"] == 100
    assert count(client, Person) == 50 and count(client, Note) == 50
    assert count(client, PersonSearchKey) == keys and count(client, DuplicateProposal) == 1


def test_default_batches(client: TestClient) -> None:
    headers = login(client, Role.authority)
    response = post(client, document(interchange.BATCH + 10, notes=False), headers)
    assert response.status_code == 200, response.text
    assert response.json()["persons_created"] == interchange.BATCH + 10
    assert imports_audited(client) == 2


def test_a_failed_batch_keeps_the_earlier_ones_and_a_rerun_completes(
    client: TestClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(interchange, "BATCH", 20)
    monkeypatch.setattr(interchange, "BATCH_PAUSE_S", 0.001)
    headers = login(client, Role.authority)
    data = document(30)
    notes_batch = interchange._notes_batch
    calls = 0

    def failing(*args: Any, **kwargs: Any) -> Any:
        nonlocal calls
        calls += 1
        done = notes_batch(*args, **kwargs)  # written, then the batch fails: rolled back
        if calls == 2:
            raise OperationalError("INSERT", {}, Exception("disk I/O error"))
        return done

    monkeypatch.setattr(interchange, "_notes_batch", failing)
    broken = post(client, data, headers)
    assert broken.status_code == 503, broken.text
    error = broken.json()["error"]
    assert error["code"] == "import_interrupted" and broken.headers["Retry-After"] == "10"
    assert "batch 4 of 4" in error["message"] and "safe" in error["message"]
    assert error["details"]["persons_created"] == 30 and error["details"]["notes_created"] == 20
    assert count(client, Person) == 30 and count(client, Note) == 20

    monkeypatch.setattr(interchange, "_notes_batch", notes_batch)
    rerun = post(client, data, headers).json()
    assert rerun["persons_updated"] == 0 and rerun["notes_created"] == 10
    assert rerun["unchanged"] == 50 and rerun["rejected"] == []
    assert count(client, Person) == 30 and count(client, Note) == 30
