"""A late answer for the incident shown before must not overwrite the one the dispatcher opened.

On the night the console reloads an incident's detail whenever the stream says something moved;
a dispatcher clicking from one incident to another can have the earlier incident's answer arrive
after the new one. It used to be drawn over it: the summary, the actions and the split button of
the wrong incident (seen as a flaky failure of the merge-and-split test in CI).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from fastapi import FastAPI
from playwright.sync_api import Browser, Route, expect

from tests.sos.factories import sos_burst
from tests.web.conftest import live_account, own_live_server
from tests.web.test_dispatch_merge_browser import _incident_of, _login

THREE = (48.8631, 2.3708)  # the Bataclan
ONE = (48.8530, 2.3499)  # Notre-Dame, ~2 km: an incident of its own


@pytest.fixture(scope="module")
def race_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, FastAPI]]:
    with own_live_server(tmp_path_factory.mktemp("race-live"), "race-live") as served:
        yield served


@pytest.mark.browser
def test_a_late_detail_of_the_previous_incident_is_dropped(
    browser: Browser, race_server: tuple[str, FastAPI], tmp_path: Path
) -> None:
    base, app = race_server
    dispatcher, password = live_account(app, "dispatcher", "op.race")
    token = httpx.post(f"{base}/api/v1/auth/token",
                       data={"username": dispatcher, "password": password}).json()["access_token"]
    api = httpx.Client(base_url=base, headers={"Authorization": f"Bearer {token}"}, timeout=30)
    sessions = app.state.runtime.sessions
    three = sos_burst(sessions, THREE, 3, seed=31, situations=["hidden"])
    one = sos_burst(sessions, ONE, 1, seed=32, situations=["injured"])
    context = browser.new_context(locale="fr-FR", viewport={"width": 1440, "height": 900})
    try:
        page = context.new_page()
        page.goto(f"{base}/dispatch")
        _login(page, dispatcher, password)
        queue = page.locator("[data-queue] [data-incident-id]")
        expect(queue).to_have_count(2, timeout=30_000)
        big = _incident_of(api, three[0])["id"]
        small = _incident_of(api, one[0])["id"]
        summary = page.locator("[data-detail-summary]")
        split = page.locator('[data-action="split"]')

        page.locator(f'[data-queue] [data-incident-id="{small}"]').click()
        expect(summary).to_contain_text("1 SOS")
        expect(split).to_be_hidden()

        # The next answer for the small incident is held back...
        held: list[Route] = []

        def hold(route: Route) -> None:
            held.append(route)

        page.route(f"**/api/v1/dispatch/incidents/{small}", hold)
        page.locator(f'[data-queue] [data-incident-id="{small}"]').click()
        page.wait_for_timeout(300)
        assert len(held) == 1
        # ...while the dispatcher opens the big one, which answers at once.
        page.locator(f'[data-queue] [data-incident-id="{big}"]').click()
        expect(summary).to_contain_text("3 SOS")
        expect(split).to_be_visible()
        held[0].continue_()
        page.wait_for_timeout(800)
        expect(summary).to_contain_text("3 SOS")
        expect(split).to_be_visible()
        page.unroute(f"**/api/v1/dispatch/incidents/{small}", hold)

        # The same for one SOS's chat: the reply box writes to the SOS opened last, so the
        # conversation in view must be that caller's, never a late one of the caller before.
        head = page.locator("[data-chat-head]")
        page.locator(f'[data-queue] [data-incident-id="{small}"]').click()
        expect(summary).to_contain_text("1 SOS")
        injured_row = page.locator(f'[data-sos-list] [data-sos-id="{one[0]}"] .sos-row-btn')
        injured_row.click()
        expect(head).to_contain_text("Blessés")
        held.clear()
        chat = re.compile(rf"/api/v1/sos/{one[0]}\?")
        page.route(chat, hold)
        injured_row.click()
        page.wait_for_timeout(300)
        assert len(held) == 1
        page.locator(f'[data-queue] [data-incident-id="{big}"]').click()
        expect(summary).to_contain_text("3 SOS")
        page.locator(f'[data-sos-list] [data-sos-id="{three[0]}"] .sos-row-btn').click()
        expect(head).to_contain_text("Personnes cachées")
        held[0].continue_()
        page.wait_for_timeout(800)
        expect(head).to_contain_text("Personnes cachées")
        page.unroute(chat, hold)
    finally:
        context.close()
        api.close()
