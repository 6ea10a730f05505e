"""The cyber desk: a slow answer for the report opened (or the list filtered) before must not
replace the one the analyst asked for since.

An analyst opening one report, then another, used to see the first one's detail arrive last and
stay in the detail box (its contact, its indicators marked in the table) while the second was the
one being qualified; the same for the list when the status filter changed twice quickly.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

import httpx
import pytest
from fastapi import FastAPI
from playwright.sync_api import Browser, Page, Route, expect

from tests.web.conftest import live_account, own_live_server


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, FastAPI]]:
    with own_live_server(tmp_path_factory.mktemp("cyber-race"), "cyber-race") as served:
        yield served


def _report(url: str, kind: str, email: str) -> str:
    r = httpx.post(f"{url}/api/v1/cyber/incidents", json={
        "incident_type": kind, "sector": "health", "size": "large", "region": "FR-ARA",
        "occurred_at": "2026-01-11T08:00:00+01:00", "impact": "moderate",
        "description": "Signalement de test", "contact": {"email": email}})
    assert r.status_code == 201, r.text
    return str(r.json()["id"])


def _open(page: Page, incident: str) -> None:
    row = page.locator(f'[data-incident="{incident}"]')
    row.get_by_label("Motif de la consultation").fill("qualification")
    row.get_by_role("button", name="Ouvrir (journalisé)").click()


@pytest.mark.browser
def test_late_answers_of_the_previous_report_and_filter_are_dropped(
    browser: Browser, server: tuple[str, FastAPI]
) -> None:
    url, app = server
    analyst, password = live_account(app, "analyst", "analyste.race")
    first = _report(url, "phishing", "rssi@premier.example.fr")
    second = _report(url, "ransomware", "rssi@second.example.fr")
    context = browser.new_context(locale="fr-FR", viewport={"width": 1280, "height": 1200})
    try:
        page = context.new_page()
        page.goto(url + "/cyber")
        form = page.locator('[data-form="login"]')
        form.get_by_label("Identifiant").fill(analyst)
        form.get_by_label("Mot de passe").fill(password)
        form.get_by_role("button", name="Se connecter").click()
        expect(page.locator(f'[data-incident="{second}"]')).to_be_visible()

        held: list[Route] = []
        page.route(re.compile(rf"/api/v1/cyber/incidents/{first}\?"), lambda r: held.append(r))
        _open(page, first)
        page.wait_for_timeout(300)
        assert len(held) == 1
        _open(page, second)
        detail = page.locator('[data-detail="incident"]')
        expect(detail).to_contain_text("rssi@second.example.fr")
        held[0].continue_()
        page.wait_for_timeout(800)
        expect(detail).to_contain_text("rssi@second.example.fr")
        expect(detail).to_have_attribute("data-open-incident", second)

        # The filter: "closed" (none) held back, then "all" chosen; the late empty list must
        # not hide the two reports.
        held.clear()
        page.route(re.compile(r"/api/v1/cyber/incidents\?status=closed"), lambda r: held.append(r))
        status = page.locator('[data-filter="incident-status"]')
        status.select_option("closed")
        page.wait_for_timeout(300)
        assert len(held) == 1
        status.select_option("")
        rows = page.locator('[data-table="incidents"] [data-incident]')
        expect(rows).to_have_count(2)
        held[0].continue_()
        page.wait_for_timeout(800)
        expect(rows).to_have_count(2)
    finally:
        context.close()
