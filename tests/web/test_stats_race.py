"""The statistics page: a late answer of the filters asked before must not draw over the ones
asked since.

An analyst applying one figure, then another, while the charts load used to see the first
figure's chart arrive last and stay under the second one's filters (the title, the series and the
map of a question no longer asked).
"""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest
from fastapi import FastAPI
from playwright.sync_api import Browser, expect

from tests.web.conftest import live_account, own_live_server
from tests.web.late_answers import HeldAnswer


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, FastAPI]]:
    with own_live_server(tmp_path_factory.mktemp("stats-race"), "stats-race") as served:
        yield served


@pytest.mark.browser
def test_a_late_chart_of_the_previous_filters_is_dropped(
    browser: Browser, server: tuple[str, FastAPI]
) -> None:
    url, app = server
    analyst, password = live_account(app, "analyst", "analyste.race")
    context = browser.new_context(locale="fr-FR", viewport={"width": 1280, "height": 1000})
    try:
        page = context.new_page()
        page.goto(url + "/stats")
        sign_in = page.locator('[data-form="login"]')
        sign_in.get_by_label("Identifiant").fill(analyst)
        sign_in.get_by_label("Mot de passe").fill(password)
        sign_in.get_by_role("button", name="Se connecter").click()
        ready = page.locator('#stats-app[data-ready="true"]')
        expect(ready).to_be_attached(timeout=30_000)
        select = page.locator("#f-figure")
        options = select.locator("option")
        earlier, later = (options.nth(i).get_attribute("value") for i in (1, 2))
        later_label = options.nth(2).inner_text()
        assert earlier and later and earlier != later

        # The main chart of the earlier figure is held back (its first series read only).
        held = HeldAnswer()

        page.route(re.compile(rf"/api/v1/stats/series\?.*figure={re.escape(earlier)}(&|$)"),
                   held)
        apply = page.locator('[data-form="filters"] button[type="submit"]')
        select.select_option(earlier)
        apply.click()
        page.wait_for_timeout(500)
        assert len(held) == 1
        select.select_option(later)
        apply.click()
        expect(ready).to_be_attached(timeout=30_000)
        title = page.locator("[data-main-chart] h3")
        expect(title).to_contain_text(later_label)
        held.release()
        page.wait_for_timeout(1500)
        expect(title).to_contain_text(later_label)
        expect(ready).to_be_attached()
    finally:
        context.close()
