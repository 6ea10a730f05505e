"""Personal data of reports expires; the statistical skeleton stays."""

from __future__ import annotations

import datetime as dt

from fastapi.testclient import TestClient
from sqlalchemy import func, select

from tests.cyber.helpers import PNG, report
from tocsin.core.db import session_scope, utcnow
from tocsin.cyber.models import CyberEvidence, CyberIncident
from tocsin.retention import purge_all


def test_purge_blanks_contact_text_and_evidence(client: TestClient) -> None:
    created = report(client, {"contact": {"email": "rssi@ville.example.fr"}},
                     files=[("capture.png", PNG, "image/png")])
    assert created.status_code == 201
    runtime = client.app.state.runtime  # type: ignore[attr-defined]
    with session_scope(runtime.sessions) as s:
        assert purge_all(s, utcnow())["cyber_incident_personal"] == 0
    with session_scope(runtime.sessions) as s:
        counts = purge_all(s, utcnow() + dt.timedelta(days=181))
    assert counts["cyber_incident_personal"] == 1 and counts["cyber_evidence"] == 1
    with session_scope(runtime.sessions) as s:
        row = s.get(CyberIncident, created.json()["id"])
        assert row is not None and row.contact is None and row.description is None
        assert row.incident_type == "defacement" and row.region == "FR-IDF"
        assert s.scalar(select(func.count()).select_from(CyberEvidence)) == 0
