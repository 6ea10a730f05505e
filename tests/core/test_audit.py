"""The audit log: written with the action, append-only, readable by admins only, filterable."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session

from tests.factories import login
from tocsin.core import audit
from tocsin.core.auth.permissions import Principal
from tocsin.core.auth.roles import Role
from tocsin.core.db import session_scope


def test_entries_cannot_be_changed_or_deleted(db: Session) -> None:
    audit.record(db, actor="system:test", action="probe", object_type="x", object_id=1)
    db.commit()
    for statement in ("UPDATE audit_entry SET actor = 'forged'", "DELETE FROM audit_entry"):
        with pytest.raises(DBAPIError, match="append-only"):
            db.execute(text(statement))
        db.rollback()
    assert db.execute(text("SELECT actor FROM audit_entry")).scalars().all() == ["system:test"]


def test_sensitive_read_is_recorded_with_who_what_and_why(client: TestClient) -> None:
    admin = login(client, Role.admin)
    dispatcher = Principal(user_id=7, username="op.paris", role=Role.dispatcher)
    with session_scope(client.app.state.runtime.sessions) as session:  # type: ignore[attr-defined]
        audit.record_read(session, actor=dispatcher, object_type="sos", object_id="abc",
                          reason="contact the caller")
    page = client.get("/api/v1/audit", params={"action": "read_sensitive"}, headers=admin).json()
    assert page["total"] == 1
    entry = page["entries"][0]
    assert (entry["actor"], entry["role"], entry["object_type"], entry["object_id"]) == (
        "op.paris", "dispatcher", "sos", "abc")
    assert entry["reason"] == "contact the caller"
    # Reading the log is itself logged.
    reads = client.get("/api/v1/audit", params={"action": "read_audit"}, headers=admin).json()
    assert reads["total"] >= 1


def test_audit_filters_and_bad_periods(client: TestClient) -> None:
    admin = login(client, Role.admin)
    with session_scope(client.app.state.runtime.sessions) as session:  # type: ignore[attr-defined]
        for n in range(3):
            audit.record(session, actor=f"actor{n}", action="probe", object_type="t", object_id=n)
    page = client.get("/api/v1/audit", params={"actor": "actor1"}, headers=admin).json()
    assert [e["object_id"] for e in page["entries"]] == ["1"]
    limited = client.get("/api/v1/audit", params={"action": "probe", "limit": 2}, headers=admin)
    assert limited.json()["total"] == 3 and len(limited.json()["entries"]) == 2
    backwards = client.get(
        "/api/v1/audit",
        params={"since": "2026-11-13T22:00:00Z", "until": "2026-11-13T21:00:00Z"},
        headers=admin,
    )
    assert backwards.status_code == 422
    naive = client.get("/api/v1/audit", params={"since": "2026-11-13T22:00:00"}, headers=admin)
    assert naive.status_code == 422 and "time zone" in naive.json()["error"]["message"]
    assert client.get("/api/v1/audit", params={"limit": 0}, headers=admin).status_code == 422
