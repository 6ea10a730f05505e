"""The watch console: the queue read after one decision must not put back the item decided next.

Each decision reads the queue again. Two decisions in a row: the read made after the first could
answer after the read made after the second, and drew the second item back, its buttons live.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

import httpx
import pytest
from fastapi import FastAPI
from playwright.sync_api import Browser, expect

from tests.web.conftest import live_account, own_live_server
from tests.web.late_answers import HeldAnswer
from tests.web.test_watch_pages import _platform


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, FastAPI]]:
    with own_live_server(tmp_path_factory.mktemp("watch-race"), "watch-race") as served:
        yield served


@pytest.mark.browser
def test_a_queue_read_older_than_the_next_decision_is_dropped(
    browser: Browser, server: tuple[str, FastAPI]
) -> None:
    base, app = server
    _platform(app)
    moderator, password = live_account(app, "moderator", "moderatrice.race")
    # Harmless texts: keeping them agrees with the assessment, so no second opinion is awaited
    # and each decision takes its item out of the queue.
    for n, text in ((1, "Je condamne ceux qui traitent les musulmans de terroristes"),
                    (2, "Je condamne ceux qui insultent les juifs, honte à eux")):
        r = httpx.post(f"{base}/api/v1/watch/reports", data={
            "url": f"https://x.example/status/race{n}", "platform": "x",
            "category": "hate", "excerpt": text})
        assert r.status_code == 201, r.text
    context = browser.new_context(locale="fr-FR", viewport={"width": 1280, "height": 1000})
    try:
        page = context.new_page()
        page.goto(base + "/watch")
        sign_in = page.locator('[data-form="login"]')
        sign_in.get_by_label("Identifiant").fill(moderator)
        sign_in.get_by_label("Mot de passe").fill(password)
        sign_in.get_by_role("button", name="Se connecter").click()
        items = page.locator(".watch-item")
        expect(items).to_have_count(2)

        # The read after the first decision is answered at once (the second item still there)
        # but held back from the page until the second decision has been read back.
        held = HeldAnswer(fetch=True)

        page.route(re.compile(r"/api/v1/watch/queue\?"), held)
        first, second = items.nth(0), items.nth(1)
        second_text = second.locator("p").first.inner_text()
        first.get_by_label("Motif de la décision").fill("propos sans infraction")
        first.get_by_role("button", name="Conserver").click()
        for _ in range(40):
            if held:
                break
            page.wait_for_timeout(100)
        assert len(held) == 1
        second.get_by_label("Motif de la décision").fill("propos sans infraction")
        second.get_by_role("button", name="Conserver").click()
        expect(items).to_have_count(0)
        held.release()
        page.wait_for_timeout(500)
        assert items.count() == 0, second_text
    finally:
        context.close()
