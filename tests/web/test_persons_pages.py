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
    with session_scope(app.state.runtime.sessions) as session:
        second = make_user(session, role=Role.authority).username
    second_token = httpx.post(url + "/api/v1/auth/token", data={
        "username": second, "password": PASSWORD}).json()["access_token"]
    approved = httpx.post(url + f"/api/v1/safety/checks/{created.json()['id']}/approve",
                          headers={"Authorization": f"Bearer {second_token}"})
    assert approved.status_code == 200, approved.text

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


def _jpeg() -> bytes:
    import io

    from PIL import Image

    out = io.BytesIO()
    Image.new("RGB", (120, 160), (70, 110, 160)).save(out, "JPEG")
    return out.getvalue()


@pytest.mark.browser
def test_record_page_shows_notes_history_place_photo_and_reviewers_merge_and_unlink(
    context: BrowserContext, server: tuple[str, FastAPI], watch_page: Watch,
    screenshot_dir: Path,
) -> None:
    url, app = server
    photo = httpx.post(url + "/api/v1/persons/photos",
                       files={"photo": ("p.jpg", _jpeg(), "image/jpeg")})
    assert photo.status_code == 201, photo.text
    first = httpx.post(url + "/api/v1/persons", json={
        "full_name": "Maëlle Le Goff", "author_name": "Sa mère", "age": "24",
        "home_city": "Brest", "description": "Veste jaune, sac à dos bleu.",
        "photo_url": photo.json()["photo_url"]}).json()["person_record_id"]
    second = httpx.post(url + "/api/v1/persons", json={
        "full_name": "Maelle Legoff", "author_name": "Un collègue",
        "home_city": "Brest"}).json()["person_record_id"]
    for record, status, text, where in (
        (first, "information_sought", "Pas de nouvelles depuis samedi soir.", None),
        (second, "believed_alive", "Vue au centre d'accueil, elle va bien.",
         "<b>Gymnase Saint-Marc</b> 48.3904, -4.4861"),
    ):
        note = {"person_record_id": record, "author_name": "Témoin", "status": status,
                "text": text}
        if where:
            note["last_known_location"] = where
        assert httpx.post(url + "/api/v1/persons/notes", json=note).status_code == 201

    page = context.new_page()
    problems = watch_page(page)
    page.goto(url + "/persons")
    page.get_by_label("Nom et prénom").fill("maelle le goff")
    page.get_by_role("button", name="Chercher").click()
    page.locator(".result").filter(has_text="Maëlle Le Goff").get_by_role(
        "link", name="Voir la fiche").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Maëlle Le Goff")
    expect(page.locator("[data-facts]")).to_contain_text("âge 24")
    expect(page.locator("[data-notes]")).to_contain_text("Pas de nouvelles depuis samedi soir.")
    expect(page.locator("[data-history]")).to_contain_text("Je cherche des informations")
    expect(page.locator("[data-photo]")).to_be_visible()
    # Before the link, the other record's place is not this one's.
    expect(page.locator("[data-location]")).to_have_text("Aucun lieu connu.")
    expect(page.locator("[data-review]")).to_be_hidden()  # not a reviewer

    with session_scope(app.state.runtime.sessions) as session:
        name = make_user(session, role=Role.authority).username
    token = httpx.post(url + "/api/v1/auth/token",
                       data={"username": name, "password": PASSWORD}).json()["access_token"]
    page.evaluate("""([token]) => { sessionStorage.setItem('tocsin.token', token);
        sessionStorage.setItem('tocsin.role', 'authority'); }""", [token])
    page.reload()
    review = page.locator("[data-review]")
    expect(review).to_contain_text("Maelle Legoff")
    review.get_by_role("button", name="Fusionner (même personne)").click()
    expect(page.locator('[data-message="review"]')).to_have_text("Enregistré.")
    linked = page.locator("[data-linked]")
    expect(linked).to_contain_text("Même personne que Maelle Legoff")
    notes = page.locator("[data-notes] .record-note")
    expect(notes).to_have_count(4)  # both records' notes and the two link notes, in order
    expect(notes.nth(0)).to_contain_text("Pas de nouvelles")
    expect(notes.nth(1)).to_contain_text("Vue au centre d'accueil")
    expect(page.locator("[data-history] li")).to_have_count(2)
    expect(page.locator("[data-history]")).to_contain_text("Je pense qu'elle est en vie")
    # The place came with the linked record; its tooltip is text, never HTML.
    expect(page.locator("[data-map]")).to_be_visible()
    tooltip = page.locator(".leaflet-tooltip")
    expect(tooltip).to_have_text("<b>Gymnase Saint-Marc</b> 48.3904, -4.4861")
    assert page.locator(".leaflet-tooltip b").count() == 0
    assert problems.all() == []
    page.screenshot(path=screenshot_dir / "person-record.png", full_page=True)

    linked.get_by_role("button", name="Délier").click()
    expect(page.locator("[data-linked-panel]")).to_be_hidden()
    expect(page.locator("[data-notes]")).to_contain_text("Pas la même personne")
    expect(page.locator("[data-location]")).to_have_text("Aucun lieu connu.")
    assert problems.all() == []


def test_record_page_renders_in_french_then_english(web_client: TestClient) -> None:
    page = web_client.get("/persons/record", params={"id": "x.example/p1"})
    assert page.status_code == 200 and "Fiche de personne recherchée" in page.text
    assert "Retour à la recherche" in page.text
    english = web_client.get("/persons/record", params={"id": "x.example/p1", "lang": "en"})
    assert "Missing person record" in english.text and "Back to the search" in english.text
