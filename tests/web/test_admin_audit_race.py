"""A slow answer to an earlier audit-log search must not replace the search asked since.

An administrator searching the log for one actor, then another, used to see the first search's
page arrive last and stay under the second query (and its paging count).
"""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest
from fastapi import FastAPI
from playwright.sync_api import Browser, Route, expect

from tests.web.conftest import live_account, own_live_server
from tocsin.core import audit as audit_log
from tocsin.core.db import session_scope


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, FastAPI]]:
    with own_live_server(tmp_path_factory.mktemp("audit-race"), "audit-race") as served:
        yield served


@pytest.mark.browser
def test_a_late_answer_to_the_previous_log_search_is_dropped(
    browser: Browser, server: tuple[str, FastAPI]
) -> None:
    url, app = server
    username, password = live_account(app, "admin", "admin.race")
    with session_scope(app.state.runtime.sessions) as session:
        for n in range(3):
            audit_log.record(session, actor="op.alpha", action="dispatch_assign",
                             object_type="incident", object_id=f"alpha{n}", reason="unit A")
        audit_log.record(session, actor="op.bravo", action="dispatch_assign",
                         object_type="incident", object_id="bravo0", reason="unit B")
    context = browser.new_context(locale="fr-FR")
    try:
        page = context.new_page()
        page.goto(url + "/admin")
        sign_in = page.locator('[data-form="login"]')
        sign_in.get_by_label("Identifiant").fill(username)
        sign_in.get_by_label("Mot de passe").fill(password)
        sign_in.get_by_role("button", name="Se connecter").click()
        audit = page.locator('[data-table="audit"]')
        expect(audit).to_contain_text("bravo0")

        held: list[Route] = []
        page.route(re.compile(r"/api/v1/audit\?.*q=alpha"), lambda route: held.append(route))
        form = page.locator('[data-form="audit"]')
        search = form.get_by_label("Rechercher (tous les mots)")
        search.fill("alpha")
        form.get_by_role("button", name="Filtrer").click()
        page.wait_for_timeout(300)
        assert len(held) == 1
        search.fill("bravo")
        form.get_by_role("button", name="Filtrer").click()
        total = page.locator("[data-audit-total]")
        expect(total).to_have_text("entrées 1 à 1 sur 1")
        held[0].continue_()
        page.wait_for_timeout(800)
        expect(total).to_have_text("entrées 1 à 1 sur 1")
        expect(audit).to_contain_text("bravo0")
        expect(audit).not_to_contain_text("alpha")
    finally:
        context.close()
