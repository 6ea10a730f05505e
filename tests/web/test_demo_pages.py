"""After the demo, every role's page shows the evening: a browser signs in with the demo's own
accounts and finds data on each page, and the screenshots of docs/ are taken from it."""

from __future__ import annotations

import contextlib
import io
import os
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
import uvicorn
from playwright.sync_api import Browser, Page, expect
from rich.console import Console

from tests.served import free_port as _free_port
from tests.web.conftest import build_app
from tocsin.demo.cast import Cast
from tocsin.demo.receiver import Receiver
from tocsin.demo.replay import Options, Replay
from tocsin.demo.serve import bootstrap_admin

WEBHOOK_HOSTS = "TOCSIN_ALERTS_WEBHOOK_HOSTS"
SWEEP = "TOCSIN_STATS_SWEEP_SECONDS"


@pytest.fixture(scope="module")
def demo_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, Cast]]:
    """A live server on its own database, with the evening replayed into it (fast, small)."""
    receiver = Receiver().start()
    before = {name: os.environ.get(name) for name in (WEBHOOK_HOSTS, SWEEP)}
    os.environ[WEBHOOK_HOSTS] = receiver.host
    os.environ[SWEEP] = "0.5"  # the replay waits for the observatory's figures
    var = tmp_path_factory.mktemp("demo-pages")
    app = build_app(var)
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=_free_port(),
                                           log_level="warning"))
    thread = threading.Thread(target=server.run, name="demo-live", daemon=True)
    thread.start()
    base = f"http://127.0.0.1:{server.config.port}"
    try:
        deadline = time.monotonic() + 30
        while not server.started:
            assert time.monotonic() < deadline and thread.is_alive(), "server did not start"
            time.sleep(0.05)
        admin, tag = bootstrap_admin(app.state.runtime.settings.resolved_database_url)
        with httpx.Client(base_url=base, timeout=30) as http:
            replay = Replay(http, admin, Options(speed=0, scale=0.1, workers=4),
                            console=Console(file=io.StringIO()), receiver=receiver, tag=tag)
            outcome = replay.run()
        assert outcome.problems == []
        yield base, replay.cast
    finally:
        server.should_exit = True
        thread.join(timeout=10)
        receiver.stop()
        for name, value in before.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value


def _sign_in(page: Page, base: str, path: str, cast: Cast, key: str) -> None:
    account = cast.accounts[key]
    page.goto(f"{base}{path}")
    page.fill("#login-username", account.username)
    page.fill("#login-password", account.password)
    page.click("[data-form=login] button[type=submit]")
    expect(page.locator("[data-view=console]")).to_be_visible()


STAFF_PAGES = [
    # (page, account, text the page must show once the evening is in it)
    ("/dispatch", "dispatcher", "Attaque"),
    ("/unit", "unit01", "PS 10-1"),
    ("/authority", "authority", "Fin de l'assaut au Bataclan"),
    ("/watch", "moderator", "reseau-demo"),
    ("/stats", "analyst", "SOS reçus"),
    ("/cyber", "analyst", "Hameçonnage : faux appels aux dons"),
    ("/admin", "admin", "demo-dispatcher"),
]


@pytest.mark.browser
@pytest.mark.parametrize(("path", "key", "shows"), STAFF_PAGES)
def test_each_staff_page_shows_the_evening(
    browser: Browser, demo_server: tuple[str, Cast], screenshot_dir: Path,
    path: str, key: str, shows: str,
) -> None:
    base, cast = demo_server
    context = browser.new_context(locale="fr-FR", viewport={"width": 1400, "height": 1000},
                                  geolocation={"latitude": 48.8631, "longitude": 2.3708,
                                               "accuracy": 10},
                                  permissions=["geolocation"])
    try:
        page = context.new_page()
        _sign_in(page, base, path, cast, key)
        expect(page.locator("[data-view=console]")).to_contain_text(shows, timeout=10_000)
        with contextlib.suppress(Exception):
            page.wait_for_load_state("networkidle", timeout=3_000)
        page.screenshot(path=str(screenshot_dir / f"demo-{path.strip('/')}.png"))
        # The same console on a phone (390 x 844), as a crew or an official away from a desk
        # would open it: the page must not be wider than the screen.
        page.set_viewport_size({"width": PHONE["width"], "height": PHONE["height"]})
        expect(page.locator("[data-view=console]")).to_contain_text(shows)
        page.wait_for_timeout(300)  # let the maps and lists lay themselves out again
        assert page.evaluate(WIDTH) <= PHONE["width"] + 1, f"{path} is wider than a phone"
        page.screenshot(path=str(screenshot_dir / f"demo-{path.strip('/')}-phone.png"))
    finally:
        context.close()


PHONE = {"width": 390, "height": 844}
WIDTH = "document.documentElement.scrollWidth"
CITIZEN_PAGES = [
    # (page, text it must show during the evening)
    ("/", "Tocsin"),
    ("/alerts", "restez à l'abri"),
    ("/sos", "SOS"),
    ("/shelter", "Hébergement d'urgence"),
    ("/persons", "Tocsin"),
    ("/safety", "Tocsin"),
]


@pytest.mark.browser
def test_citizen_pages_on_a_phone_during_the_evening(
    browser: Browser, demo_server: tuple[str, Cast], screenshot_dir: Path,
) -> None:
    """Every public page on a 390 x 844 phone while the demo's evening is in it."""
    base, _ = demo_server
    context = browser.new_context(locale="fr-FR", viewport=PHONE, is_mobile=True,
                                  has_touch=True)
    try:
        page = context.new_page()
        for path, shows in CITIZEN_PAGES:
            page.goto(f"{base}{path}")
            expect(page.locator("body")).to_contain_text(shows, timeout=10_000)
            with contextlib.suppress(Exception):
                page.wait_for_load_state("networkidle", timeout=3_000)
            assert page.evaluate(WIDTH) <= PHONE["width"] + 1, f"{path} is wider than a phone"
            name = path.strip("/") or "home"
            page.screenshot(path=str(screenshot_dir / f"demo-{name}-phone.png"))
    finally:
        context.close()


@pytest.mark.browser
def test_citizens_see_the_alert(browser: Browser, demo_server: tuple[str, Cast],
                                screenshot_dir: Path) -> None:
    base, _ = demo_server
    context = browser.new_context(locale="fr-FR", viewport={"width": 1200, "height": 900})
    try:
        page = context.new_page()
        page.goto(f"{base}/alerts")
        expect(page.locator("[data-alert-list]")).to_contain_text("restez à l'abri",
                                                                  timeout=10_000)
        page.screenshot(path=str(screenshot_dir / "demo-alerts.png"))
    finally:
        context.close()
