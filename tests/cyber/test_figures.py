"""The desk's figures for the observatory: rollups agree with the desk's own rows."""

from __future__ import annotations

import datetime as dt

from fastapi.testclient import TestClient
from sqlalchemy import func, select

from tests.cyber.helpers import ADVISORY, analysts, report
from tocsin.core.db import session_scope, utcnow
from tocsin.cyber import figures
from tocsin.cyber.models import CyberIncident, CyberIndicator
from tocsin.stats import ingest
from tocsin.stats.models import StatsRollup


def _n(session: object, **where: object) -> int:
    query = select(func.coalesce(func.sum(StatsRollup.n), 0)).where(
        StatsRollup.grain == "d", StatsRollup.cell == "")
    for name, value in where.items():
        query = query.where(getattr(StatsRollup, name) == value)
    return int(session.scalar(query) or 0)  # type: ignore[attr-defined]


def test_incidents_indicators_and_time_to_advisory(client: TestClient) -> None:
    contact = {"contact": {"email": "a@b.example"}}
    first = report(client, contact).json()["id"]
    report(client, {**contact, "incident_type": "phishing", "sector": "health",
                    "region": "FR-ARA", "description": "", "indicators": []})
    alice, bob = analysts(client)
    created = client.post("/api/v1/cyber/advisories", headers=alice,
                          json={**ADVISORY, "incident_ids": [first]}).json()
    client.post(f"/api/v1/cyber/advisories/{created['id']}/submit", headers=alice)
    assert client.post(f"/api/v1/cyber/advisories/{created['id']}/approve", json={},
                       headers=bob).status_code == 200
    runtime = client.app.state.runtime  # type: ignore[attr-defined]
    now = utcnow()
    with session_scope(runtime.sessions) as s:
        facts = figures.from_tables(s, now - dt.timedelta(hours=1), now + dt.timedelta(hours=1))
        assert {f.kind for f in facts} == {k.name for k in figures.KINDS}
        for fact in facts:
            kind = next(k for k in figures.KINDS if k.name == fact.kind)
            assert not kind.categories or fact.category in kind.categories, fact
        ingest.store(s, facts)
        ingest.store(s, facts)  # the sweep and the event may both bring a fact: counted once
    with session_scope(runtime.sessions) as s:
        assert _n(s, kind="cyber.incident") == s.scalar(
            select(func.count()).select_from(CyberIncident)) == 2
        assert _n(s, kind="cyber.incident", category="phishing") == 1
        assert _n(s, kind="cyber.incident_region", category="FR-IDF") == 1
        assert _n(s, kind="cyber.indicator") == s.scalar(
            select(func.count()).select_from(CyberIndicator)) == 4
        assert _n(s, kind="cyber.advisory", category="high") == 1
        delay = next(f for f in facts if f.kind == "cyber.time_to_advisory")
        assert delay.value is not None and 0 <= delay.value < 600
