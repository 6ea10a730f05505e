"""Browser test of official alerts: one authority draws a polygon and submits, a second approves,
and a citizen page already open shows the alert within 2 seconds (SSE). Screenshots are saved in
docs/screenshots/ (authority.png, alerts.png)."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from fastapi import FastAPI
from playwright.sync_api import Browser, Page, expect

from tests.factories import PASSWORD, make_user
from tests.web.conftest import PageProblems, own_live_server
from tocsin.core.auth.roles import Role
from tocsin.core.db import session_scope

pytestmark = pytest.mark.browser

HEADLINE = "Fusillade en cours, restez à l'abri"


@pytest.fixture(scope="module")
def alerts_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, FastAPI]]:
    """A live server of its own, so the test can create accounts in its database."""
    with own_live_server(tmp_path_factory.mktemp("alerts-live"), "alerts-live") as served:
        yield served


def _authority(app: FastAPI, name: str) -> str:
    with session_scope(app.state.runtime.sessions) as session:
        make_user(session, role=Role.authority, username=name)
    return name


def _page(browser: Browser, height: int) -> Page:
    context = browser.new_context(locale="fr-FR", viewport={"width": 1280, "height": height})
    return context.new_page()


def _login(page: Page, base: str, username: str) -> None:
    page.goto(f"{base}/authority")
    page.fill("#login-username", username)
    page.fill("#login-password", PASSWORD)
    page.click("[data-form=login] button[type=submit]")
    expect(page.locator("[data-view=console]")).to_be_visible()


def test_draw_submit_approve_and_citizen_sees_it(
    alerts_server: tuple[str, FastAPI],
    browser: Browser,
    watch_page: Callable[[Page], PageProblems],
    screenshot_dir: Path,
) -> None:
    base, app = alerts_server
    first, second = _authority(app, "prefet.martin"), _authority(app, "prefete.durand")

    citizen = _page(browser, 900)
    citizen_problems = watch_page(citizen)
    citizen.goto(f"{base}/alerts")
    expect(citizen.locator("[data-live]")).to_have_text("Mise à jour en direct.")
    expect(citizen.locator("[data-empty]")).to_be_visible()

    author = _page(browser, 1000)
    author_problems = watch_page(author)
    _login(author, base, first)
    author.fill("#f-fr-event", "Attaque terroriste")
    author.fill("#f-fr-headline", HEADLINE)
    author.fill("#f-fr-description", "Des tirs sont signalés rue de Charonne, bd Voltaire.")
    author.fill("#f-fr-instruction", "Restez à l'intérieur, éloignez-vous des fenêtres, ne "
                "sortez pas avant la fin de l'alerte.")
    author.fill("#f-en-event", "Terrorist attack")
    author.fill("#f-en-headline", "Shooting under way, stay indoors")
    author.fill("#f-en-description", "Shots reported rue de Charonne and boulevard Voltaire.")
    author.fill("#f-area-desc", "Paris 11e, secteur Charonne - Voltaire")
    author.select_option("#f-severity", "Extreme")
    author.click("[data-draw=polygon]")
    area = author.locator("#compose-map")
    area.scroll_into_view_if_needed()
    box = area.bounding_box()
    assert box is not None
    for fx, fy in ((0.35, 0.3), (0.65, 0.28), (0.7, 0.7), (0.4, 0.75)):
        area.click(position={"x": box["width"] * fx, "y": box["height"] * fy})
    author.click("[data-draw=finish]")
    expect(author.locator("[data-area-summary]")).to_have_text("Polygone de 4 sommets.")
    author.screenshot(path=str(screenshot_dir / "authority.png"), full_page=True)
    author.click("[data-submit]")
    expect(author.locator("[data-message=compose]")).to_contain_text("en attente de validation")
    queued = author.locator("[data-queue] .alert-card")
    expect(queued).to_have_count(1)
    expect(queued.locator(".alert-help")).to_contain_text("une autre autorité doit valider")
    # Before approval, nothing reaches the citizen.
    expect(citizen.locator(".alert-card")).to_have_count(0)

    approver = _page(browser, 1000)
    approver_problems = watch_page(approver)
    _login(approver, base, second)
    approve = approver.get_by_role("button", name="Valider et publier")
    expect(approve).to_be_visible()
    approve.click()
    clicked = time.monotonic()
    card = citizen.locator(".alert-card h3")
    expect(card).to_have_text(HEADLINE, timeout=2000)
    shown_after = time.monotonic() - clicked
    assert shown_after < 2.0, shown_after
    expect(citizen.locator(".leaflet-overlay-pane path")).to_have_count(1)
    expect(citizen.locator(".alert-badge")).to_have_text("Extrême")

    expect(approver.locator("[data-live-list] .alert-card")).to_have_count(1)
    expect(author.locator("[data-live-list] .alert-card")).to_have_count(1, timeout=5000)
    expect(author.locator("[data-queue] .alert-card")).to_have_count(0)
    citizen.screenshot(path=str(screenshot_dir / "alerts.png"), full_page=True)

    for problems in (citizen_problems, author_problems, approver_problems):
        assert problems.all() == []
