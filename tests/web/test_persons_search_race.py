"""A slow answer to an earlier search must not replace the results of the search typed since.

A relative searching one name, then another, used to see the first name's results arrive last
and stay on screen under the second query: the wrong person's record offered for a note.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

import httpx
import pytest
from fastapi import FastAPI
from playwright.sync_api import Browser, Route, expect

from tests.web.conftest import own_live_server


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, FastAPI]]:
    with own_live_server(tmp_path_factory.mktemp("persons-race"), "persons-race") as served:
        yield served


@pytest.mark.browser
def test_a_late_answer_to_the_previous_search_is_dropped(
    browser: Browser, server: tuple[str, FastAPI]
) -> None:
    url, _ = server
    for name in ("Hélène Gauthier", "Karim Benali"):
        created = httpx.post(url + "/api/v1/persons",
                             json={"full_name": name, "author_name": "Un proche"})
        assert created.status_code == 201, created.text
    context = browser.new_context(locale="fr-FR")
    try:
        page = context.new_page()
        page.goto(url + "/persons")
        held: list[Route] = []
        first = re.compile(r"/api/v1/persons/search\?q=Gauthier")
        page.route(first, lambda route: held.append(route))
        query = page.get_by_label("Nom et prénom")
        query.fill("Gauthier")
        page.get_by_role("button", name="Chercher").click()
        page.wait_for_timeout(300)
        assert len(held) == 1
        query.fill("Benali")
        page.get_by_role("button", name="Chercher").click()
        results = page.locator(".result")
        expect(results.first).to_contain_text("Karim Benali")
        held[0].continue_()
        page.wait_for_timeout(800)
        expect(results).to_have_count(1)
        expect(results.first).to_contain_text("Karim Benali")
        expect(page.locator("[data-results]")).not_to_contain_text("Gauthier")
    finally:
        context.close()
