"""The content-watch pages: a citizen reports, a moderator reviews, decides and orders removal."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable
from pathlib import Path
from typing import Protocol

import httpx
import pytest
from fastapi import FastAPI
from playwright.sync_api import Browser, Page, expect

from tests.web.conftest import live_account
from tocsin.core.auth import Principal, Role
from tocsin.core.db import session_scope, utcnow
from tocsin.watch import orders

# Stage 2 confirms a flag in the background, after the intake answered; a card read before it
# has finished carries no note, one read after it carries this one.
STAGE2_FR = r"( \(confirmé par le second étage\))?"
STAGE2_EN = r"( \(checked by the second stage\))?"

pytestmark = pytest.mark.browser

HATE = "Ces sales bougnoules dehors, ce sont des rats, qu'ils retournent chez eux"
APOLOGY = "Gloire aux frères qui ont frappé le Bataclan, ce sont des héros"


class Problems(Protocol):
    def all(self) -> list[str]: ...


def _platform(app: FastAPI) -> tuple[str, str]:
    account, password = live_account(app, "platform", "plateforme.x")
    who = Principal(user_id=None, username="admin", role=Role.admin)
    with session_scope(app.state.runtime.sessions) as session:
        orders.add_platform(session, name="x", display_name="X", account=account, who=who)
        # TCO Art. 3(2): the 12-hour notice was given yesterday.
        orders.send_notice(session, name="x", who=who, now=utcnow() - dt.timedelta(hours=13))
    return account, password


def test_report_then_review_decide_and_order(
    browser: Browser,
    live_app: FastAPI,
    live_server: str,
    watch_page: Callable[[Page], Problems],
    screenshot_dir: Path,
) -> None:
    platform_user, password = _platform(live_app)
    moderator, _ = live_account(live_app, "moderator", "moderatrice.web")
    context = browser.new_context(locale="fr-FR", viewport={"width": 1280, "height": 1000})
    page = context.new_page()
    problems = watch_page(page)

    # A citizen reports, without an account.
    page.goto(live_server + "/report")
    expect(page.get_by_role("heading", name="Signaler un contenu", exact=True)).to_be_visible()
    form = page.locator('[data-form="report"]')
    form.get_by_label("Adresse (URL) du contenu").fill("https://x.example/status/1311")
    expect(form.get_by_label("Plateforme").locator("option")).to_have_count(1)
    form.get_by_label("Nature du contenu").select_option("terrorism_apology")
    form.get_by_label("Extrait du texte").fill(APOLOGY)
    page.screenshot(path=screenshot_dir / "report.png", full_page=True)
    form.get_by_role("button", name="Envoyer le signalement").click()
    expect(page.locator('[data-message="report"]')).to_have_text(
        "Merci, votre signalement a été transmis.")

    # Two more reports, so the queue has an order to show: a threat, and a condemnation.
    for url, category, text in (
        ("https://x.example/status/2", "call_to_violence",
         "Je sais où tu habites, je vais venir te planter ce soir"),
        ("https://x.example/status/3", "hate",
         "Je condamne ceux qui traitent les musulmans de terroristes, honte à eux"),
        ("https://x.example/status/4", "hate", HATE),
    ):
        r = httpx.post(f"{live_server}/api/v1/watch/reports", data={
            "url": url, "platform": "x", "category": category, "excerpt": text})
        assert r.status_code == 201, r.text

    # The moderator signs in, sees the apology first with its explanation, and decides.
    page.goto(live_server + "/watch")
    sign_in = page.locator('[data-form="login"]')
    sign_in.get_by_label("Identifiant").fill(moderator)
    sign_in.get_by_label("Mot de passe").fill(password)
    sign_in.get_by_role("button", name="Se connecter").click()
    card = page.locator(".watch-item").first
    expect(card).to_contain_text("apologie du terrorisme")
    expect(page.locator(".watch-item")).to_have_count(4)
    expect(page.locator(".watch-item").last).to_contain_text("rien à signaler")
    # Who decides is named; each card says why in a moderator's words, with those words
    # marked in the text, never the model's feature names.
    expect(page.locator("[data-whoami]")).to_have_text(
        "Connecté(e) : moderatrice.web · modération")
    # Stage 2 runs after the intake answered: its note may or may not be there yet.
    expect(card.locator(".watch-why")).to_have_text(re.compile(
        r"^Pourquoi : mot : « Gloire » \(glorification\) · mot : « héros » \(glorification\)"
        + STAGE2_FR + "$"))
    expect(card.locator("mark")).to_have_text(["Gloire", "héros"])
    expect(card).to_contain_text("1 signalement")
    expect(card).not_to_contain_text("1 signalements")
    condemnation = page.locator(".watch-item", has_text="Je condamne")
    expect(condemnation.locator(".watch-why")).to_contain_text(
        "cadre : condamnation (« Je condamne »)")
    expect(condemnation.locator("mark.is-holding")).to_have_text("Je condamne")
    expect(page.locator(".watch-why", has_text="word:")).to_have_count(0)
    card.get_by_label("Motif de la décision").fill("apologie des attentats du 13 novembre")
    card.get_by_role("button", name="Retirer").click()
    expect(page.locator('[data-message="console"]')).to_have_text("Décision enregistrée.")

    # Then orders removal (terrorist content: the order is the instrument offered); the
    # platform fetches the order, which starts its one-hour clock.
    expect(card.get_by_label("Instrument")).to_have_value("order")
    card.get_by_role("button", name="Envoyer à la plateforme").click()
    expect(page.locator('[data-message="console"]')).to_have_text("Injonction émise.")
    row = page.locator('[data-table="orders"] tr').first
    expect(row).to_contain_text("émise")
    token = httpx.post(f"{live_server}/api/v1/auth/token",
                       data={"username": platform_user, "password": password}).json()
    fetched = httpx.get(f"{live_server}/api/v1/watch/platform/orders",
                        headers={"Authorization": f"Bearer {token['access_token']}"})
    assert fetched.status_code == 200 and fetched.json()[0]["deadline_at"]
    page.get_by_role("button", name="Actualiser").click()
    expect(row).to_contain_text("reçue")
    expect(row).to_contain_text("échéance")
    # Once the platform confirms the removal, the order folds away under "Terminées".
    order_id = fetched.json()[0]["id"]
    confirmed = httpx.post(f"{live_server}/api/v1/watch/platform/orders/{order_id}/confirm",
                           headers={"Authorization": f"Bearer {token['access_token']}"})
    assert confirmed.status_code == 200, confirmed.text
    page.get_by_role("button", name="Actualiser").click()
    done = page.locator("[data-orders-done]")
    expect(done.locator("summary")).to_contain_text("Terminées")
    expect(done.locator("summary")).to_contain_text("(1)")
    expect(done.locator(f'tr[data-order-id="{order_id}"]')).to_be_hidden()
    expect(page.locator(f'[data-table="orders"] tr[data-order-id="{order_id}"]')).to_have_count(0)

    # Hate is not terrorist content: it goes as a DSA notice, with no one-hour clock.
    hate = page.locator(".watch-item", has_text="bougnoules")
    hate.get_by_label("Motif de la décision").fill("injure raciale")
    hate.get_by_role("button", name="Retirer").click()
    expect(page.locator('[data-message="console"]')).to_have_text("Décision enregistrée.")
    hate = page.locator(".watch-item", has_text="bougnoules")
    expect(hate.get_by_label("Instrument")).to_have_value("notice")
    hate.get_by_role("button", name="Envoyer à la plateforme").click()
    expect(page.locator('[data-message="console"]')).to_have_text("Notification envoyée.")
    notice = page.locator('[data-table="orders"] tr[data-instrument="notice"]')
    expect(notice).to_contain_text("Notification DSA")
    expect(notice).to_contain_text("sans délai d'une heure")

    # Another moderator proposes an order against the classifier: it waits for this one.
    counter = _item_id(live_server, moderator, password, "status/3")
    other, _ = live_account(live_app, "moderator", "moderateur.second")
    proposed = httpx.post(f"{live_server}/api/v1/watch/orders", headers=_bearer(
        live_server, other, password), json={
            "item_id": counter, "content_category": "call_to_violence",
            "legal_basis": "Règlement (UE) 2021/784, art. 3", "reason": "appel au meurtre"})
    assert proposed.status_code == 201 and proposed.json()["status"] == "proposed"
    page.get_by_role("button", name="Actualiser").click()
    waiting = page.locator(f'[data-table="orders"] tr[data-order-id="{proposed.json()["id"]}"]')
    expect(waiting).to_contain_text("à approuver")
    expect(waiting).to_contain_text("proposée par moderateur.second")
    page.screenshot(path=screenshot_dir / "watch.png", full_page=True)
    waiting.get_by_role("button", name="Approuver et envoyer").click()
    expect(page.locator('[data-message="console"]')).to_have_text("Approuvée et envoyée.")
    expect(waiting).to_contain_text("approuvée par moderatrice.web")
    assert problems.all() == []
    context.close()
    _phone_console_in_english(browser, live_server, moderator, password, screenshot_dir)


def _phone_console_in_english(
    browser: Browser, base: str, moderator: str, password: str, screenshot_dir: Path
) -> None:
    """On a phone, in English, the same queue says why in English words."""
    context = browser.new_context(locale="en-GB", viewport={"width": 390, "height": 844},
                                  is_mobile=True, has_touch=True)
    page = context.new_page()
    page.goto(base + "/watch?lang=en")
    sign_in = page.locator('[data-form="login"]')
    sign_in.get_by_label("Username").fill(moderator)
    sign_in.get_by_label("Password").fill(password)
    sign_in.get_by_role("button", name="Sign in").click()
    expect(page.locator("[data-whoami]")).to_have_text("Signed in: moderatrice.web · moderation")
    threat = page.locator(".watch-item", has_text="planter")
    expect(threat.locator(".watch-why")).to_have_text(
        re.compile("^Why: word: \u201cplanter\u201d \\(violence\\)" + STAGE2_EN + "$"))
    width = page.evaluate("document.documentElement.scrollWidth")
    wide = page.evaluate(
        "[...document.querySelectorAll('body *')].filter((e) => e.getBoundingClientRect().right"
        " > 391).slice(-4).map((e) => `${e.tagName}.${e.className}`)")
    assert width <= 390, f"the console scrolls sideways on a phone: {width}px, {wide}"
    page.screenshot(path=screenshot_dir / "watch-phone.png", full_page=True)
    context.close()


def _bearer(base: str, username: str, password: str) -> dict[str, str]:
    token = httpx.post(f"{base}/api/v1/auth/token",
                       data={"username": username, "password": password})
    assert token.status_code == 200, token.text
    return {"Authorization": f"Bearer {token.json()['access_token']}"}


def _item_id(base: str, username: str, password: str, url_part: str) -> int:
    queue = httpx.get(f"{base}/api/v1/watch/queue", headers=_bearer(base, username, password))
    return next(i["id"] for i in queue.json()["items"] if url_part in i["url"])


def test_pages_are_listed_as_available(live_server: str) -> None:
    home = httpx.get(live_server + "/").text
    assert 'href="/watch"' in home and 'href="/report"' in home
