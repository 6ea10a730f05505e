"""Password reset and change in Chromium (issue 19, finding 13).

An admin resets a dispatcher's password on the admin page and reads the one-time code; the
dispatcher chooses a new password with it on the sign-in form, signs in, and changes it again
from "My account".
"""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path
from typing import Protocol

import pytest
from fastapi import FastAPI
from playwright.sync_api import Browser, Page, expect

from tests.web.conftest import live_account
from tocsin.core.ratelimit import buckets

pytestmark = pytest.mark.browser


class Problems(Protocol):
    def all(self) -> list[str]: ...


def _sign_in(page: Page, username: str, password: str) -> None:
    form = page.locator('[data-form="login"]')
    form.get_by_label("Identifiant").fill(username)
    form.get_by_label("Mot de passe").fill(password)
    form.get_by_role("button", name="Se connecter").click()


def test_admin_reset_then_redeem_then_change(
    browser: Browser,
    live_app: FastAPI,
    live_server: str,
    watch_page: Callable[[Page], Problems],
    screenshot_dir: Path,
) -> None:
    buckets(live_app.state.runtime.states).forget("login")
    admin, password = live_account(live_app, "admin", "admin.pw")
    dispatcher, _ = live_account(live_app, "dispatcher", "regul.pw")

    context = browser.new_context(locale="fr-FR", viewport={"width": 1280, "height": 900})
    page = context.new_page()
    problems = watch_page(page)
    page.goto(live_server + "/admin")
    _sign_in(page, admin, password)
    page.locator(f'tr[data-username="{dispatcher}"]').get_by_role(
        "button", name="Réinitialiser le mot de passe").click()
    shown = page.locator("[data-issued] code")
    expect(shown).to_have_text(re.compile(r"^[a-z2-9]{4}(-[a-z2-9]{4}){3}$"))
    expect(page.locator("[data-issued]")).to_contain_text("sessions fermées")
    page.screenshot(path=screenshot_dir / "admin-password-reset.png", full_page=True)
    reset_code = shown.inner_text()
    # Wait for the sign-out's answer: navigating away at once aborts the request (a page problem).
    with page.expect_response(lambda r: r.url.endswith("/api/v1/auth/logout")):
        page.get_by_role("button", name="Se déconnecter").click()

    # The old password no longer opens the account.
    page.goto(live_server + "/dispatch")
    _sign_in(page, dispatcher, password)
    expect(page.locator('[data-message="login"]')).to_contain_text("Connexion refusée")
    reset = page.locator("[data-reset]")
    reset.locator("summary").click()
    reset.get_by_label("Identifiant").fill(dispatcher)
    reset.get_by_label("Code de réinitialisation").fill(reset_code.upper())
    reset.get_by_label("Nouveau mot de passe").fill("court")
    reset.get_by_role("button", name="Choisir ce mot de passe").click()
    expect(page.locator('[data-message="reset"]')).to_contain_text("at least 12")
    reset.get_by_label("Nouveau mot de passe").fill("Nouveau-Secret-Regul-9")
    page.screenshot(path=screenshot_dir / "staff-password-reset.png", full_page=True)
    reset.get_by_role("button", name="Choisir ce mot de passe").click()
    expect(page.locator('[data-message="login"]')).to_have_text(
        "Mot de passe enregistré : connectez-vous avec lui.")
    _sign_in(page, dispatcher, "Nouveau-Secret-Regul-9")
    expect(page.locator('[data-view="console"]')).to_be_visible()

    # "My account": change it again (a wrong current password is refused and says so).
    # On the dispatch console "My account" sits in the side panel's "more" drawer.
    page.locator(".side-more > summary").click()
    account = page.locator("[data-staff-account]")
    account.locator("summary").click()
    account.get_by_label("Mot de passe actuel").fill("Pas-Le-Bon-Secret-1")
    account.get_by_label("Nouveau mot de passe").fill("Troisieme-Secret-Regul-3")
    account.get_by_role("button", name="Changer le mot de passe").click()
    expect(account.locator('[data-message="password"]')).to_contain_text("wrong")
    account.get_by_label("Mot de passe actuel").fill("Nouveau-Secret-Regul-9")
    account.get_by_role("button", name="Changer le mot de passe").click()
    expect(account.locator('[data-message="password"]')).to_have_text(
        "Mot de passe changé ; vos autres sessions sont fermées.")
    expect(page.locator('[data-view="console"]')).to_be_visible()  # this session lives on
    page.screenshot(path=screenshot_dir / "staff-password-change.png", full_page=True)
    # The refused old password, short password and wrong current one were answers handled.
    assert [p for p in problems.all() if not any(s in p for s in ("401", "403", "422"))] == []
    context.close()
    # The live server is shared: leave the next test the sign-in budget this one found.
    buckets(live_app.state.runtime.states).forget("login")
