"""Incident reports: organisations and anonymous reporters, evidence sniffing, sealed reads."""

from __future__ import annotations

from fastapi.testclient import TestClient
from sqlalchemy import func, select, text

from tests.cyber.helpers import PNG, REPORT, report
from tests.factories import login
from tocsin.core.audit.models import AuditEntry
from tocsin.core.auth import Role
from tocsin.core.db import session_scope
from tocsin.cyber.models import CyberEvidence, CyberIncident, CyberIndicator


def _count(client: TestClient, model: type) -> int:
    with session_scope(client.app.state.runtime.sessions) as s:  # type: ignore[attr-defined]
        return int(s.scalar(select(func.count()).select_from(model)) or 0)


def test_organisation_reports_with_evidence_and_indicators_are_extracted(
        client: TestClient) -> None:
    org = login(client, Role.organisation)
    response = report(client, headers=org, files=[
        ("capture.png", PNG, "image/png"), ("journal.log", b"GET /x.js 200\n", "text/plain")])
    assert response.status_code == 201, response.text
    created = response.json()
    assert created["evidence"] == 2
    assert created["indicators"] == 4  # evil.com (listed), the URL, the IP, the e-mail
    mine = client.get("/api/v1/cyber/incidents/mine", headers=org).json()
    assert [m["id"] for m in mine] == [created["id"]] and mine[0]["anonymous"] is False

    analyst = login(client, Role.analyst)
    values = {i["value"]: i for i in client.get("/api/v1/cyber/indicators",
                                                 headers=analyst).json()}
    assert set(values) == {"evil.com", "http://evil.com/x.js", "203.0.113.7", "defacer@mail.ru"}
    assert values["evil.com"]["count"] == 1 and values["evil.com"]["status"] == "new"
    # A second report naming evil.com counts it again; the same report naming it twice does not.
    again = report(client, {"indicators": ["evil.com", "EVIL[.]COM"], "description": "idem",
                            "contact": {"email": "rssi@mairie.example.fr"}})
    assert again.status_code == 201
    evil = next(i for i in client.get("/api/v1/cyber/indicators?q=evil[.]com",
                                      headers=analyst).json() if i["value"] == "evil.com")
    assert evil["count"] == 2


def test_anonymous_report_needs_contact_which_is_sealed_and_audited(client: TestClient) -> None:
    missing = report(client)
    assert missing.status_code == 422 and "contact" in missing.json()["error"]["message"]
    ok = report(client, {"contact": {"name": "Mme R.", "email": "rssi@ville.example.fr"}})
    assert ok.status_code == 201
    incident_id = ok.json()["id"]
    with client.app.state.runtime.engine.connect() as conn:  # type: ignore[attr-defined]
        raw = conn.execute(text("SELECT contact, description FROM cyber_incident")).one()
    assert b"rssi@ville" not in bytes(raw[0]) and b"remplac" not in bytes(raw[1])

    analyst = login(client, Role.analyst)
    listed = client.get("/api/v1/cyber/incidents", headers=analyst).json()
    assert "contact" not in listed[0] and listed[0]["anonymous"] is True
    no_reason = client.get(f"/api/v1/cyber/incidents/{incident_id}", headers=analyst)
    assert no_reason.status_code == 422
    detail = client.get(f"/api/v1/cyber/incidents/{incident_id}?reason=rappel du déclarant",
                        headers=analyst)
    assert detail.status_code == 200
    assert detail.json()["contact"]["email"] == "rssi@ville.example.fr"
    with session_scope(client.app.state.runtime.sessions) as s:  # type: ignore[attr-defined]
        reads = s.scalars(select(AuditEntry).where(AuditEntry.action == "read_sensitive")).all()
        assert [(r.object_type, r.object_id) for r in reads] == [("cyber_incident", incident_id)]


def test_evidence_that_lies_is_refused_and_nothing_stored(client: TestClient) -> None:
    contact = {"contact": {"phone": "+33 1 23 45 67 89"}}
    cases = [
        (("facture.pdf", b"MZ\x90\x00" + b"\x00" * 60, "application/pdf"), "Windows program"),
        (("photo.png", b"%PDF-1.7\n...", "image/png"), "claims to be image/png"),
        (("notes.txt", b"\x00\x01\x02binary", "text/plain"), "not a type"),
        (("run.sh", b"#!/bin/sh\nrm -rf /\n", "text/plain"), "a script"),
        (("capture.png", PNG, "application/pdf"), "declared as application/pdf"),
        (("archive.exe", b"hello", "application/octet-stream"), "extension 'exe'"),
    ]
    for upload, message in cases:
        response = report(client, contact, files=[upload])
        assert response.status_code == 422, (upload[0], response.text)
        assert message in response.json()["error"]["message"], response.text
    big = report(client, contact, files=[("big.txt", b"a" * 400_001, "text/plain")])
    assert big.status_code == 413
    assert _count(client, CyberIncident) == 0 and _count(client, CyberEvidence) == 0
    assert _count(client, CyberIndicator) == 0


def test_bad_report_fields_and_indicators_are_refused(client: TestClient) -> None:
    contact = {"contact": {"email": "a@b.example"}}
    for body, where in [
        ({"incident_type": "alien"}, "incident_type"),
        ({"region": "FR-XX"}, "region"),
        ({"occurred_at": "2999-01-01T00:00:00Z"}, "future"),
        ({"indicators": ["evil[.]com", "hxxp://"]}, "indicators[1]"),
        ({"unknown": 1}, "unknown"),
        ({"contact": {"name": "x"}}, "contact"),
    ]:
        response = report(client, {**contact, **body})
        assert response.status_code == 422, (body, response.text)
        assert where in response.text
    wrong_type = client.post("/api/v1/cyber/incidents", content=b"x",
                             headers={"Content-Type": "text/plain"})
    assert wrong_type.status_code == 415
    not_json = client.post("/api/v1/cyber/incidents", data={"report": "{not json"})
    assert not_json.status_code == 422
    assert _count(client, CyberIncident) == 0


def test_evidence_download_is_audited_and_an_attachment(client: TestClient) -> None:
    created = report(client, {"contact": {"email": "a@b.example"}},
                     files=[("capture.png", PNG, "image/png")]).json()
    analyst = login(client, Role.analyst)
    detail = client.get(f"/api/v1/cyber/incidents/{created['id']}?reason=analyse",
                        headers=analyst).json()
    evidence = detail["evidence_files"][0]
    assert evidence["media_type"] == "image/png" and evidence["size"] == len(PNG)
    url = f"/api/v1/cyber/incidents/{created['id']}/evidence/{evidence['id']}"
    assert client.get(url, headers=analyst).status_code == 422  # no reason given
    got = client.get(url + "?reason=analyse de la capture", headers=analyst)
    assert got.status_code == 200 and got.content == PNG
    assert got.headers["content-disposition"].startswith("attachment;")
    org = login(client, Role.organisation)
    assert client.get(url + "?reason=x" * 3, headers=org).status_code == 403


def test_other_roles_cannot_report_under_their_name(client: TestClient) -> None:
    dispatcher = login(client, Role.dispatcher)
    response = report(client, headers=dispatcher)
    assert response.status_code == 403
    assert REPORT["incident_type"] == "defacement"
