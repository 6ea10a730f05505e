"""The cyber desk's pages in Chromium: an organisation reports, analysts work the desk and
publish an advisory (two people), the public reads it. Screenshots go to docs/screenshots/."""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path
from typing import Protocol

import httpx
import pytest
from fastapi import FastAPI
from playwright.sync_api import Browser, Page, expect

from tests.web.conftest import live_account

pytestmark = pytest.mark.browser
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64


class Problems(Protocol):
    def all(self) -> list[str]: ...


def _sign_in(page: Page, form_selector: str, username: str, password: str) -> None:
    form = page.locator(form_selector)
    form.get_by_label("Identifiant").fill(username)
    form.get_by_label("Mot de passe").fill(password)
    form.get_by_role("button", name="Se connecter").click()


def _phone_screenshot(page: Page, path: Path) -> None:
    """The same page at 390x844: nothing wider than the phone (tables scroll in their box)."""
    page.set_viewport_size({"width": 390, "height": 844})
    width = page.evaluate("document.documentElement.scrollWidth")
    wide = page.evaluate(
        "[...document.querySelectorAll('body *')].filter((e) => e.getBoundingClientRect().right"
        " > 391).slice(-4).map((e) => `${e.tagName}#${e.id}.${e.className}`)")
    assert width <= 390, f"the page scrolls sideways on a phone: {width}px, {wide}"
    page.screenshot(path=path, full_page=True)
    page.set_viewport_size({"width": 1280, "height": 1200})


def test_organisation_reports_an_incident(
    browser: Browser, live_app: FastAPI, live_server: str,
    watch_page: Callable[[Page], Problems], screenshot_dir: Path,
) -> None:
    org, password = live_account(live_app, "organisation", "mairie.exemple")
    context = browser.new_context(locale="fr-FR", viewport={"width": 1280, "height": 1000})
    page = context.new_page()
    problems = watch_page(page)
    page.goto(live_server + "/cyber/report")
    expect(page.get_by_role("heading", name="Signaler un incident cyber")).to_be_visible()
    page.locator("summary#login-title").click()
    _sign_in(page, '[data-form="login"]', org, password)
    expect(page.locator("[data-whoami]")).to_contain_text(org)
    expect(page.locator('[data-view="contact"]')).to_be_hidden()
    form = page.locator('[data-form="report"]')
    form.get_by_label("Nature de l'incident").select_option("defacement")
    form.get_by_label("Date et heure de début").fill("2026-01-10T21:20")
    form.get_by_label("Conséquences").select_option("high")
    form.get_by_label("Secteur d'activité").select_option("local_authority")
    form.get_by_label("Taille").select_option("small")
    form.get_by_label("Ce qui s'est passé").fill(
        "Page d'accueil remplacée par une revendication ; script chargé depuis "
        "hxxp://defacer[.]example/x.js")
    form.get_by_label(re.compile("^Indicateurs")).fill("203.0.113[.]7\nevil[.]example")
    form.get_by_label(re.compile("^Pièces jointes")).set_input_files(
        [{"name": "capture.png", "mimeType": "image/png", "buffer": PNG}])
    page.screenshot(path=screenshot_dir / "cyber-report.png", full_page=True)
    _phone_screenshot(page, screenshot_dir / "cyber-report-phone.png")
    form.get_by_role("button", name="Envoyer le signalement").click()
    expect(page.locator('[data-message="report"]')).to_contain_text("votre signalement est "
                                                                   "enregistré")
    # A start in the future is said under the date, before anything is sent.
    when = form.get_by_label("Date et heure de début")
    when.fill("2099-01-10T21:20")
    form.get_by_role("button", name="Envoyer le signalement").click()
    expect(form.locator('[data-error-for="occurred_at"]')).to_have_text(
        "Cette date est dans le futur.")
    # A file that lies about its type is refused under the file field, in French.
    when.fill("2026-01-10T21:20")
    expect(form.locator('[data-error-for="occurred_at"]')).to_have_count(0)
    form.get_by_label(re.compile("^Pièces jointes")).set_input_files(
        [{"name": "facture.pdf", "mimeType": "application/pdf", "buffer": b"MZ\x90\x00" * 8}])
    form.get_by_role("button", name="Envoyer le signalement").click()
    expect(form.locator('[data-error-for="evidence"]')).to_contain_text(
        "Pièce jointe refusée : seuls les images, PDF, ZIP et textes sont acceptés")
    expect(page.locator('[data-message="report"]')).to_have_text(
        "Signalement non envoyé : corrigez le champ signalé.")
    assert [p for p in problems.all() if "422" not in p] == []

    # The organisation's page: its reports and a subscription to advisories.
    page.goto(live_server + "/cyber")
    expect(page.locator('[data-table="mine"] tr')).to_have_count(1)
    sub = page.locator('[data-form="subscribe"]')
    sub.get_by_label("Secteurs (aucun : tous)").select_option("local_authority")
    sub.get_by_label("Courriel").fill("rssi@mairie.example.fr")
    sub.get_by_role("button", name="S'abonner").click()
    expect(page.locator('[data-list="subscriptions"] li')).to_have_count(1)
    page.screenshot(path=screenshot_dir / "cyber-organisation.png", full_page=True)
    _phone_screenshot(page, screenshot_dir / "cyber-organisation-phone.png")
    context.close()


def test_analysts_review_indicators_and_publish_an_advisory(
    browser: Browser, live_app: FastAPI, live_server: str,
    watch_page: Callable[[Page], Problems], screenshot_dir: Path,
) -> None:
    first, password = live_account(live_app, "analyst", "analyste.une")
    second, _ = live_account(live_app, "analyst", "analyste.deux")
    r = httpx.post(f"{live_server}/api/v1/cyber/incidents", json={
        "incident_type": "phishing", "sector": "health", "size": "large", "region": "FR-ARA",
        "occurred_at": "2026-01-11T08:00:00+01:00", "impact": "moderate",
        "description": "Courriels piégés envoyés depuis rh[@]chu-paie[.]example",
        "contact": {"email": "rssi@chu.example.fr"}})
    assert r.status_code == 201, r.text
    context = browser.new_context(locale="fr-FR", viewport={"width": 1280, "height": 1200})
    page = context.new_page()
    problems = watch_page(page)
    page.goto(live_server + "/cyber")
    _sign_in(page, '[data-form="login"]', first, password)
    incident = page.locator(f'[data-incident="{r.json()["id"]}"]')
    expect(incident).to_contain_text("Hameçonnage")
    expect(incident).to_contain_text("Auvergne-Rhône-Alpes")  # the region in words, not FR-ARA
    expect(incident).not_to_contain_text("FR-ARA")
    expect(page.locator("[data-whoami]")).to_have_text("Connecté(e) : analyste.une · analyste")
    for header in ("Reçu le", "Nature", "Déclarant", "État", "Valeur", "Diffusion (TLP)"):
        expect(page.get_by_role("columnheader", name=header).first).to_be_visible()
    # Opening without a reason: the field says so itself, and nothing is asked of the API.
    incident.get_by_role("button", name="Ouvrir (journalisé)").click()
    expect(incident.locator(".field-error")).to_have_text(
        "Indiquez le motif de la consultation (3 caractères au moins) : elle est journalisée.")
    incident.get_by_label("Motif de la consultation").fill("qualification")
    expect(incident.locator(".field-error")).to_have_count(0)
    incident.get_by_role("button", name="Ouvrir (journalisé)").click()
    detail = page.locator('[data-detail="incident"]')
    expect(detail).to_contain_text("rssi@chu.example.fr")
    expect(detail.locator("h3")).to_have_text("Hameçonnage · Auvergne-Rhône-Alpes")
    # The report names its indicator; the link leads to its row, marked in the table.
    expect(detail).to_contain_text("Indicateurs de ce signalement (1)")
    expect(detail.locator('[data-list="linked"] button')).to_have_text("rh@chu-paie.example")
    expect(page.locator('[data-indicator="rh@chu-paie.example"]')).to_have_class(
        re.compile("is-linked"))
    expect(page.locator('[data-indicator="rh@chu-paie.example"]')).to_contain_text("courriel")
    # Triage: qualified, then filtered in and out.
    incident.get_by_role("button", name="Qualifier").click()
    expect(incident).to_contain_text("qualifié")
    expect(incident.get_by_role("button", name="Qualifier")).to_have_count(0)
    page.get_by_label("Afficher").select_option("new")
    expect(incident).to_have_count(0)
    page.get_by_label("Afficher").select_option("triaged")
    expect(incident).to_have_count(1)
    page.get_by_label("Afficher").select_option("")

    indicators = page.locator('[data-form="indicator"]')
    indicators.get_by_label("Valeur").fill("hxxps://chu-paie[.]example/login")
    indicators.get_by_label("TLP", exact=True).select_option("green")
    indicators.get_by_role("button", name="Ajouter").click()
    added = page.locator('[data-indicator="https://chu-paie.example/login"]')
    expect(added).to_contain_text("TLP:GREEN")
    # Four eyes: the analyst who entered it cannot confirm it (the second one does, below).
    added.get_by_role("button", name="Confirmer").click()
    expect(page.locator('[data-message="console"]')).to_have_text(
        "Vous avez saisi cet indicateur : un autre analyste doit le confirmer ou l'écarter.")
    # A value that is no indicator: said under the field, in French, not as the API's error.
    indicators.get_by_label("Valeur").fill("pas un indicateur")
    indicators.get_by_role("button", name="Ajouter").click()
    expect(indicators.locator(".field-error")).to_contain_text("Ce n'est ni une URL")
    expect(indicators.get_by_label("Valeur")).to_have_attribute("aria-invalid", "true")
    expect(page.locator("body")).not_to_contain_text("is not a URL")

    advisory = page.locator('[data-form="advisory"]')
    advisory.get_by_label("Titre").fill("Hameçonnage visant les services de paie hospitaliers")
    advisory.get_by_label("Ce qui se passe").fill("De faux courriels de la paie demandent de "
                                                  "se reconnecter sur un site imitant l'intranet.")
    advisory.get_by_label("Qui est exposé").fill("Personnels des établissements de santé.")
    advisory.get_by_label("Que faire").fill("Bloquer chu-paie.example, prévenir les agents.")
    advisory.get_by_label("Gravité").select_option("high")
    advisory.get_by_role("button", name="Enregistrer le brouillon").click()
    card = page.locator("[data-advisory]").first
    expect(card).to_contain_text("brouillon")
    card.get_by_role("button", name="Soumettre à relecture").click()
    expect(card).to_contain_text("en relecture")
    card.get_by_role("button", name="Approuver et publier").click()
    expect(page.locator('[data-message="console"]')).to_have_text(
        "Vous êtes l'auteur de cette version : un second analyste doit l'approuver.")
    page.screenshot(path=screenshot_dir / "cyber.png", full_page=True)
    _phone_screenshot(page, screenshot_dir / "cyber-phone.png")
    assert [p for p in problems.all()
            if "403" not in p and "409" not in p and "422" not in p] == []
    page.get_by_role("button", name="Se déconnecter").click()

    # The second analyst confirms the indicator and approves.
    _sign_in(page, '[data-form="login"]', second, password)
    added.get_by_role("button", name="Confirmer").click()
    expect(added).to_contain_text("confirmé")
    card = page.locator("[data-advisory]").first
    card.get_by_role("button", name="Approuver et publier").click()
    expect(card).to_contain_text("publié")

    # The public page and its feed.
    public = context.new_page()
    public_problems = watch_page(public)
    public.goto(live_server + "/cyber/advisories")
    expect(public.locator(".cyber-advisory")).to_contain_text("services de paie hospitaliers")
    expect(public.locator(".cyber-advisory")).to_contain_text("élevée")
    public.screenshot(path=screenshot_dir / "cyber-advisories.png", full_page=True)
    assert public_problems.all() == []
    english = httpx.get(f"{live_server}/cyber/advisories?lang=en").text
    assert "Security advisories" in english and "Atom feed of advisories" in english
    context.close()
