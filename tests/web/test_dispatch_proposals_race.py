"""The dispatch console: units ranked for the incident shown before must not appear under the
incident opened since.

The proposals are asked for the incident on screen. A dispatcher who asked for them, then opened
another incident before they came, used to see them drawn under the new one; a click on one
assigned that unit to the incident now shown, ranked for another place.
"""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest
from fastapi import FastAPI
from playwright.sync_api import Browser, Route, expect

from tests.sos.factories import sos_burst
from tests.web.conftest import live_account, own_live_server
from tests.web.test_dispatch_merge_browser import _incident_of, _login


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, FastAPI]]:
    with own_live_server(tmp_path_factory.mktemp("proposals-race"), "proposals-race") as served:
        yield served


@pytest.mark.browser
def test_late_proposals_of_the_previous_incident_are_dropped(
    browser: Browser, server: tuple[str, FastAPI]
) -> None:
    base, app = server
    dispatcher, password = live_account(app, "dispatcher", "op.proposals.race")
    token = httpx.post(f"{base}/api/v1/auth/token",
                       data={"username": dispatcher, "password": password}).json()["access_token"]
    api = httpx.Client(base_url=base, headers={"Authorization": f"Bearer {token}"}, timeout=30)
    sessions = app.state.runtime.sessions
    east = sos_burst(sessions, (48.8631, 2.3708), 1, seed=41, situations=["hidden"])
    west = sos_burst(sessions, (48.8530, 2.3499), 1, seed=42, situations=["injured"])
    context = browser.new_context(locale="fr-FR", viewport={"width": 1440, "height": 900})
    try:
        page = context.new_page()
        page.goto(f"{base}/dispatch")
        _login(page, dispatcher, password)
        queue = page.locator("[data-queue] [data-incident-id]")
        expect(queue).to_have_count(2, timeout=30_000)
        first = _incident_of(api, east[0])["id"]
        second = _incident_of(api, west[0])["id"]
        summary = page.locator("[data-detail-summary]")
        proposals = page.locator("[data-proposals]")

        page.locator(f'[data-queue] [data-incident-id="{first}"]').click()
        expect(summary).to_contain_text("Personnes cachées")
        held: list[Route] = []
        page.route(f"**/api/v1/dispatch/incidents/{first}/proposals",
                   lambda route: held.append(route))
        page.locator('[data-action="proposals"]').click()
        page.wait_for_timeout(300)
        assert len(held) == 1
        page.locator(f'[data-queue] [data-incident-id="{second}"]').click()
        expect(summary).to_contain_text("Blessés")
        held[0].continue_()
        page.wait_for_timeout(800)
        expect(proposals).to_be_hidden()
    finally:
        context.close()
        api.close()
