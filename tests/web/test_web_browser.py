"""The home page in headless Chromium against a live server: language, status, CSP, screenshots.

Screenshots are taken with a frozen clock and a fixed time zone so that they only change when
the page does (they are committed under docs/screenshots/).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Protocol

import httpx
import pytest
from playwright.sync_api import Browser, BrowserContext, Page, expect

pytestmark = pytest.mark.browser


class Problems(Protocol):
    def all(self) -> list[str]: ...


Watch = Callable[[Page], Problems]

FROZEN_NOW = dt.datetime(2025, 1, 6, 9, 30, tzinfo=dt.UTC)


@pytest.fixture
def context(browser: Browser) -> Iterator[BrowserContext]:
    """A fresh browser profile (no cookie) of a French desktop user."""
    ctx = browser.new_context(
        locale="fr-FR", timezone_id="Europe/Paris", viewport={"width": 1280, "height": 800}
    )
    yield ctx
    ctx.close()


def open_home(page: Page, url: str) -> None:
    page.clock.set_fixed_time(FROZEN_NOW)
    page.goto(url)
    # The status widget has fetched /healthz and written the answer.
    expect(page.locator("[data-health-widget]")).to_have_attribute("aria-busy", "false")


def test_home_in_french_with_live_status(
    context: BrowserContext, live_server: str, watch_page: Watch, screenshot_dir: Path
) -> None:
    page = context.new_page()
    problems = watch_page(page)
    open_home(page, live_server + "/")

    expect(page.locator("html")).to_have_attribute("lang", "fr")
    expect(page.get_by_role("heading", level=1)).to_contain_text("Tocsin")
    expect(page.get_by_role("heading", name="Pour les citoyens")).to_be_visible()
    expect(page.get_by_role("heading", name="SOS silencieux")).to_be_visible()
    # Every domain's page has landed: none is announced as coming soon, each is a link.
    expect(page.locator(".badge-soon")).to_have_count(0)
    expect(page.locator('a[href="/stats"]').first).to_be_visible()
    expect(page.locator('a[href="/cyber"]').first).to_be_visible()

    for field in ("status", "database", "bus"):
        expect(page.locator(f'[data-health="{field}"]')).to_have_text("✓ ok")
    expect(page.locator("[data-health-summary]")).to_have_text("Tous les services fonctionnent.")
    expect(page.locator("[data-health-checked]")).to_have_text("Dernière vérification : 10:30:00")

    # The stylesheet was allowed by the CSP and applied (system font, header rule).
    header_border = page.locator(".site-header").evaluate(
        "el => getComputedStyle(el).borderTopWidth"
    )
    assert header_border == "4px"

    assert problems.all() == []

    page.screenshot(path=screenshot_dir / "home.png", full_page=True)


def test_page_is_served_under_a_strict_csp(live_server: str) -> None:
    csp = httpx.get(live_server + "/").headers["content-security-policy"]
    assert "script-src 'self'" in csp and "style-src 'self'" in csp


def test_english_switch_persists(
    context: BrowserContext, live_server: str, watch_page: Watch
) -> None:
    page = context.new_page()
    problems = watch_page(page)
    open_home(page, live_server + "/")

    page.get_by_role("banner").get_by_role("link", name="English").click()
    expect(page).to_have_url(live_server + "/?lang=en")
    expect(page.locator("html")).to_have_attribute("lang", "en")
    expect(page.get_by_role("heading", name="For citizens")).to_be_visible()
    cookies = {c["name"]: c["value"] for c in context.cookies()}
    assert cookies.get("lang") == "en"

    # No ?lang= any more, and the browser still says fr-FR: the cookie keeps English.
    open_home(page, live_server + "/")
    expect(page.locator("html")).to_have_attribute("lang", "en")
    expect(page.get_by_role("heading", name="Silent SOS")).to_be_visible()
    expect(page.locator("[data-health-summary]")).to_have_text("All services are running.")

    page.get_by_role("banner").get_by_role("link", name="Français").click()
    expect(page.locator("html")).to_have_attribute("lang", "fr")

    assert problems.all() == []


def test_mobile_layout(
    browser: Browser, live_server: str, watch_page: Watch, screenshot_dir: Path
) -> None:
    ctx = browser.new_context(
        locale="fr-FR",
        timezone_id="Europe/Paris",
        viewport={"width": 390, "height": 844},
        device_scale_factor=1,
        is_mobile=True,
        has_touch=True,
    )
    try:
        page = ctx.new_page()
        problems = watch_page(page)
        open_home(page, live_server + "/")
        expect(page.locator('[data-health="status"]')).to_have_text("✓ ok")
        # Nothing wider than the phone: no sideways scrolling.
        overflow = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
        assert overflow <= 0
        assert problems.all() == []
        page.screenshot(path=screenshot_dir / "home-mobile.png", full_page=True)
    finally:
        ctx.close()
