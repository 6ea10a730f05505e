"""The embedded offline base map and the offline address search, in Chromium (issue 20).

No tile server is configured in the tests (TOCSIN_MAP_TILES_URL empty) and every request off
the platform's own origin is refused: what is drawn comes from /static/basemap/ alone.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterator
from pathlib import Path

import httpx
import pytest
from fastapi import FastAPI
from playwright.sync_api import Browser, BrowserContext, Page, Route, expect

from tests.served import serve_in_thread
from tests.web.conftest import PageProblems, live_account, own_live_server
from tocsin.app import create_app
from tocsin.core.migrate import upgrade
from tocsin.core.settings import Settings

PLACE_ITALIE = (48.8314, 2.3556)


def _metres(a: tuple[float, float], b: tuple[float, float]) -> float:
    k = math.cos(math.radians((a[0] + b[0]) / 2))
    return math.hypot((a[0] - b[0]) * 111_320, (a[1] - b[1]) * 111_320 * k)


def _offline(context: BrowserContext, origin: str) -> list[str]:
    """Refuse every request that is not to the platform itself; return what was tried."""
    tried: list[str] = []

    def route(r: Route) -> None:
        if r.request.url.startswith(origin):
            r.continue_()
        else:
            tried.append(r.request.url)
            r.abort()

    context.route("**/*", route)
    return tried


def _open_sos_map(page: Page, live_server: str) -> None:
    page.goto(f"{live_server}/sos")
    page.locator("[data-manual] summary").click()
    expect(page.locator("[data-manual] [data-map]")).to_have_attribute(
        "data-basemap", "ready", timeout=15_000
    )


@pytest.mark.browser
@pytest.mark.parametrize(
    ("viewport", "name"),
    [
        ({"width": 390, "height": 844}, "basemap-sos-phone"),
        ({"width": 1280, "height": 900}, "basemap-sos"),
    ],
)
def test_sos_map_draws_offline_and_finds_place_d_italie(
    browser: Browser,
    live_server: str,
    watch_page: Callable[[Page], PageProblems],
    screenshot_dir: Path,
    viewport: dict[str, int],
    name: str,
) -> None:
    phone = viewport["width"] < 500
    context = browser.new_context(
        viewport=viewport,  # type: ignore[arg-type]
        device_scale_factor=2 if phone else 1,
        is_mobile=phone,
        has_touch=phone,
        locale="fr-FR",
        permissions=[],
    )
    tried = _offline(context, live_server)
    page = context.new_page()
    problems = watch_page(page)
    try:
        _open_sos_map(page, live_server)
        box = page.locator("[data-manual] [data-map]")
        # Drawn: the canvas of the base pane, street names (Hôtel de Ville, zoom 15), credits.
        expect(box.locator(".leaflet-basemap-pane canvas")).to_have_count(1)
        labels = box.locator(".basemap-label")
        expect(labels.first).to_be_visible()
        texts = labels.all_text_contents()
        assert len(texts) >= 5, texts
        assert any(
            t.startswith(("Rue ", "Quai ", "Boulevard ", "Avenue ", "Place ")) for t in texts
        )
        expect(box.locator(".leaflet-control-attribution")).to_contain_text("BAN")
        # The canvas has street pixels, not a blank background.
        painted = page.evaluate(
            """() => {
              const c = document.querySelector('[data-manual] .leaflet-basemap-pane canvas');
              const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
              let lit = 0;
              for (let i = 0; i < d.length; i += 4) if (d[i] + d[i + 1] + d[i + 2] > 200) lit++;
              return lit;
            }"""
        )
        assert painted > 1000, painted

        # Offline address search, accents and apostrophe typed loosely.
        page.locator("[data-geo-query]").fill("place d italie")
        results = page.locator("[data-geo-results] button")
        expect(results.first).to_contain_text("Place d'Italie", timeout=10_000)
        results.first.click()
        found = page.locator("[data-geo-found]")
        expect(found).to_be_visible()
        lat = float(found.get_attribute("data-lat") or "nan")
        lon = float(found.get_attribute("data-lon") or "nan")
        assert _metres((lat, lon), PLACE_ITALIE) < 150, (lat, lon)
        # Shown on the map (marker and its name) before it is used.
        expect(box.locator(".geo-pin")).to_have_count(1)
        expect(box.locator(".geo-pin-label")).to_contain_text("Place d'Italie")
        expect(page.locator("[data-position]")).not_to_contain_text("Position choisie")
        page.screenshot(path=str(screenshot_dir / f"{name}.png"))
        page.locator("[data-geo-confirm]").click()
        expect(page.locator("[data-position]")).to_contain_text("Position choisie")
        assert tried == [], tried
        assert problems.all() == []
    finally:
        context.close()


@pytest.mark.browser
def test_search_finds_a_house_number_and_says_when_nothing_matches(
    browser: Browser, live_server: str, watch_page: Callable[[Page], PageProblems]
) -> None:
    context = browser.new_context(locale="fr-FR", permissions=[])
    _offline(context, live_server)
    page = context.new_page()
    problems = watch_page(page)
    try:
        _open_sos_map(page, live_server)
        query = page.locator("[data-geo-query]")
        query.fill("1 place d'italie")
        query.press("Enter")
        found = page.locator("[data-geo-found]")
        expect(found).to_contain_text("1 Place d'Italie", timeout=10_000)
        lat = float(found.get_attribute("data-lat") or "nan")
        lon = float(found.get_attribute("data-lon") or "nan")
        # BAN: 1 place d'Italie is the town hall of the 13th, on the square's east side.
        assert _metres((lat, lon), (48.83231, 2.35531)) < 30, (lat, lon)
        query.fill("zzqx nowhere")
        expect(page.locator("[data-geo-results]")).to_contain_text("Aucune adresse trouvée")
        assert problems.all() == []
    finally:
        context.close()


@pytest.fixture(scope="module")
def geo_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, FastAPI]]:
    """A live server of its own, so the tests can create staff accounts in its database."""
    with own_live_server(tmp_path_factory.mktemp("geo-live"), "geo-live") as served:
        yield served


@pytest.mark.browser
def test_authority_centres_the_alert_circle_on_a_searched_address(
    browser: Browser,
    geo_server: tuple[str, FastAPI],
    watch_page: Callable[[Page], PageProblems],
    screenshot_dir: Path,
) -> None:
    """The issue's case: the authority meant Place d'Italie, not the Hôtel de Ville."""
    base, app = geo_server
    username, password = live_account(app, "authority", "prefete.italie")
    context = browser.new_context(locale="fr-FR", viewport={"width": 1280, "height": 1000})
    tried = _offline(context, base)
    page = context.new_page()
    problems = watch_page(page)
    try:
        page.goto(f"{base}/authority")
        page.fill("#login-username", username)
        page.fill("#login-password", password)
        page.click("[data-form=login] button[type=submit]")
        expect(page.locator("[data-view=console]")).to_be_visible()
        expect(page.locator("#compose-map")).to_have_attribute("data-basemap", "ready")
        search = page.locator("[data-geo-search]")
        search.locator("[data-geo-query]").fill("Place d'Italie")
        search.locator("[data-geo-query]").press("Enter")
        found = search.locator("[data-geo-found]")
        expect(found).to_contain_text("Place d'Italie")
        # Shown, not used yet: no area until the authority confirms.
        expect(page.locator("[data-area-summary]")).to_have_text("Aucune zone tracée.")
        found.locator("[data-geo-confirm]").click()
        expect(page.locator("[data-area-summary]")).to_have_text("Cercle de 0.5 km.")
        lat = float(found.get_attribute("data-lat") or "nan")
        lon = float(found.get_attribute("data-lon") or "nan")
        assert _metres((lat, lon), PLACE_ITALIE) < 150
        page.locator("#compose-map").scroll_into_view_if_needed()
        # The screenshot once the map has settled: no zoom animation under way (a scaled,
        # blurred canvas), the labels placed again.
        expect(page.locator("#compose-map.leaflet-zoom-anim")).to_have_count(0)
        expect(page.locator("#compose-map .basemap-labels-moving")).to_have_count(0)
        expect(page.locator("#compose-map .basemap-label").first).to_be_visible()
        page.screenshot(path=str(screenshot_dir / "basemap-authority.png"))
        assert tried == [], tried
        assert problems.all() == []
    finally:
        context.close()


@pytest.mark.browser
def test_unit_offer_names_the_nearest_street(
    browser: Browser,
    geo_server: tuple[str, FastAPI],
    watch_page: Callable[[Page], PageProblems],
) -> None:
    base, app = geo_server
    dispatcher, password = live_account(app, "dispatcher", "op.geo.offer")
    crew, _ = live_account(app, "unit", "crew.geo.1")
    token = httpx.post(
        f"{base}/api/v1/auth/token", data={"username": dispatcher, "password": password}
    ).json()["access_token"]
    httpx.post(
        f"{base}/api/v1/dispatch/units",
        headers={"Authorization": f"Bearer {token}"},
        json={"callsign": "PS-75-GEO", "username": crew, "lat": 48.8606, "lon": 2.3470},
    ).raise_for_status()
    context = browser.new_context(locale="fr-FR", viewport={"width": 390, "height": 844})
    tried = _offline(context, base)
    page = context.new_page()
    problems = watch_page(page)
    try:
        page.goto(f"{base}/unit")
        form = page.locator('[data-form="login"]')
        form.get_by_label("Identifiant").fill(crew)
        form.get_by_label("Mot de passe").fill(password)
        form.get_by_role("button", name="Se connecter").click()
        expect(page.locator("[data-offer-empty]")).to_be_visible()
        # The BAN's point of 120 rue de Rivoli, in the middle of a long block.
        httpx.post(
            f"{base}/api/v1/sos",
            json={
                "lat": 48.859405,
                "lon": 2.345843,
                "accuracy_m": 10,
                "situation": "injured",
                "client_id": "geo-offer-test-0000000001",
            },
        ).raise_for_status()
        address = page.locator("[data-offer-address]")
        expect(address).to_contain_text("Rue de Rivoli, Paris 1er", timeout=10_000)
        assert tried == [], tried
        assert problems.all() == []
    finally:
        context.close()


@pytest.mark.browser
def test_public_alerts_map_shows_the_city_at_a_glance(
    browser: Browser,
    live_server: str,
    watch_page: Callable[[Page], PageProblems],
    screenshot_dir: Path,
) -> None:
    """Zoomed out (the whole city): arrondissements and communes named, streets drawn."""
    context = browser.new_context(locale="fr-FR", viewport={"width": 1280, "height": 900})
    tried = _offline(context, live_server)
    page = context.new_page()
    problems = watch_page(page)
    try:
        page.goto(f"{live_server}/alerts")
        box = page.locator(".basemap").first
        expect(box).to_have_attribute("data-basemap", "ready", timeout=15_000)
        # Generous waits: drawing 7,500 streets takes longer on a loaded test machine.
        page.wait_for_function(
            "document.querySelectorAll('.basemap .basemap-label-arrondissement').length >= 10",
            timeout=15_000,
        )
        expect(box.locator(".basemap-label-commune").first).to_be_visible(timeout=15_000)
        box.scroll_into_view_if_needed()
        page.screenshot(path=str(screenshot_dir / "basemap-alerts.png"))
        assert tried == [], tried
        assert problems.all() == []
    finally:
        context.close()


@pytest.mark.browser
def test_nothing_to_confirm_before_a_result_is_chosen(
    browser: Browser, live_server: str, watch_page: Callable[[Page], PageProblems]
) -> None:
    """The shelter's search shows no "use this point" button until a result is on the map."""
    context = browser.new_context(locale="fr-FR", viewport={"width": 1280, "height": 900})
    _offline(context, live_server)
    page = context.new_page()
    problems = watch_page(page)
    try:
        page.goto(f"{live_server}/shelter")
        offer = page.locator("[data-position-for=offer]")
        # The host's search (the seeker's part comes first on the page since issue 20).
        search = page.locator("[data-host] [data-geo-search]")
        expect(search.locator("[data-geo-confirm]")).to_be_hidden()
        search.locator("[data-geo-query]").fill("rue de la roquette")
        search.locator("[data-geo-results] button").first.click()
        search.locator("[data-geo-confirm]").click()
        lat = float(offer.locator("input[name=lat]").input_value())
        assert 48.85 < lat < 48.86, lat
        expect(page.locator("#offer-address")).to_have_value("Rue de la Roquette")
        assert problems.all() == []
    finally:
        context.close()


TILES = "https://tiles.example.test/{z}/{x}/{y}.png"
# The smallest valid PNG (1x1, grey): what the fake tile server answers.
PNG = bytes.fromhex(
    "89504e470d0a1a0a0000000d4948445200000001000000010806000000"
    "1f15c4890000000d4944415478da63f8cfc0f01f0005000201a5e1d7dd0000000049454e44ae426082"
)


@pytest.mark.browser
def test_a_configured_tile_server_replaces_the_embedded_map(
    browser: Browser,
    tmp_path_factory: pytest.TempPathFactory,
    watch_page: Callable[[Page], PageProblems],
) -> None:
    """TOCSIN_MAP_TILES_URL set: its tiles, allowed by the CSP, and no embedded drawing."""
    var_dir = tmp_path_factory.mktemp("tiles-live")
    settings = Settings(
        var_dir=var_dir,
        database_url=f"sqlite:///{var_dir}/t.db",
        bus_url="memory://",
        map_tiles_url=TILES,
    )
    upgrade(settings.resolved_database_url)
    with serve_in_thread(create_app(settings), "tiles-live") as base:
        context = browser.new_context(locale="fr-FR", permissions=[])
        asked: list[str] = []

        def tile(route: Route) -> None:
            asked.append(route.request.url)
            route.fulfill(status=200, content_type="image/png", body=PNG)

        context.route("https://tiles.example.test/**", tile)
        page = context.new_page()
        problems = watch_page(page)
        try:
            page.goto(f"{base}/sos")
            page.locator("[data-manual] summary").click()
            box = page.locator("[data-manual] [data-map]")
            expect(box.locator("img.leaflet-tile-loaded").first).to_be_attached(timeout=10_000)
            assert asked and all(u.startswith("https://tiles.example.test/15/") for u in asked)
            assert box.get_attribute("data-basemap") is None
            expect(box.locator(".leaflet-basemap-pane")).to_have_count(0)
            # The address search still answers from the embedded index.
            page.locator("[data-geo-query]").fill("place d italie")
            expect(page.locator("[data-geo-results] button").first).to_contain_text(
                "Place d'Italie"
            )
            assert problems.all() == []
        finally:
            context.close()
