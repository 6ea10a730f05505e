"""The shelter page in headless Chromium: a host offers, a seeker finds the coarse area and
asks, the host accepts, and only then does the seeker's page show the address."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Protocol

import httpx
import pytest
from fastapi.testclient import TestClient
from playwright.sync_api import Browser, BrowserContext, Page, expect

pytestmark = pytest.mark.browser

ADDRESS = "8 passage des Portes-Ouvertes, 75011 Paris"
DIRECTIONS = "Cour intérieure, 2e étage gauche"


class Problems(Protocol):
    def all(self) -> list[str]: ...


Watch = Callable[[Page], Problems]


@pytest.fixture
def contexts(browser: Browser) -> Iterator[tuple[BrowserContext, BrowserContext]]:
    """Two French desktop users on two devices: a host and a seeker."""
    made = [
        browser.new_context(
            locale="fr-FR", timezone_id="Europe/Paris", viewport={"width": 1280, "height": 900}
        )
        for _ in range(2)
    ]
    yield made[0], made[1]
    for ctx in made:
        ctx.close()


def test_offer_request_accept_reveal(
    contexts: tuple[BrowserContext, BrowserContext],
    live_server: str,
    watch_page: Watch,
    screenshot_dir: Path,
) -> None:
    host_ctx, seeker_ctx = contexts
    host = host_ctx.new_page()
    host_problems = watch_page(host)
    host.goto(live_server + "/shelter")
    expect(host.locator("html")).to_have_attribute("lang", "fr")
    expect(host.get_by_role("heading", level=1)).to_have_text("Hébergement d'urgence")
    expect(host.locator("[data-shelter-app]")).to_have_attribute("data-ready", "true")

    host.get_by_label("Adresse").fill(ADDRESS)
    host.get_by_label("Indications d'accès (code, étage)").fill(DIRECTIONS)
    host.locator("[data-offer-form] .shelter-coords > summary").click()
    host.locator("#offer-lat").fill("48.8649")
    host.locator("#offer-lon").fill("2.3800")
    host.get_by_label("Places").fill("3")
    host.locator("#offer-access").select_option("wheelchair")
    # Languages are ticked from a list; French (the page language) is ticked already.
    languages = host.locator("[data-offer-form] [data-languages]")
    expect(languages.get_by_label("français")).to_be_checked()
    languages.get_by_label("anglais").check()
    host.get_by_role("button", name="Publier mon offre").click()
    expect(host.locator("[data-host-panel]")).to_be_visible()
    expect(host.locator("[data-offer-summary]")).to_contain_text(ADDRESS)
    expect(host.locator("[data-host-requests]")).to_contain_text("Aucune demande")
    # A host's own offer now comes before the seeker's form on the host's page.
    host_box = host.locator("[data-host]").bounding_box()
    seek_box = host.locator("[data-seek]").bounding_box()
    assert host_box is not None and seek_box is not None and host_box["y"] < seek_box["y"]

    seeker = seeker_ctx.new_page()
    seeker_problems = watch_page(seeker)
    seeker.goto(live_server + "/shelter")
    expect(seeker.locator("[data-shelter-app]")).to_have_attribute("data-ready", "true")
    # The public map shows the host's coarse area (a hexagon), not a point.
    expect(seeker.locator("[data-shelter-app]")).to_have_attribute("data-areas", "1")
    expect(seeker.locator("path.shelter-area")).to_have_count(1)
    # No position yet: refused in words, before anything is sent (an empty field read as 0).
    seeker.get_by_role("button", name="Chercher").click()
    expect(seeker.locator("[data-request-form] [data-error]")).to_contain_text(
        "Indiquez d'abord où")
    # The raw coordinates are folded: the search, "Ma position" or the map fill them.
    expect(seeker.locator("#request-lat")).to_be_hidden()
    seeker.locator("[data-request-form] .shelter-coords > summary").click()
    seeker.locator("#request-lat").fill("48.8566")
    seeker.locator("#request-lon").fill("2.3522")
    seeker.get_by_label("Personnes").fill("2")
    seeker.locator("[data-request-form] [data-languages]").get_by_label("arabe").check()
    seeker.get_by_role("button", name="Chercher").click()
    proposal = seeker.locator("[data-proposals] li[data-offer-id]")
    expect(proposal).to_have_count(1)
    expect(proposal).to_contain_text("entre 2 et 5 km")
    expect(proposal).to_contain_text("3 places libres")
    expect(proposal).to_contain_text("Langues : anglais, français")
    expect(seeker.locator("path.shelter-proposal")).to_have_count(1)
    assert ADDRESS not in seeker.content() and "48.8649" not in seeker.content()

    proposal.get_by_role("button", name="Demander à cet hôte").click()
    expect(seeker.locator("[data-request-status]")).to_have_text(
        "Demande envoyée ; l'hôte va répondre."
    )

    # No "Actualiser" button: the host's page asks by itself (every 10 s while in view).
    assert host.get_by_role("button", name="Actualiser").count() == 0
    expect(host.locator("[data-live-host]")).to_contain_text("la page se met à jour d'elle-même")
    waiting = host.locator("[data-host-requests] li[data-request-id]")
    expect(waiting).to_have_count(1, timeout=20_000)
    expect(waiting).to_contain_text("2 personnes")
    expect(waiting).to_contain_text("Besoin d'accès : aucun · arabe, français")
    waiting.get_by_role("button", name="Accepter").click()
    expect(waiting).to_contain_text("acceptée")
    expect(host.locator("[data-offer-summary]")).to_contain_text("1 place libre / 3")
    host.screenshot(path=screenshot_dir / "shelter-host.png", full_page=True)

    expect(seeker.locator("[data-address]")).to_be_visible(timeout=20_000)
    expect(seeker.locator("[data-address-text]")).to_have_text(ADDRESS)
    expect(seeker.locator("[data-address-directions]")).to_have_text(DIRECTIONS)
    expect(seeker.locator("[data-request-status]")).to_have_text(
        "L'hôte a accepté. Voici l'adresse :"
    )
    route = seeker.locator("[data-address-route]").get_attribute("href") or ""
    assert route.startswith("https://www.openstreetmap.org/directions?")

    assert host_problems.all() == []
    assert seeker_problems.all() == []
    seeker.screenshot(path=screenshot_dir / "shelter.png", full_page=True)


def test_shelter_page_in_english_without_tiles(web_client: TestClient) -> None:
    response = web_client.get("/shelter?lang=en")
    assert response.status_code == 200
    assert "I offer shelter" in response.text and "I need shelter" in response.text
    assert 'data-tiles-url=""' in response.text


def test_shelter_page_is_public_and_strict(live_server: str) -> None:
    response = httpx.get(live_server + "/shelter")
    assert response.status_code == 200
    assert "script-src 'self'" in response.headers["content-security-policy"]


def test_phone_seeker_comes_first_and_languages_are_a_list(
    browser: Browser,
    live_server: str,
    watch_page: Watch,
    screenshot_dir: Path,
) -> None:
    """On a 390x844 phone, a person looking for a bed reaches the seeker's form before the
    host form; nine languages or more are refused in the page, not sent."""
    context = browser.new_context(
        locale="fr-FR",
        timezone_id="Europe/Paris",
        viewport={"width": 390, "height": 844},
        is_mobile=True,
        has_touch=True,
    )
    page = context.new_page()
    problems = watch_page(page)
    page.goto(live_server + "/shelter")
    expect(page.locator("[data-shelter-app]")).to_have_attribute("data-ready", "true")
    seek = page.locator("[data-seek]").bounding_box()
    host = page.locator("[data-host]").bounding_box()
    assert seek is not None and host is not None
    assert seek["y"] < host["y"]
    # The seeker's heading is on the first screen.
    heading = page.locator("#seek-title").bounding_box()
    assert heading is not None and heading["y"] < 844, heading
    # The host form is folded under its heading; one tap opens it.
    expect(page.locator("[data-offer-form]")).to_be_hidden()
    page.screenshot(path=screenshot_dir / "shelter-phone.png", full_page=True)
    page.locator("#host-title").click()
    expect(page.locator("[data-offer-form]")).to_be_visible()
    page.locator("#host-title").click()
    # "Choisir sur la carte" brings the map, below the forms on a phone, into view.
    page.locator("[data-position-for=request] [data-pick]").click()
    expect(page.locator("[data-map]")).to_be_in_viewport()

    picker = page.locator("[data-request-form] [data-languages]")
    boxes = picker.locator("input[type=checkbox]")
    assert boxes.count() >= 10
    for i in range(9):
        boxes.nth(i).check()
    page.locator("[data-request-form] .shelter-coords > summary").click()
    page.locator("#request-lat").fill("48.8566")
    page.locator("#request-lon").fill("2.3522")
    page.get_by_role("button", name="Chercher").click()
    expect(page.locator("[data-request-form] [data-error]")).to_have_text(
        "Refusé : Choisissez 8 langues au plus."
    )
    assert problems.all() == []
    context.close()
