"""The public alerts page: two alerts published close together must both stay on screen.

The page reads the list again on each 'published' event of the stream, and on nothing else. The
read made for the first alert could answer after the read made for the second, and drew the list
without the newest alert, which then stayed hidden until another alert came.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

import httpx
import pytest
from fastapi import FastAPI
from playwright.sync_api import Browser, expect

from tests.alerts.helpers import alert_body
from tests.web.conftest import live_account, own_live_server
from tests.web.late_answers import HeldAnswer


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, FastAPI]]:
    with own_live_server(tmp_path_factory.mktemp("alerts-race"), "alerts-race") as served:
        yield served


def _headers(base: str, username: str, password: str) -> dict[str, str]:
    token = httpx.post(f"{base}/api/v1/auth/token",
                       data={"username": username, "password": password}).json()["access_token"]
    return {"Authorization": f"Bearer {token}"}


def _publish(base: str, author: dict[str, str], approver: dict[str, str], headline: str) -> None:
    body = alert_body()
    body["infos"][0]["headline"] = headline
    drafted = httpx.post(f"{base}/api/v1/alerts", json=body, headers=author)
    assert drafted.status_code == 201, drafted.text
    approved = httpx.post(f"{base}/api/v1/alerts/{drafted.json()['id']}/approve",
                          headers=approver)
    assert approved.status_code == 200, approved.text


@pytest.mark.browser
def test_a_late_read_for_the_previous_alert_is_dropped(
    browser: Browser, server: tuple[str, FastAPI]
) -> None:
    base, app = server
    first, password = live_account(app, "authority", "prefet.alerts.race")
    second, _ = live_account(app, "authority", "prefete.alerts.race")
    author, approver = _headers(base, first, password), _headers(base, second, password)
    context = browser.new_context(locale="fr-FR", viewport={"width": 1280, "height": 900})
    try:
        page = context.new_page()
        page.goto(f"{base}/alerts")
        cards = page.locator("[data-alert-list] [data-alert-id]")
        page.wait_for_timeout(1000)  # the stream is open (its 'ready' read is made)

        # The read made for the first alert is answered at once (one alert) but held back from
        # the page until the read made for the second has been drawn.
        held = HeldAnswer(fetch=True)

        page.route(re.compile(r"/api/v1/alerts$"), held)
        _publish(base, author, approver, "Première alerte")
        for _ in range(40):
            if held:
                break
            page.wait_for_timeout(100)
        assert len(held) == 1
        _publish(base, author, approver, "Seconde alerte")
        expect(cards).to_have_count(2)
        held.release()
        page.wait_for_timeout(800)
        assert cards.count() == 2
    finally:
        context.close()
