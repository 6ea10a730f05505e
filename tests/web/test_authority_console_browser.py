"""Browser test of the authority console as a prefect reads it: CAP values in words with the CAP
code beside (« Réel » Actual), issue and expiry times labelled, counts with the right plural, and
a safety check proposed from the page that waits for a second authority before it opens.
Screenshots: docs/screenshots/authority-console.png and authority-console-phone.png."""

from __future__ import annotations

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


@pytest.fixture(scope="module")
def console_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, FastAPI]]:
    with own_live_server(tmp_path_factory.mktemp("authority-live"), "authority-live") as served:
        yield served


def _authority(app: FastAPI, name: str) -> str:
    with session_scope(app.state.runtime.sessions) as session:
        make_user(session, role=Role.authority, username=name)
    return name


def _signed_in(
    browser: Browser,
    base: str,
    username: str,
    locale: str = "fr-FR",
    viewport: tuple[int, int] = (1280, 1000),
    watch: Callable[[Page], PageProblems] | None = None,
) -> tuple[Page, PageProblems | None]:
    """A console page signed in; watched from its first request when `watch` is given."""
    context = browser.new_context(
        locale=locale, viewport={"width": viewport[0], "height": viewport[1]}
    )
    page = context.new_page()
    problems = watch(page) if watch else None
    page.goto(f"{base}/authority")
    page.fill("#login-username", username)
    page.fill("#login-password", PASSWORD)
    page.click("[data-form=login] button[type=submit]")
    expect(page.locator("[data-view=console]")).to_be_visible()
    return page, problems


def _option(page: Page, field: str, value: str) -> str:
    return page.locator(f"#f-{field} option[value={value}]").inner_text()


def _click_map(page: Page, selector: str, points: tuple[tuple[float, float], ...]) -> None:
    area = page.locator(selector)
    area.scroll_into_view_if_needed()
    box = area.bounding_box()
    assert box is not None
    for fx, fy in points:
        area.click(position={"x": box["width"] * fx, "y": box["height"] * fy})


def test_cap_values_in_words_times_labelled_and_plurals(
    console_server: tuple[str, FastAPI],
    browser: Browser,
    watch_page: Callable[[Page], PageProblems],
    screenshot_dir: Path,
) -> None:
    base, app = console_server
    author, problems = _signed_in(
        browser, base, _authority(app, "prefet.lemoine"), watch=watch_page
    )

    # The choices say what they mean, with the CAP code beside.
    assert _option(author, "status", "Actual") == "Réel (Actual)"
    assert _option(author, "category", "Security") == "Sécurité (Security)"
    assert _option(author, "urgency", "Immediate") == "Immédiate (Immediate)"
    assert _option(author, "response", "Shelter") == ("Mise à l'abri (Shelter)")

    author.fill("#f-fr-event", "Attaque terroriste")
    author.fill("#f-fr-headline", "Restez à l'abri, secteur République")
    author.fill("#f-fr-description", "Des tirs sont signalés place de la République.")
    author.fill("#f-area-desc", "Paris 3e, 10e, 11e : République")
    author.select_option("#f-severity", "Extreme")
    author.select_option("#f-urgency", "Immediate")
    author.select_option("#f-response", "Shelter")
    author.click("[data-draw=polygon]")
    # One vertex, then two: the summary's plural follows the count.
    _click_map(author, "#compose-map", ((0.35, 0.3),))
    expect(author.locator("[data-area-summary]")).to_have_text("Polygone de 1 sommet.")
    _click_map(author, "#compose-map", ((0.65, 0.28),))
    expect(author.locator("[data-area-summary]")).to_have_text("Polygone de 2 sommets.")
    _click_map(author, "#compose-map", ((0.7, 0.7), (0.4, 0.75)))
    author.click("[data-draw=finish]")
    expect(author.locator("[data-area-summary]")).to_have_text("Polygone de 4 sommets.")
    author.click("[data-submit]")
    expect(author.locator("[data-message=compose]")).to_contain_text("en attente de validation")

    queued = author.locator("[data-queue] .alert-card")
    expect(queued).to_have_count(1)
    tags = queued.locator(".alert-card-tags")
    # One address search on the page while composing (the safety check's is added when opened).
    expect(author.locator("[data-geo-search]")).to_have_count(1)
    expect(tags.locator("[data-cap=status]")).to_have_text("RéelActual")
    expect(tags.locator("[data-cap=status] small")).to_have_text("Actual")
    expect(tags.locator("[data-cap=msgtype]")).to_have_text("AlerteAlert")
    expect(tags.locator("[data-cap=category]")).to_have_text("SécuritéSecurity")
    expect(tags.locator("[data-cap=urgency]")).to_have_text("ImmédiateImmediate")
    expect(tags.locator("[data-cap=severity]")).to_have_text("ExtrêmeExtreme")
    expect(queued).to_contain_text("Rédigée le ")
    expect(queued).to_contain_text("Expire le ")

    approver, approver_problems = _signed_in(
        browser, base, _authority(app, "prefete.roux"), watch=watch_page
    )
    approver.get_by_role("button", name="Valider et publier").click()
    live = author.locator("[data-live-list] .alert-card")
    expect(live).to_have_count(1, timeout=5000)
    expect(live).to_contain_text("Émise le ")
    expect(live).to_contain_text("Expire le ")
    # No subscriber in this area: zero is singular in French.
    expect(live.locator("[data-deliveries]")).to_have_text(
        "Envois : 0 fait, 0 en cours, 0 en échec", timeout=5000
    )

    english, _ = _signed_in(browser, base, "prefete.roux", locale="en-GB")
    assert _option(english, "status", "Actual") == "Real (Actual)"
    assert _option(english, "severity", "Severe") == "Severe"
    live_en = english.locator("[data-live-list] .alert-card")
    # Same word as the code in English: the code is not repeated.
    expect(live_en.locator("[data-cap=category]")).to_have_text("Security")
    expect(live_en).to_contain_text("Issued ")
    english.click("[data-draw=polygon]")
    _click_map(english, "#compose-map", ((0.3, 0.3),))
    expect(english.locator("[data-area-summary]")).to_have_text("Polygon of 1 vertex.")

    author.screenshot(path=str(screenshot_dir / "authority-console.png"), full_page=True)
    for found in (problems, approver_problems):
        assert found is not None
        assert found.all() == []


def test_safety_check_proposed_waits_for_a_second_authority(
    console_server: tuple[str, FastAPI],
    browser: Browser,
    watch_page: Callable[[Page], PageProblems],
    screenshot_dir: Path,
) -> None:
    base, app = console_server
    author, problems = _signed_in(
        browser, base, _authority(app, "prefet.garnier"), watch=watch_page
    )
    panel = author.locator("[data-safety]")
    # The form is folded under its title; opening it brings its map and address search.
    expect(author.locator("#s-name")).to_be_hidden()
    author.get_by_text("Proposer un point sécurité", exact=True).click()
    expect(panel.locator("[data-geo-search]")).to_have_count(1)
    author.fill("#s-name", "Point sécurité Paris 11e")
    author.click("[data-safety-submit]")
    expect(author.locator("[data-message=safety]")).to_have_text(
        "Tracez la zone sur la carte (cercle ou polygone)."
    )
    author.click("[data-safety-draw=circle]")
    _click_map(author, "#safety-map", ((0.5, 0.5), (0.6, 0.5)))
    expect(author.locator("[data-safety-area-summary]")).to_have_text("Zone tracée.")
    author.click("[data-safety-submit]")
    expect(author.locator("[data-message=safety]")).to_contain_text("en attente de validation")
    card = panel.locator(".alert-card", has_text="Point sécurité Paris 11e")
    expect(card).to_have_count(1)
    expect(card.locator(".safety-pending")).to_have_text("En attente de validation")
    # Its author cannot open it alone; the refusal is said on the card.
    card.get_by_role("button", name="Valider et ouvrir").click()
    expect(card.locator(".alert-message")).to_contain_text("another authority")
    # Still closed to the public.
    assert author.request.get(f"{base}/api/v1/safety/checks").json() == []

    approver, approver_problems = _signed_in(
        browser, base, _authority(app, "prefete.fabre"), watch=watch_page
    )
    other = approver.locator("[data-safety] .alert-card", has_text="Point sécurité Paris 11e")
    other.get_by_role("button", name="Valider et ouvrir").click()
    expect(other.locator(".safety-open")).to_have_text("Ouvert")
    expect(card.locator(".safety-open")).to_have_text("Ouvert", timeout=6000)
    public = author.request.get(f"{base}/api/v1/safety/checks").json()
    assert [c["name"] for c in public] == ["Point sécurité Paris 11e"]
    panel.screenshot(path=str(screenshot_dir / "authority-safety.png"))

    phone, _ = _signed_in(browser, base, "prefete.fabre", viewport=(390, 844))
    expect(phone.locator("[data-live-list] .alert-card")).to_have_count(1)
    # Let the small maps finish their zoom to the area before the picture is taken.
    phone.wait_for_timeout(1000)
    phone.screenshot(path=str(screenshot_dir / "authority-console-phone.png"), full_page=True)
    # What is live comes before the long compose form, on a phone as on a desktop.
    live_box = phone.locator("#live-title").bounding_box()
    compose_box = phone.locator("#compose-title").bounding_box()
    assert live_box is not None and compose_box is not None
    assert live_box["y"] < compose_box["y"]
    # The author's one refused approval (409) is expected; nothing else went wrong.
    assert problems is not None and approver_problems is not None
    assert [p for p in problems.all() if "/approve" not in p and "409" not in p] == []
    assert approver_problems.all() == []
