"""What the cyber desk publishes is what its ``events.py`` declares: a report and a publication
each leave one event that validates with its model and carries no report text."""

from __future__ import annotations

from fastapi.testclient import TestClient
from pydantic import BaseModel
from sqlalchemy import select

from tests.cyber.helpers import ADVISORY, REPORT, analysts, report
from tests.factories import login
from tocsin.core.auth import Role
from tocsin.core.db import session_scope
from tocsin.core.outbox import OutboxEvent
from tocsin.cyber import events

MODELS: dict[str, type[BaseModel]] = {
    events.INCIDENT_REPORTED: events.IncidentReported,
    events.ADVISORY_PUBLISHED: events.AdvisoryPublished,
}


def test_a_report_and_a_publication_publish_their_contracts(client: TestClient) -> None:
    incident = report(client, headers=login(client, Role.organisation))
    assert incident.status_code == 201, incident.text
    alice, bob = analysts(client)
    advisory = client.post("/api/v1/cyber/advisories", json=ADVISORY, headers=alice).json()
    client.post(f"/api/v1/cyber/advisories/{advisory['id']}/submit", headers=alice)
    assert client.post(f"/api/v1/cyber/advisories/{advisory['id']}/approve", json={},
                       headers=bob).status_code == 200
    runtime = client.app.state.runtime  # type: ignore[attr-defined]
    with session_scope(runtime.sessions) as session:
        rows = session.scalars(select(OutboxEvent).where(
            OutboxEvent.subject.like("cyber.%"))).all()
        found = {row.subject: row.payload["data"] for row in rows}
    assert sorted(found) == sorted(MODELS)
    for subject, data in found.items():
        assert MODELS[subject].model_validate(data).model_dump() == data
    assert REPORT["description"][:20] not in str(found)
    assert events.IncidentReported.model_validate(found[events.INCIDENT_REPORTED]) \
        == events.IncidentReported(id=incident.json()["id"], incident_type="defacement",
                                   sector="local_authority", region="FR-IDF", indicators=4)
    assert found[events.ADVISORY_PUBLISHED] == {"id": advisory["id"], "version": 1}
