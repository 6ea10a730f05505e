"""CSV exports of the observatory open as data, never as formulas (issue 19)."""

from __future__ import annotations

import csv
import datetime as dt
import io

from fastapi.testclient import TestClient

from tests.factories import login
from tests.stats.factories import T0
from tocsin.core.auth.roles import Role
from tocsin.core.db import session_scope
from tocsin.core.figures import Fact
from tocsin.stats import ingest, render
from tocsin.stats.report import Cell, Report, ReportLine, Section

EVIL = "=HYPERLINK(\"http://evil.example\")"
Q = {"from": (T0 - dt.timedelta(hours=1)).isoformat(),
     "to": (T0 + dt.timedelta(hours=1)).isoformat()}


def _rows(text: str) -> list[list[str]]:
    return list(csv.reader(io.StringIO(text)))


def test_breakdown_csv_neutralises_a_platform_name(client: TestClient) -> None:
    runtime = client.app.state.runtime  # type: ignore[attr-defined]
    with session_scope(runtime.sessions) as session:
        ingest.store(session, [
            Fact("watch.report", f"csv-{i}", T0, category="hate", detail=detail)
            for i, detail in enumerate([EVIL, EVIL, "@evil", "bigsocial"])])
    response = client.get("/api/v1/stats/breakdown", headers=login(client, Role.analyst),
                          params={**Q, "figure": "watch.report", "by": "detail",
                                  "format": "csv"})
    assert response.status_code == 200, response.text
    rows = _rows(response.text)
    assert rows[0] == ["detail", "count"]
    assert sorted(rows[1:]) == sorted([["'" + EVIL[:40], "2"], ["'@evil", "1"],
                                       ["bigsocial", "1"]])


def test_report_csv_neutralises_text_and_keeps_numbers() -> None:
    line = ReportLine("watch.report", "Signalements", "Reports", "count", Cell("", 5.0),
                      [Cell("-evil", 3.0), Cell("bigsocial", -2.0)])
    report = Report(T0, T0 + dt.timedelta(days=1), T0, k=1, public=False,
                    sections=[Section("watch", "Veille", "Watch", [line])])
    rows = _rows(render.to_csv(report, "en"))
    assert [(r[5], r[6]) for r in rows[1:]] == [("", "5"), ("'-evil", "3"), ("bigsocial", "-2")]
