"""``/docs`` renders the OpenAPI reference from our own bundle, under the strict CSP."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Protocol

import pytest
from playwright.sync_api import Browser, Page, expect

pytestmark = pytest.mark.browser


class Problems(Protocol):
    def all(self) -> list[str]: ...


def test_api_docs_list_the_routes(
    browser: Browser,
    live_server: str,
    watch_page: Callable[[Page], Problems],
    screenshot_dir: Path,
) -> None:
    context = browser.new_context(locale="fr-FR", viewport={"width": 1280, "height": 900})
    page = context.new_page()
    problems = watch_page(page)
    page.goto(live_server + "/docs")
    expect(page.locator(".swagger-ui .title").first).to_contain_text("Tocsin", timeout=10_000)
    expect(page.get_by_text("/api/v1/auth/token").first).to_be_visible()
    assert problems.all() == []
    page.screenshot(path=screenshot_dir / "api-docs.png")
    context.close()
