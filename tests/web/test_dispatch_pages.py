"""Dispatch pages in a real browser: a citizen taps SOS, the dispatcher sees it on the map
within two seconds, and the nearest unit's page receives the offer and accepts it."""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path
from typing import Protocol

import httpx
import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from playwright.sync_api import Browser, Page, expect

from tests.web.conftest import live_account

PETIT_CAMBODGE = {"latitude": 48.8718, "longitude": 2.3695, "accuracy": 12}


class Problems(Protocol):
    def all(self) -> list[str]: ...


def test_pages_are_served_in_french(web_client: TestClient) -> None:
    console = web_client.get("/dispatch")
    assert console.status_code == 200 and "Connexion opérateur" in console.text
    unit = web_client.get("/unit?lang=en")
    assert unit.status_code == 200 and "Unit login" in unit.text


def _login(page: Page, username: str, password: str) -> None:
    form = page.locator('[data-form="login"]')
    form.get_by_label("Identifiant").fill(username)
    form.get_by_label("Mot de passe").fill(password)
    form.get_by_role("button", name="Se connecter").click()


def _setup(base: str, app: FastAPI) -> tuple[str, str, str]:
    """Accounts, a unit near the scene, and no incident left over by other browser tests."""
    dispatcher, password = live_account(app, "dispatcher", "op.dispatch.browser")
    unit_user, _ = live_account(app, "unit", "unit.browser")
    token = httpx.post(f"{base}/api/v1/auth/token",
                       data={"username": dispatcher, "password": password}).json()["access_token"]
    headers = {"Authorization": f"Bearer {token}"}
    for incident in httpx.get(f"{base}/api/v1/dispatch/incidents", headers=headers).json():
        httpx.post(f"{base}/api/v1/dispatch/incidents/{incident['id']}/close", headers=headers,
                   json={"reason": "left over by another test"})
    created = httpx.post(f"{base}/api/v1/dispatch/units", headers=headers, json={
        "callsign": "PS-75-11", "username": unit_user, "lat": 48.8702, "lon": 2.3671})
    assert created.status_code == 201, created.text
    httpx.post(f"{base}/api/v1/dispatch/units", headers=headers,
               json={"callsign": "PS-75-20", "lat": 48.8566, "lon": 2.3522})
    return dispatcher, unit_user, password


@pytest.mark.browser
def test_sos_reaches_dispatcher_map_and_unit_offer(
    browser: Browser,
    live_app: FastAPI,
    live_server: str,
    watch_page: Callable[[Page], Problems],
    screenshot_dir: Path,
) -> None:
    dispatcher, unit_user, password = _setup(live_server, live_app)
    desk = browser.new_context(locale="fr-FR", viewport={"width": 1400, "height": 1000})
    field = browser.new_context(locale="fr-FR", viewport={"width": 390, "height": 844},
                                is_mobile=True, has_touch=True,
                                geolocation={"latitude": 48.8702, "longitude": 2.3671,
                                             "accuracy": 8},
                                permissions=["geolocation"])
    phone = browser.new_context(locale="fr-FR", viewport={"width": 390, "height": 844},
                                is_mobile=True, has_touch=True, geolocation=PETIT_CAMBODGE,
                                permissions=["geolocation"])
    try:
        console = desk.new_page()
        console_problems = watch_page(console)
        console.goto(f"{live_server}/dispatch")
        _login(console, dispatcher, password)
        expect(console.locator("[data-live]")).to_have_text("● En direct", timeout=10_000)
        expect(console.locator("[data-units] [data-status]")).to_have_count(2)
        markers_before = console.locator("path.sos-marker").count()

        unit = field.new_page()
        unit_problems = watch_page(unit)
        unit.goto(f"{live_server}/unit")
        _login(unit, unit_user, password)
        expect(unit.locator("[data-callsign]")).to_have_text("PS-75-11")
        expect(unit.locator("[data-offer-empty]")).to_be_visible()

        citizen = phone.new_page()
        citizen.goto(f"{live_server}/sos")
        expect(citizen.locator("[data-position]")).to_contain_text("±12 m")
        citizen.locator("input[value=attack]").check()
        citizen.locator("[data-send]").click()
        expect(citizen.locator("[data-ack]")).to_contain_text("Alerte reçue", timeout=10_000)
        acked = time.monotonic()

        # The dispatcher's map shows it within two seconds of the acknowledgement, no reload.
        expect(console.locator("path.sos-marker")).to_have_count(markers_before + 1,
                                                                 timeout=2_000)
        assert time.monotonic() - acked < 2.0
        item = console.locator("[data-queue] [data-incident-id]").first
        expect(item).to_contain_text("Attaque · 1 SOS")

        # The nearest unit's page receives the offer and accepts it.
        expect(unit.locator("[data-offer]")).to_be_visible(timeout=5_000)
        expect(unit.locator("[data-offer-summary]")).to_contain_text("Attaque")
        unit.screenshot(path=str(screenshot_dir / "unit.png"), full_page=True)
        unit.locator('[data-action="accept"]').click()
        expect(unit.locator("[data-offer]")).to_have_attribute("data-status", "accepted")
        expect(unit.locator("[data-unit-status]")).to_have_text("engagée")

        expect(item).to_contain_text("PS-75-11 (acceptée)", timeout=5_000)
        item.click()
        expect(console.locator("[data-detail-summary]")).to_contain_text("Attaque")
        console.locator("[data-sos-list] button").first.click()
        expect(console.locator("[data-sos-detail]")).to_be_visible()
        console.wait_for_timeout(800)  # the map's zoom animation, not a frame of it
        console.screenshot(path=str(screenshot_dir / "dispatch.png"), full_page=True)
        assert console_problems.all() == []
        assert unit_problems.all() == []
    finally:
        desk.close()
        field.close()
        phone.close()
