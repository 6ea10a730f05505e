"""The shared staff sign-in with two-factor authentication, in Chromium.

An admin requires 2FA for analysts on the admin page and issues activation codes; an analyst
signing in on /watch is taken through TOTP enrolment (activation code, QR code, first code,
recovery codes), then signs in again with a code.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Protocol

import pyotp
import pytest
from fastapi import FastAPI
from playwright.sync_api import Browser, Page, expect
from sqlalchemy import delete

from tests.web.conftest import live_account
from tocsin.core.auth.models import MfaRolePolicy
from tocsin.core.db import session_scope
from tocsin.core.ratelimit import buckets

pytestmark = pytest.mark.browser


class Problems(Protocol):
    def all(self) -> list[str]: ...


def _sign_in(page: Page, username: str, password: str) -> None:
    form = page.locator('[data-form="login"]')
    form.get_by_label("Identifiant").fill(username)
    form.get_by_label("Mot de passe").fill(password)
    form.get_by_role("button", name="Se connecter").click()


def _activation_code(page: Page, username: str) -> str:
    """Issue an activation code on the admin page (accounts table) and read it back."""
    page.locator(f'tr[data-username="{username}"]').get_by_role(
        "button", name="Code d'activation 2FA").click()
    shown = page.locator("[data-issued] code")
    expect(shown).to_have_text(re.compile(r"^[a-z2-9]{4}(-[a-z2-9]{4}){3}$"))
    expect(page.locator("[data-issued]")).to_contain_text(username)
    return shown.inner_text()


def _activate(page: Page, code: str) -> None:
    page.get_by_label("Code d'activation").fill(code)
    page.locator('[data-form="activate"]').get_by_role("button", name="Continuer").click()


def _secret(page: Page) -> str:
    """The base32 secret the enrolment shows, once the server has answered."""
    shown = page.locator("[data-enrol-secret]")
    expect(shown).to_have_text(re.compile(r"^[A-Z2-7]{32}$"))
    return shown.inner_text()


@pytest.fixture
def policy_restored(live_app: FastAPI) -> Iterator[None]:
    """The live server is shared by the session's browser tests: leave no role requiring 2FA.

    Its login rate limit (10 a minute per client, per worker) is shared too; this test signs in
    seven times, so it starts with a fresh bucket rather than inherit the others' sign-ins.
    """
    buckets(live_app.state.runtime.states).forget("login")
    yield
    with session_scope(live_app.state.runtime.sessions) as session:
        session.execute(delete(MfaRolePolicy))


def test_required_2fa_enrolment_then_login_with_a_code(
    browser: Browser,
    live_app: FastAPI,
    live_server: str,
    watch_page: Callable[[Page], Problems],
    screenshot_dir: Path,
    policy_restored: None,
) -> None:
    admin, password = live_account(live_app, "admin", "admin.2fa")
    analyst, _ = live_account(live_app, "analyst", "analyste.2fa")

    context = browser.new_context(locale="fr-FR", viewport={"width": 1280, "height": 900})
    page = context.new_page()
    problems = watch_page(page)
    page.goto(live_server + "/admin")
    _sign_in(page, admin, password)
    policy = page.locator("[data-mfa-policy]")
    policy.get_by_label("exigée pour analyst").check()
    expect(page.locator('[data-message="mfa"]')).to_have_text("Règle enregistrée : analyste")
    # Requiring it for admins is refused while this admin has none (no self-lockout)...
    # (a click, not check(): the page unticks the box as soon as the refusal arrives, which
    # can be before check() looks at the box again)
    policy.get_by_label("exigée pour admin").click()
    expect(page.locator('[data-message="mfa"]')).to_contain_text("enrol two-factor")
    expect(policy.get_by_label("exigée pour admin")).not_to_be_checked()
    # ...so the admin turns it on from "My account", voluntarily, with an activation code (an
    # admin issues their own: the password alone enrols nothing).
    own_code = _activation_code(page, admin)
    analyst_code = _activation_code(page, analyst)
    page.locator("[data-staff-account] summary").click()
    page.get_by_role("button", name="Activer la double authentification").click()
    _activate(page, own_code)
    admin_totp = pyotp.TOTP(_secret(page))
    page.get_by_label("Code affiché").fill(admin_totp.now())
    page.get_by_role("button", name="Activer", exact=True).click()
    expect(page.locator("[data-recovery-codes] li")).to_have_count(10)
    page.get_by_role("button", name="Continuer").click()
    expect(page.locator('[data-view="console"]')).to_be_visible()
    policy.get_by_label("exigée pour admin").check()
    expect(page.locator('[data-message="mfa"]')).to_have_text("Règle enregistrée : administrateur")
    with page.expect_response(lambda r: r.url.endswith("/mfa/policy/admin")) as answer:
        policy.get_by_label("exigée pour admin").uncheck()
    assert answer.value.ok

    # The analyst's first sign-in leads to enrolment, nothing else.
    page.goto(live_server + "/watch")
    # The admin's session stays in this tab, but /watch is not an admin page: it asks again.
    _sign_in(page, analyst, password)
    expect(page.get_by_role("heading", name="Activer la double authentification")).to_be_visible()
    expect(page.locator('[data-view="console"]')).to_be_hidden()
    # A made-up activation code is refused; the one the admin issued opens the QR code.
    _activate(page, "abcd-efgh-jkmn-pqrs")
    expect(page.locator('[data-message="enrol"]')).to_contain_text("invalid or expired")
    page.screenshot(path=screenshot_dir / "staff-2fa-activation.png", full_page=True)
    _activate(page, analyst_code)
    qr = page.locator("[data-enrol-qr]")
    expect(qr).to_have_attribute("src", re.compile(r"^data:image/svg\+xml"))
    page.wait_for_function("document.querySelector('[data-enrol-qr]').naturalWidth > 0")
    secret = _secret(page)
    assert page.locator("[data-enrol-uri]").get_attribute("href", timeout=2000).startswith(
        "otpauth://totp/Tocsin:analyste.2fa")
    totp = pyotp.TOTP(secret)
    page.get_by_label("Code affiché").fill(totp.now())
    page.screenshot(path=screenshot_dir / "staff-2fa-enrolment.png", full_page=True)
    page.get_by_role("button", name="Activer", exact=True).click()
    codes = page.locator("[data-recovery-codes] li")
    expect(codes).to_have_count(10)
    page.screenshot(path=screenshot_dir / "staff-2fa-recovery-codes.png", full_page=True)
    page.get_by_role("button", name="Continuer").click()
    expect(page.locator('[data-view="console"]')).to_be_visible()
    expect(page.locator("[data-whoami]")).to_contain_text("analyste.2fa")  # who, by name

    # Signing in again asks for the code; the next step's code is accepted (the first is spent).
    page.get_by_role("button", name="Se déconnecter").click()
    _sign_in(page, analyst, password)
    expect(page.locator('[data-message="login"]')).to_have_text(
        "Ce compte a la double authentification : saisissez le code.")
    code_field = page.get_by_label("Code à 6 chiffres (double authentification)")
    expect(code_field).to_be_focused()
    used = totp.at(time.time() + 30)
    code_field.fill(used)
    page.screenshot(path=screenshot_dir / "staff-2fa-login.png", full_page=True)
    page.locator('[data-form="login"]').get_by_role("button", name="Se connecter").click()
    expect(page.locator('[data-view="console"]')).to_be_visible()

    # "My account": 2FA is on; this session, opened with a code, is the only live one (signing
    # out revoked the enrolment's session).
    account = page.locator("[data-staff-account]")
    account.locator("summary").click()
    expect(account.locator("[data-account-mfa]")).to_have_text(
        "Double authentification active. Elle est exigée pour votre rôle.")
    current = account.locator("tr", has_text="cette session")
    expect(current).to_contain_text("avec 2FA")
    expect(account.locator('[data-table="sessions"] tr')).to_have_count(1)
    page.screenshot(path=screenshot_dir / "staff-account.png", full_page=True)

    # The same code again is a replay: refused.
    page.get_by_role("button", name="Se déconnecter").click()
    _sign_in(page, analyst, password)
    page.get_by_label("Code à 6 chiffres (double authentification)").fill(used)
    page.locator('[data-form="login"]').get_by_role("button", name="Se connecter").click()
    expect(page.locator('[data-message="login"]')).to_contain_text("already used")
    # mfa_required, the refused replay, the refused activation code and the refused admin rule
    # are answers the page handled.
    assert [p for p in problems.all() if not any(s in p for s in ("401", "403", "409"))] == []
    context.close()
