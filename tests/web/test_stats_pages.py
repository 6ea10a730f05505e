"""The observatory in Chromium: an analyst signs in and sees real charts, the hexagon map and
an anomaly notice over generated figures; the public report page shows suppressed cells."""

from __future__ import annotations

import datetime as dt
import math
import random
from collections.abc import Callable
from pathlib import Path
from typing import Protocol

import httpx
import pytest
from fastapi import FastAPI
from playwright.sync_api import Browser, Page, expect

from tests.web.conftest import live_account
from tocsin.core.db import session_scope, utcnow
from tocsin.core.figures import Fact
from tocsin.stats import anomaly, ingest
from tocsin.stats.config import StatsSettings
from tocsin.stats.registry import registry

pytestmark = pytest.mark.browser

PLACES = [(48.8631, 2.3708), (48.8530, 2.3690), (48.8686, 2.3590), (48.9245, 2.3602),
          (48.8420, 2.3290), (48.8790, 2.3000)]


class Problems(Protocol):
    def all(self) -> list[str]: ...


def _generate(app: FastAPI) -> None:
    """Six hours of figures in every domain (facts only: no other domain's table is touched)."""
    rnd = random.Random(1311)
    now = utcnow()
    facts: list[Fact] = []
    situations = ["attack", "hidden", "injured", "armed_person", "other"]
    # The attack: a spike in the last complete block of the anomaly scan, which must notice it.
    block = now.replace(second=0, microsecond=0) - dt.timedelta(minutes=now.minute % 10 + 10)
    for minute in range(360, 0, -1):
        at = now - dt.timedelta(minutes=minute)
        wave = 2 + 2 * math.sin(minute / 40)
        spike = 30 if block <= at < block + dt.timedelta(minutes=10) else 0
        for j in range(int(wave + spike + rnd.random() * 2)):
            place = PLACES[0] if spike else rnd.choice(PLACES)
            facts.append(Fact("sos.created", f"s{minute}-{j}", at + dt.timedelta(seconds=j),
                              category=rnd.choice(situations[:2] if spike else situations),
                              lat=place[0] + rnd.uniform(-0.01, 0.01),
                              lon=place[1] + rnd.uniform(-0.01, 0.01)))
        if minute % 3 == 0:
            facts.append(Fact("dispatch.assigned", f"i{minute}", at, category="attack",
                              value=60 + rnd.random() * 120))
            facts.append(Fact("dispatch.on_scene", f"i{minute}", at, category="attack",
                              value=300 + rnd.random() * 400))
        for j in range(rnd.randrange(0, 6)):
            facts.append(Fact("alerts.targeted", f"t{minute}-{j}", at, category="push"))
            kind = "alerts.delivered" if j else "alerts.failed"
            facts.append(Fact(kind, f"d{minute}-{j}", at, category="push", value=4.0))
        for j in range(rnd.randrange(0, 4)):
            facts.append(Fact("safety.mark", f"m{minute}-{j}", at,
                              category="safe" if j else "need_help", lat=PLACES[j][0],
                              lon=PLACES[j][1]))
            facts.append(Fact("watch.report", f"r{minute}-{j}", at,
                              category=["hate", "terrorism_apology", "call_to_violence"][j % 3],
                              detail=["bigsocial", "tinyvideo"][j % 2]))
        if minute % 5 == 0:
            facts.append(Fact("persons.reported", f"p{minute}", at))
            facts.append(Fact("watch.order_issued", f"o{minute}", at, category="notified",
                              detail="bigsocial"))
            facts.append(Fact("watch.decision", f"w{minute}", at,
                              category="true_positive" if minute % 4 else "false_positive"))
        if minute % 7 == 0:
            facts.append(Fact("persons.found", f"p{minute + 5}", at, category="believed_alive"))
            facts.append(Fact("watch.order_removed", f"o{minute + 5}", at, category="within_hour",
                              detail="bigsocial", value=1200.0))
    with session_scope(app.state.runtime.sessions) as session:
        ingest.store(session, facts)
    with session_scope(app.state.runtime.sessions) as session:
        anomaly.scan(session, registry(), StatsSettings(), now=now)


def test_analyst_dashboard_shows_charts_map_and_notices(
    browser: Browser, live_app: FastAPI, live_server: str,
    watch_page: Callable[[Page], Problems], screenshot_dir: Path,
) -> None:
    _generate(live_app)
    analyst, password = live_account(live_app, "analyst", "analyste.web")
    context = browser.new_context(locale="fr-FR", viewport={"width": 1280, "height": 1000})
    page = context.new_page()
    problems = watch_page(page)
    page.goto(live_server + "/stats")
    sign_in = page.locator('[data-form="login"]')
    sign_in.get_by_label("Identifiant").fill(analyst)
    sign_in.get_by_label("Mot de passe").fill(password)
    sign_in.get_by_role("button", name="Se connecter").click()
    expect(page.locator('#stats-app[data-ready="true"]')).to_be_attached(timeout=30000)
    assert page.locator(".uplot").count() >= 7  # main chart + the overview
    assert page.locator("path.leaflet-interactive").count() >= 3  # hexagons on the map
    expect(page.locator(".stats-notice").first).to_contain_text("SOS reçus")
    assert problems.all() == []
    page.screenshot(path=screenshot_dir / "stats.png", full_page=True)
    # A click on a hexagon filters by that area.
    page.locator("path.leaflet-interactive").first.click()
    expect(page.locator("#f-area")).not_to_have_value("")
    context.close()


def test_public_report_page(browser: Browser, live_server: str,
                            watch_page: Callable[[Page], Problems],
                            screenshot_dir: Path) -> None:
    context = browser.new_context(locale="fr-FR", viewport={"width": 1280, "height": 1000})
    page = context.new_page()
    problems = watch_page(page)
    page.goto(live_server + "/stats/report")
    expect(page.locator("h1")).to_contain_text("Rapport de transparence")
    expect(page.locator("#section-tco")).to_be_visible()
    expect(page.locator('[data-status="suppressed"]').first).to_be_attached()
    assert problems.all() == []
    page.screenshot(path=screenshot_dir / "stats-report.png", full_page=True)
    context.close()
    bad = httpx.get(live_server + "/stats/report", params={"from": "2026-11-14T00:00:00Z",
                                                           "to": "2026-11-13T00:00:00Z"})
    assert bad.status_code == 422 and "before it starts" in bad.text
