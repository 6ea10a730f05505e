"""The unit's offer in Chromium, as a crew in a car reads it (issue 20, unit page).

Situation, people waiting, the caller's latest words, a countdown that moves, a ``geo:`` link
for the phone's navigation app, a map with the line from the unit to the SOS, and a vibration
when the offer arrives.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import httpx
import pytest
from fastapi import FastAPI
from playwright.sync_api import Browser, Page, expect

from tests.web.conftest import PageProblems, live_account, own_live_server

# Records navigator.vibrate calls (the headless browser has no motor to ask).
VIBRATE_SPY = """
window.__vibrations = [];
Object.defineProperty(Navigator.prototype, "vibrate", {
  configurable: true, value: (pattern) => { window.__vibrations.push(pattern); return true; },
});
"""


@pytest.fixture(scope="module")
def unit_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, FastAPI]]:
    with own_live_server(tmp_path_factory.mktemp("unit-live"), "unit-live") as served:
        yield served


def _login(page: Page, username: str, password: str) -> None:
    form = page.locator('[data-form="login"]')
    form.get_by_label("Identifiant").fill(username)
    form.get_by_label("Mot de passe").fill(password)
    form.get_by_role("button", name="Se connecter").click()


@pytest.mark.browser
def test_the_offer_says_where_and_what(
    browser: Browser,
    unit_server: tuple[str, FastAPI],
    watch_page: Callable[[Page], PageProblems],
    screenshot_dir: Path,
) -> None:
    base, app = unit_server
    dispatcher, password = live_account(app, "dispatcher", "op.unit.offer")
    crew, _ = live_account(app, "unit", "crew.ps7511")
    token = httpx.post(f"{base}/api/v1/auth/token",
                       data={"username": dispatcher, "password": password}).json()["access_token"]
    httpx.post(f"{base}/api/v1/dispatch/units", headers={"Authorization": f"Bearer {token}"},
               json={"callsign": "PS-75-11", "username": crew, "lat": 48.8702,
                     "lon": 2.3671}).raise_for_status()
    car = browser.new_context(locale="fr-FR", viewport={"width": 390, "height": 844},
                              is_mobile=True, has_touch=True,
                              geolocation={"latitude": 48.8702, "longitude": 2.3671,
                                           "accuracy": 8}, permissions=["geolocation"])
    try:
        page = car.new_page()
        page.add_init_script(VIBRATE_SPY)
        problems = watch_page(page)
        page.goto(f"{base}/unit")
        _login(page, crew, password)
        expect(page.locator("[data-offer-empty]")).to_be_visible()

        ack = httpx.post(f"{base}/api/v1/sos", json={
            "lat": 48.8631, "lon": 2.3708, "accuracy_m": 12, "situation": "hostage",
            "people": 4, "text": "Ils sont deux, armés, au bar du rez-de-chaussée",
            "client_id": "unit-offer-test-000000001"}).json()
        httpx.post(f"{base}/api/v1/sos/{ack['id']}/messages",
                   headers={"X-Follow-Up-Token": ack["follow_up_token"]},
                   json={"text": "Ils montent à l'étage"}).raise_for_status()

        expect(page.locator("[data-offer]")).to_be_visible(timeout=10_000)
        expect(page.locator("[data-offer-alert]")).to_be_visible()
        expect(page.locator("[data-offer-summary]")).to_contain_text("Otages")
        expect(page.locator("[data-offer-people]")).to_have_text("4")
        expect(page.locator("[data-offer-text]")).to_have_text("Ils montent à l'étage")
        countdown = page.locator("[data-offer-deadline]")
        expect(countdown).to_contain_text("Répondre dans")
        first = int(countdown.get_attribute("data-left") or "0")
        page.wait_for_timeout(1600)
        assert 0 < int(countdown.get_attribute("data-left") or "0") < first
        href = page.locator("[data-nav]").get_attribute("href") or ""
        assert href.startswith("geo:48.86") and ",2.37" in href, href
        expect(page.locator("path.unit-route")).to_have_count(1)
        assert page.evaluate("window.__vibrations.length") == 1
        page.screenshot(path=str(screenshot_dir / "unit-offer.png"), full_page=True)

        page.locator('[data-action="accept"]').click()
        expect(page.locator("[data-offer]")).to_have_attribute("data-status", "accepted")
        expect(page.locator("[data-offer-alert]")).to_be_hidden()
        expect(countdown).to_be_hidden()
        page.wait_for_timeout(2500)  # more polls: the same offer does not vibrate again
        assert page.evaluate("window.__vibrations.length") == 1
        assert problems.all() == []
    finally:
        car.close()
