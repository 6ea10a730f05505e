"""The observatory API on a started worker (both modes): events become facts, roles."""

from __future__ import annotations

import datetime as dt

import h3
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from tests.factories import login
from tests.sos.factories import post_sos
from tests.stats.factories import BATACLAN, T0, seed
from tests.waiting import wait_for
from tocsin.core.auth.roles import Role
from tocsin.core.db import session_scope
from tocsin.stats import ingest
from tocsin.stats.models import StatsFact
from tocsin.stats.registry import registry


def _facts(client: TestClient, kind: str) -> int:
    runtime = client.app.state.runtime  # type: ignore[attr-defined]
    with runtime.sessions() as session:
        return int(session.scalar(select(func.count()).select_from(StatsFact).where(
            StatsFact.kind == kind)) or 0)


def test_an_sos_becomes_a_fact_through_the_bus(client: TestClient) -> None:
    post_sos(client, situation="attack")
    post_sos(client, situation="hidden")
    wait_for(lambda: _facts(client, "sos.created") == 2)


def test_figures_list_for_analysts_only(client: TestClient) -> None:
    response = client.get("/api/v1/stats/figures", headers=login(client, Role.analyst))
    assert response.status_code == 200
    names = {f["name"]: f for f in response.json()}
    assert "attack" in names["sos.created"]["categories"]
    assert client.get("/api/v1/stats/figures").status_code == 401
    refused = client.get("/api/v1/stats/figures", headers=login(client, Role.dispatcher))
    assert refused.status_code == 403


def _seeded(client: TestClient) -> None:
    runtime = client.app.state.runtime  # type: ignore[attr-defined]
    with session_scope(runtime.sessions) as session:
        seed(session)
    with session_scope(runtime.sessions) as session:
        ingest.rebuild(session, registry(), start=PERIOD["from"], end=PERIOD["to"])


PERIOD = {"from": T0 - dt.timedelta(hours=1), "to": T0 + dt.timedelta(hours=5)}
Q = {"from": PERIOD["from"].isoformat(), "to": PERIOD["to"].isoformat()}


def test_dashboard_series_map_breakdown_and_csv(client: TestClient) -> None:
    _seeded(client)
    h = login(client, Role.analyst)
    series = client.get("/api/v1/stats/series", params={**Q, "figure": "sos.created"}, headers=h)
    assert series.status_code == 200, series.text
    body = series.json()
    assert body["grain"] == "m" and len(body["buckets"]) == 360
    assert sum(sum(v) for v in body["counts"].values()) == 40
    one = client.get("/api/v1/stats/series", headers=h,
                     params={**Q, "figure": "sos.created", "category": "attack"}).json()
    assert sum(sum(v) for v in one["counts"].values()) == 10
    geo = client.get("/api/v1/stats/map", params={**Q, "figure": "sos.created"}, headers=h)
    assert geo.status_code == 200
    features = geo.json()["features"]
    assert sum(f["properties"]["count"] for f in features) == 40 and len(features) == 2
    assert features[0]["geometry"]["type"] == "Polygon"
    cell = h3.latlng_to_cell(*BATACLAN, 7)
    area = client.get("/api/v1/stats/series", headers=h,
                      params={**Q, "figure": "sos.created", "area": h3.cell_to_parent(cell, 5)})
    assert sum(sum(v) for v in area.json()["counts"].values()) == sum(
        f["properties"]["count"] for f in features if f["properties"]["cell"] == cell)
    platforms = client.get("/api/v1/stats/breakdown", headers=h,
                           params={**Q, "figure": "watch.report", "by": "detail"}).json()
    assert set(platforms["counts"]) == {"bigsocial", "tinyvideo"}
    csv = client.get("/api/v1/stats/series", headers=h,
                     params={**Q, "figure": "alerts.delivered", "format": "csv"})
    assert csv.status_code == 200 and csv.headers["content-type"].startswith("text/csv")
    assert csv.text.splitlines()[0].startswith("bucket,push")
    geo_csv = client.get("/api/v1/stats/map", headers=h,
                         params={**Q, "figure": "sos.created", "format": "csv"})
    assert geo_csv.text.splitlines()[0] == "cell,count" and len(geo_csv.text.splitlines()) == 3


def test_bad_input_is_a_clear_4xx(client: TestClient) -> None:
    h = login(client, Role.analyst)
    cases = [
        ({"from": Q["to"], "to": Q["from"], "figure": "sos.created"}, 422, "before it starts"),
        ({"from": "2020-01-01T00:00:00Z", "to": "2026-01-01T00:00:00Z",
          "figure": "sos.created"}, 422, "at most 400"),
        ({**Q, "figure": "sos.nope"}, 422, "unknown figure 'sos.nope'"),
        ({**Q, "figure": "sos.created", "category": "zombies"}, 422, "unknown category 'zombies'"),
        ({**Q, "figure": "sos.created", "area": "paris-11"}, 422, "unknown area 'paris-11'"),
        ({**Q, "figure": "sos.created", "area": "811fbffffffffff"}, 422, "resolution 1"),
        ({"from": "yesterday", "to": Q["to"], "figure": "sos.created"}, 422, "from"),
    ]
    for params, status, words in cases:
        response = client.get("/api/v1/stats/series", params=params, headers=h)
        assert response.status_code == status, (params, response.text)
        assert words in response.text, (words, response.text)
    unmapped = client.get("/api/v1/stats/map", params={**Q, "figure": "persons.found"},
                          headers=h)
    assert unmapped.status_code == 404 and "has no map" in unmapped.text
    report = client.get("/api/v1/stats/report", params={"from": Q["to"], "to": Q["from"]})
    assert report.status_code == 422 and "before it starts" in report.text


def test_roles_other_than_analyst_are_refused(client: TestClient) -> None:
    for role in (Role.dispatcher, Role.moderator, Role.authority, Role.platform, Role.unit):
        h = login(client, role)
        response = client.get("/api/v1/stats/series", headers=h,
                              params={**Q, "figure": "sos.created"})
        assert response.status_code == 403, role
    assert client.get("/api/v1/stats/notices").status_code == 401
    assert client.get("/api/v1/stats/notices", headers=login(client, Role.admin)).status_code \
        == 200


def test_public_report_is_suppressed_under_k(client: TestClient) -> None:
    _seeded(client)
    response = client.get("/api/v1/stats/report", params=Q)
    assert response.status_code == 200
    lines = {line["key"]: line for s in response.json()["sections"] for line in s["lines"]}
    late = lines["tco.removed_late"]["total"]
    assert late == {"key": "", "value": None, "status": "suppressed"}
    assert lines["sos.created"]["total"]["value"] == 40
    html = client.get("/api/v1/stats/report", params={**Q, "format": "html", "lang": "en"})
    assert html.status_code == 200 and "Transparency report" in html.text
    csv = client.get("/api/v1/stats/report", params={**Q, "format": "csv"})
    assert ",suppressed," in csv.text


def test_weekly_series_and_too_many_buckets(client: TestClient) -> None:
    _seeded(client)
    h = login(client, Role.analyst)
    weeks = client.get("/api/v1/stats/series", headers=h, params={
        "figure": "sos.created", "grain": "w", "from": (T0 - dt.timedelta(days=20)).isoformat(),
        "to": (T0 + dt.timedelta(days=10)).isoformat()}).json()
    assert weeks["grain"] == "w" and len(weeks["buckets"]) == 6  # Mondays 19 Oct to 23 Nov
    assert sum(sum(v) for v in weeks["counts"].values()) == 40
    monday = dt.datetime.fromtimestamp(weeks["buckets"][0], dt.UTC)
    assert monday.weekday() == 0 and monday.hour == 0
    too_many = client.get("/api/v1/stats/series", headers=h, params={
        "figure": "sos.created", "grain": "m", "from": (T0 - dt.timedelta(days=20)).isoformat(),
        "to": T0.isoformat()})
    assert too_many.status_code == 422 and "buckets" in too_many.text
