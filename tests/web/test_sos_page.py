"""The citizen's silent SOS page: served in French; in a real browser, tap SOS, get the ack."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from playwright.sync_api import Browser, Page, expect

from tests.web.conftest import PageProblems


def test_sos_page_is_french_and_discreet(web_client: TestClient) -> None:
    response = web_client.get("/sos")
    assert response.status_code == 200
    body = response.text
    assert '<html lang="fr">' in body
    assert "SOS silencieux" in body and "Masquer" in body and "Je suis à" in body
    for code in ("attack", "armed_person", "hostage", "hidden", "injured", "fire", "other"):
        assert f'value="{code}"' in body
    assert "<audio" not in body and "vibrate" not in body
    english = web_client.get("/sos?lang=en").text
    assert "Silent SOS" in english and "Hide" in english


@pytest.mark.browser
def test_tap_sos_gets_acknowledged(
    browser: Browser,
    live_server: str,
    watch_page: Callable[[Page], PageProblems],
    screenshot_dir: Path,
) -> None:
    context = browser.new_context(
        viewport={"width": 390, "height": 844},
        device_scale_factor=2,
        is_mobile=True,
        has_touch=True,
        locale="fr-FR",
        geolocation={"latitude": 48.8631, "longitude": 2.3708, "accuracy": 15},
        permissions=["geolocation"],
    )
    page = context.new_page()
    problems = watch_page(page)
    try:
        page.goto(f"{live_server}/sos")
        expect(page.locator("[data-position]")).to_contain_text("±15 m")
        page.locator("input[value=hidden]").check()
        page.fill("#sos-people", "4")
        page.screenshot(path=str(screenshot_dir / "sos-compose.png"))
        page.locator("[data-send]").click()
        expect(page.locator("[data-ack]")).to_contain_text("Alerte reçue", timeout=10_000)
        stored = page.evaluate("JSON.parse(localStorage.getItem('tocsin.sos'))")
        assert stored["ack"]["follow_up_token"]
        page.fill("#sos-chat-input", "Nous sommes quatre")
        page.locator("[data-chat-form] button").click()
        expect(page.locator("[data-chat]")).to_contain_text("Nous sommes quatre")
        page.screenshot(path=str(screenshot_dir / "sos.png"), full_page=True)
        # A reload keeps the acknowledged SOS and its chat (nothing is sent twice).
        page.reload()
        expect(page.locator("[data-ack]")).to_contain_text("Alerte reçue")
        page.locator("[data-hide]").click()
        expect(page.locator("[data-neutral]")).to_be_visible()
        expect(page.locator("[data-sos-app]")).to_be_hidden()
        assert problems.all() == []
    finally:
        context.close()


@pytest.mark.browser
def test_sos_kept_and_retried_while_offline(
    browser: Browser, live_server: str, watch_page: Callable[[Page], PageProblems]
) -> None:
    context = browser.new_context(
        viewport={"width": 390, "height": 844},
        locale="fr-FR",
        geolocation={"latitude": 48.85, "longitude": 2.35, "accuracy": 30},
        permissions=["geolocation"],
    )
    page = context.new_page()
    try:
        page.goto(f"{live_server}/sos")
        expect(page.locator("[data-position]")).to_contain_text("±30 m")
        attempts: list[str] = []

        def fail_first(route):  # type: ignore[no-untyped-def]
            attempts.append(route.request.post_data or "")
            if len(attempts) < 3:
                route.abort("internetdisconnected")
            else:
                route.continue_()

        page.route("**/api/v1/sos", fail_first)
        page.locator("[data-send]").click()
        expect(page.locator("[data-ack]")).to_contain_text("Alerte reçue", timeout=20_000)
        assert len(attempts) >= 3
        assert len(set(attempts)) == 1  # the same body, so the same client_id, every time
    finally:
        context.close()


@pytest.mark.browser
def test_tap_without_geolocation_answers_at_once_and_sends_from_the_map(
    browser: Browser,
    live_server: str,
    watch_page: Callable[[Page], PageProblems],
    screenshot_dir: Path,
) -> None:
    """Issue 20: no GPS (permission refused), a tap still sends, "position unknown"."""
    context = browser.new_context(viewport={"width": 390, "height": 844}, device_scale_factor=2,
                                  is_mobile=True, has_touch=True, locale="fr-FR",
                                  permissions=[])
    page = context.new_page()
    problems = watch_page(page)
    try:
        page.goto(f"{live_server}/sos")
        page.locator("input[value=hidden]").check()
        page.locator("[data-send]").click()
        # Sent at once, "position unknown", and the map is there to say where.
        expect(page.locator("[data-ack]")).to_contain_text("Alerte reçue", timeout=10_000)
        where = page.locator("[data-where]")
        expect(where).to_contain_text("sans position")
        sent = page.evaluate("JSON.parse(localStorage.getItem('tocsin.sos'))")
        assert sent["ack"]["id"]
        picker = page.locator("[data-manual] [data-map]")
        expect(picker).to_be_visible()
        box = picker.bounding_box()
        assert box is not None and box["y"] >= 0 and box["y"] + 40 < 844, box
        page.screenshot(path=str(screenshot_dir / "sos-no-position.png"))
        # One tap on the map: the position goes at once (and places the SOS for dispatch).
        page.mouse.click(box["x"] + box["width"] / 2, box["y"] + min(100, box["height"] / 2))
        expect(where).to_contain_text("Position envoyée", timeout=10_000)

        # False alarm: two taps (a shaking hand does not cancel), then it is in the chat.
        cancel = page.locator("[data-false-alarm]")
        cancel.click()
        expect(cancel).to_contain_text("Confirmer")
        cancel.click()
        expect(page.locator("[data-chat]")).to_contain_text("FAUSSE ALERTE", timeout=10_000)
        expect(page.locator("[data-chat-status]")).to_contain_text("Annulation transmise")
        expect(cancel).to_be_hidden()
        page.screenshot(path=str(screenshot_dir / "sos-false-alarm.png"))
        assert problems.all() == []
    finally:
        context.close()
