"""The observatory in Chromium: an analyst signs in and sees real charts, the hexagon map and
an anomaly notice over generated figures; the public report page shows suppressed cells."""

from __future__ import annotations

import datetime as dt
import math
import random
import re
from collections.abc import Callable
from pathlib import Path
from typing import Literal, Protocol

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
from tocsin.web.stats_pages import categories_without_words, category_labels

pytestmark = pytest.mark.browser

PLACES = [(48.8631, 2.3708), (48.8530, 2.3690), (48.8686, 2.3590), (48.9245, 2.3602),
          (48.8420, 2.3290), (48.8790, 2.3000)]


FRESH = (48.7904, 2.4556)


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
        if spike:
            # And a place where nothing was ever counted: a notice with a zero baseline.
            facts.extend(Fact("sos.created", f"f{minute}-{j}", at + dt.timedelta(seconds=j),
                              category="attack", lat=FRESH[0], lon=FRESH[1]) for j in range(3))
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
    expect(page.locator("[data-whoami]")).to_have_text("Connecté(e) : analyste.web")
    # The default period fits the six generated hours (not a fixed window around now).
    span_minutes = page.evaluate(
        "(Date.parse(document.querySelector('#f-to').value)"
        " - Date.parse(document.querySelector('#f-from').value)) / 60000")
    assert 360 <= span_minutes <= 420, span_minutes
    notices = page.locator(".stats-notice")
    expect(notices.first).to_contain_text("SOS reçus")
    # Places in words, never an H3 cell id; categories in French, never their codes.
    expect(notices.filter(has_text="zone près de").first).to_be_visible()
    body = page.locator("body").inner_text()
    assert not re.search(r"\b8[0-9a-f]{14}\b", body), "an H3 cell id is shown"
    for code in ("armed_person", "need_help", "terrorism_apology", "true_positive"):
        assert code not in body, code
    assert "Personne armée" in body and "apologie du terrorisme" in body
    # A spike where (almost) nothing was counted before says so instead of a meaningless z.
    first_seen = page.locator('.stats-notice[data-first="true"]')
    assert first_seen.count() >= 1, notices.all_inner_texts()
    expect(first_seen.first).to_contain_text("pas de référence à comparer")
    expect(first_seen.first).not_to_contain_text("(z ")
    # Legends carry values: each line's total over the period.
    expect(page.locator("[data-map-legend]")).to_contain_text(
        re.compile(r"SOS reçus par hexagone : \d+ … \d+"))
    legend = page.locator("[data-main-chart] .u-legend")
    expect(legend).to_contain_text(re.compile(r"Attaque · \d+"))
    assert problems.all() == []
    page.screenshot(path=screenshot_dir / "stats.png", full_page=True)
    # A click on a hexagon filters by that area, named as a place.
    page.locator("path.leaflet-interactive").first.click()
    expect(page.locator("#f-area")).not_to_have_value("")
    expect(page.locator("[data-area-label]")).to_contain_text("zone près de")
    expect(page.locator('#stats-app[data-ready="true"]')).to_be_attached(timeout=30000)
    page.set_viewport_size({"width": 390, "height": 844})
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= 390, f"the observatory scrolls sideways on a phone: {width}px"
    page.screenshot(path=screenshot_dir / "stats-phone.png", full_page=True)
    context.close()


@pytest.mark.parametrize("lang", ["fr", "en"])
def test_every_category_has_words(lang: Literal["fr", "en"]) -> None:
    """A domain that adds a category must give it words, or the observatory shows its code."""
    assert categories_without_words(lang) == []
    labels = category_labels(lang)
    assert labels["terrorism_apology"] == (
        "apologie du terrorisme" if lang == "fr" else "terrorism apology")


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
    # Breakdowns in words (the dashboard's test generated them first), not their codes.
    body = page.locator("body").inner_text()
    for code in ("armed_person", "terrorism_apology", "need_help", "believed_alive"):
        assert code not in body, code
    assert "apologie du terrorisme" in body
    assert problems.all() == []
    page.screenshot(path=screenshot_dir / "stats-report.png", full_page=True)
    page.set_viewport_size({"width": 390, "height": 844})
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= 390, f"the report scrolls sideways on a phone: {width}px"
    page.screenshot(path=screenshot_dir / "stats-report-phone.png", full_page=True)
    context.close()
    bad = httpx.get(live_server + "/stats/report", params={"from": "2026-11-14T00:00:00Z",
                                                           "to": "2026-11-13T00:00:00Z"})
    assert bad.status_code == 422 and "before it starts" in bad.text
