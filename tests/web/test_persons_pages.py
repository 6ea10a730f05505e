"""The missing-persons and safety-check pages: over HTTP, then in headless Chromium.

Browser flow: post a person from the page, find it again with a typo, see it; mark oneself safe
in an active check and read the code back as a relative would. Screenshots are saved under
docs/screenshots/.
"""

from __future__ import annotations

import datetime as dt
import re
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Protocol

import httpx
import pytest
import uvicorn
from fastapi import FastAPI
from fastapi.testclient import TestClient
from playwright.sync_api import Browser, BrowserContext, Page, expect

from tests.factories import PASSWORD, make_user
from tests.served import free_port as _free_port
from tests.web.conftest import build_app
from tocsin.core.auth.roles import Role
from tocsin.core.db import session_scope

FROZEN_NOW = dt.datetime(2025, 11, 13, 22, 30, tzinfo=dt.UTC)


class Problems(Protocol):
    def all(self) -> list[str]: ...


Watch = Callable[[Page], Problems]


def test_pages_render_in_french_first(web_client: TestClient) -> None:
    persons = web_client.get("/persons")
    assert persons.status_code == 200
    assert "Je cherche quelqu" in persons.text and "J&#39;ai des informations" in persons.text
    safety = web_client.get("/safety")
    assert safety.status_code == 200 and "Je suis en sécurité" in safety.text
    english = web_client.get("/persons?lang=en")
    assert "I am looking for someone" in english.text


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, FastAPI]]:
    """A live server whose app we keep, to create an authority account in its database."""
    app = build_app(tmp_path_factory.mktemp("persons-live"))
    port = _free_port()
    srv = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=srv.run, daemon=True)
    thread.start()
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            if httpx.get(url + "/healthz", timeout=2).status_code < 500:
                break
        except httpx.TransportError:
            time.sleep(0.05)
    yield url, app
    srv.should_exit = True
    thread.join(timeout=10)


@pytest.fixture
def context(browser: Browser) -> Iterator[BrowserContext]:
    ctx = browser.new_context(locale="fr-FR", timezone_id="Europe/Paris",
                              viewport={"width": 1100, "height": 900})
    yield ctx
    ctx.close()


@pytest.mark.browser
def test_post_a_person_then_find_it_with_a_typo(
    context: BrowserContext, server: tuple[str, FastAPI], watch_page: Watch,
    screenshot_dir: Path,
) -> None:
    url, _ = server
    page = context.new_page()
    problems = watch_page(page)
    page.goto(url + "/persons")
    expect(page.get_by_role("heading", level=1)).to_have_text("Personnes recherchées")

    page.get_by_label("Nom complet de la personne").fill("Hélène Gauthier")
    page.get_by_label("Âge (ou tranche, ex. 30-40)").fill("30-35")
    page.get_by_label("Ville").fill("Paris")
    page.locator("#p-author").fill("Sa sœur")
    page.get_by_role("button", name="Publier la fiche").click()
    expect(page.locator('[data-message="person"]')).to_contain_text("Fiche publiée")

    page.get_by_label("Nom et prénom").fill("helene gautier")
    page.get_by_role("button", name="Chercher").click()
    result = page.locator(".result").first
    expect(result).to_contain_text("Hélène Gauthier")
    expect(result).to_contain_text("Paris")

    result.get_by_role("button", name="J'ai des informations").click()
    page.get_by_label("Ce que vous savez").select_option("believed_alive")
    page.get_by_label("Votre message").fill("Vue à l'hôpital Saint-Louis, elle va bien.")
    page.locator("#note-author").fill("Un voisin")
    page.get_by_role("button", name="Envoyer l'information").click()
    expect(page.locator('[data-message="note"]')).to_have_text(
        "Merci, votre information est enregistrée.")
    page.get_by_role("button", name="Chercher").click()
    expect(page.locator(".result").first).to_contain_text("Je pense qu'elle est en vie")

    assert problems.all() == []
    page.screenshot(path=screenshot_dir / "persons.png", full_page=True)


@pytest.mark.browser
def test_mark_safe_and_a_relative_reads_the_code(
    context: BrowserContext, server: tuple[str, FastAPI], watch_page: Watch,
    screenshot_dir: Path,
) -> None:
    url, app = server
    with session_scope(app.state.runtime.sessions) as session:
        name = make_user(session, role=Role.authority).username
    token = httpx.post(url + "/api/v1/auth/token",
                       data={"username": name, "password": PASSWORD}).json()["access_token"]
    created = httpx.post(url + "/api/v1/safety/checks", headers={
        "Authorization": f"Bearer {token}"}, json={
        "name": "Paris 11e — 13 novembre",
        "area": {"type": "circle", "lat": 48.863, "lon": 2.370, "radius_m": 3000},
        "ends_at": (dt.datetime.now(dt.UTC) + dt.timedelta(days=1)).isoformat(),
    })
    assert created.status_code == 201, created.text

    page = context.new_page()
    problems = watch_page(page)
    page.clock.set_fixed_time(FROZEN_NOW)
    page.goto(url + "/safety")
    expect(page.get_by_label("Point sécurité")).to_contain_text("Paris 11e")
    page.get_by_label("Message pour vos proches (facultatif)").fill("Je suis chez Paul.")
    page.get_by_role("button", name="Je suis en sécurité").click()
    code = page.locator("[data-code]")
    expect(code).to_have_text(re.compile(r"^[A-Z0-9]{4}-[A-Z0-9]{4}$"))

    page.get_by_label("Code reçu").fill(code.inner_text())
    page.get_by_role("button", name="Voir").click()
    expect(page.locator("[data-lookup]")).to_contain_text("En sécurité")
    expect(page.locator("[data-lookup]")).to_contain_text("Je suis chez Paul.")

    assert problems.all() == []
    page.screenshot(path=screenshot_dir / "safety.png", full_page=True)
