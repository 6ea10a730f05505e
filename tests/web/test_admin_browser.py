"""The admin page: sign in, create an account, deactivate it, see both in the audit log."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Protocol

import pytest
from fastapi import FastAPI
from playwright.sync_api import Browser, Page, expect

from tests.web.conftest import live_account
from tocsin.core import audit as audit_log
from tocsin.core.db import session_scope

pytestmark = pytest.mark.browser


class Problems(Protocol):
    def all(self) -> list[str]: ...


def test_admin_manages_accounts_and_reads_the_audit_log(
    browser: Browser,
    live_app: FastAPI,
    live_server: str,
    watch_page: Callable[[Page], Problems],
    screenshot_dir: Path,
) -> None:
    username, password = live_account(live_app, "admin", "admin.browser")
    live_account(live_app, "dispatcher", "op.not.admin")
    context = browser.new_context(locale="fr-FR", viewport={"width": 1280, "height": 900})
    page = context.new_page()
    problems = watch_page(page)
    page.goto(live_server + "/admin")
    expect(page.get_by_role("heading", name="Connexion administrateur")).to_be_visible()

    # A non-admin account is turned away by the page (the API would refuse it anyway).
    sign_in = page.locator('[data-form="login"]')
    sign_in.get_by_label("Identifiant").fill("op.not.admin")
    sign_in.get_by_label("Mot de passe").fill(password)
    sign_in.get_by_role("button", name="Se connecter").click()
    expect(page.locator('[data-message="login"]')).to_have_text(
        "Ce compte n'est pas administrateur."
    )

    sign_in.get_by_label("Identifiant").fill(username)
    sign_in.get_by_label("Mot de passe").fill(password)
    sign_in.get_by_role("button", name="Se connecter").click()
    expect(page.locator('[data-table="users"] tr[data-username="admin.browser"]')).to_be_visible()

    create = page.locator('[data-form="create"]')
    create.get_by_label("Identifiant").fill("prefet.browser")
    create.get_by_label("Mot de passe").fill("short")
    create.get_by_label("Rôle").select_option("authority")
    create.get_by_role("button", name="Créer le compte").click()
    expect(page.locator('[data-message="create"]')).to_contain_text("12")

    create.get_by_label("Mot de passe").fill("Un-Mot-De-Passe-Solide-9")
    create.get_by_role("button", name="Créer le compte").click()
    expect(page.locator('[data-message="create"]')).to_have_text("Compte créé : prefet.browser")
    row = page.locator('[data-table="users"] tr[data-username="prefet.browser"]')
    expect(row).to_contain_text("actif")
    row.get_by_role("button", name="Désactiver").click()
    expect(row).to_contain_text("désactivé")

    # The log in words: actions, roles and the platform's own reasons translated.
    expect(page.locator("[data-whoami]")).to_have_text(
        "Connecté(e) : admin.browser · administrateur")
    audit = page.locator('[data-table="audit"]')
    form = page.locator('[data-form="audit"]')
    form.get_by_role("button", name="Filtrer").click()
    created = audit.locator("tr", has_text="création de compte")
    expect(created).to_contain_text("administrateur")
    expect(created).to_contain_text("rôle autorité (préfecture)")
    expect(audit).to_contain_text("désactivation de compte")
    expect(audit).not_to_contain_text("create_account")
    expect(row).to_contain_text("autorité (préfecture)")

    # Seventy assignments: the log is paged by the server and searched there.
    with session_scope(live_app.state.runtime.sessions) as session:
        for n in range(70):
            audit_log.record(session, actor="op.robot", action="dispatch_assign",
                             object_type="incident", object_id=f"inc{n}", reason=f"unit PS-{n}")
    form.get_by_label("Rechercher (tous les mots)").fill("robot")
    form.get_by_role("button", name="Filtrer").click()
    total = page.locator("[data-audit-total]")
    expect(total).to_have_text("entrées 1 à 50 sur 70")
    expect(audit.locator("tr")).to_have_count(50)
    expect(audit.locator("tr").first).to_contain_text("engagement d'une unité")
    expect(audit.locator("tr").first).to_contain_text("unité PS-69")
    page.get_by_role("button", name="Plus anciennes →").click()
    expect(total).to_have_text("entrées 51 à 70 sur 70")
    expect(audit.locator("tr")).to_have_count(20)
    expect(page.get_by_role("button", name="Plus anciennes →")).to_be_disabled()
    page.get_by_role("button", name="← Plus récentes").click()
    expect(total).to_have_text("entrées 1 à 50 sur 70")
    form.get_by_label("Rechercher (tous les mots)").fill("ps-7 ROBOT")
    form.get_by_role("button", name="Filtrer").click()
    expect(total).to_have_text("entrées 1 à 1 sur 1")
    # The 422 and the refused role are client errors the page handled, not page problems.
    assert [p for p in problems.all() if "422" not in p and "403" not in p] == []
    form.get_by_label("Rechercher (tous les mots)").fill("")
    form.get_by_role("button", name="Filtrer").click()
    expect(total).to_contain_text("entrées 1 à 50 sur")
    page.screenshot(path=screenshot_dir / "admin.png", full_page=True)
    page.set_viewport_size({"width": 390, "height": 844})
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= 390, f"the admin page scrolls sideways on a phone: {width}px"
    page.screenshot(path=screenshot_dir / "admin-phone.png", full_page=True)
    context.close()
