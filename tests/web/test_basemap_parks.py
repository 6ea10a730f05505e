"""Parks on the embedded base map, when the build is given a green-space file (issue 20).

The committed data's parks are checked in test_basemap_data.py (and their naming join in
test_basemap_parks_join.py). These tests use a SYNTHETIC green-space file (made-up squares near
the Hôtel de Ville, named in capitals as the Ville de Paris file writes them) to check the build
keeps named spaces of a sensible size and rewrites their names, and that a map draws them green
and names them.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Browser, Page, Route, expect

from tests.web.conftest import PageProblems
from tools import basemap_build as build

DATA = Path(__file__).resolve().parents[2] / "frontend" / "public" / "basemap"


def _square(lat: float, lon: float, half_m: float) -> dict[str, Any]:
    dlat = half_m / 111_320
    dlon = half_m / (111_320 * 0.658)  # cos(48.86°)
    ring = [
        [lon - dlon, lat - dlat],
        [lon + dlon, lat - dlat],
        [lon + dlon, lat + dlat],
        [lon - dlon, lat + dlat],
    ]
    return {"type": "Polygon", "coordinates": [[*ring, ring[0]]]}


def _green_spaces(path: Path) -> Path:
    features = [
        # 300 m a side: kept, its name rewritten.
        {"properties": {"nom_ev": "JARDIN DE L'ESSAI"}, "geometry": _square(48.8575, 2.3535, 150)},
        # 40 m a side: a planter's size, left out.
        {"properties": {"nom_ev": "JARDINIERE DU TEST"}, "geometry": _square(48.85, 2.34, 20)},
        # No name: left out.
        {"properties": {}, "geometry": _square(48.86, 2.36, 150)},
    ]
    path.write_text(json.dumps({"type": "FeatureCollection", "features": features}))
    return path


def test_the_build_keeps_named_green_spaces_of_a_sensible_size(tmp_path: Path) -> None:
    parks, labels = build.build_parks([_green_spaces(tmp_path / "espaces_verts.geojson")])
    assert [p["n"] for p in parks] == ["Jardin de l'Essai"]
    assert parks[0]["k"] == "park" and len(parks[0]["r"]) == 1
    [(name, kind, lat, lon)] = labels
    assert (name, kind) == ("Jardin de l'Essai", "park")
    assert abs(lat - 48.8575) < 0.0005 and abs(lon - 2.3535) < 0.0005


def test_park_names_written_in_capitals_read_normally() -> None:
    assert build.park_name("PARC DES BUTTES-CHAUMONT") == "Parc des Buttes-Chaumont"
    assert build.park_name("SQUARE DE LA TOUR SAINT-JACQUES") == "Square de la Tour Saint-Jacques"
    assert build.park_name("Jardin du Luxembourg") == "Jardin du Luxembourg"
    # The city's capitals carry no accents; its park names' words get theirs back.
    assert (
        build.park_name("CIMETIERE DE L'EST PARISIEN DIT DU PERE LACHAISE")
        == "Cimetière de l'Est Parisien dit du Père Lachaise"
    )
    assert build.park_name("JARDINS DU TROCADERO") == "Jardins du Trocadéro"
    assert build.park_name("SQUARE LOUIS XIII") == "Square Louis XIII"
    assert build.park_name("PROMENADE PC 16  (PETITE CEINTURE)") == (
        "Promenade PC 16 (Petite Ceinture)"
    )
    assert build.park_name("HIPPODROME D'AUTEUIL, PELOUSE A") == "Hippodrome d'Auteuil, Pelouse A"


@pytest.mark.browser
def test_a_park_is_drawn_green_and_named(
    browser: Browser,
    live_server: str,
    watch_page: Callable[[Page], PageProblems],
    tmp_path: Path,
) -> None:
    parks, labels = build.build_parks([_green_spaces(tmp_path / "espaces_verts.geojson")])
    areas = json.loads((DATA / "areas.json").read_text(encoding="utf-8"))
    areas["areas"] = parks + areas["areas"]
    places = json.loads((DATA / "places.json").read_text(encoding="utf-8"))
    places["places"] += labels
    files = {"areas.json": json.dumps(areas), "places.json": json.dumps(places)}
    context = browser.new_context(locale="fr-FR", viewport={"width": 1280, "height": 900})

    def serve(route: Route) -> None:
        name = route.request.url.rsplit("/", 1)[-1]
        route.fulfill(status=200, content_type="application/json", body=files[name])

    for name in files:
        context.route(f"**/static/basemap/{name}", serve)
    page = context.new_page()
    problems = watch_page(page)
    try:
        page.goto(f"{live_server}/sos")
        page.locator("[data-manual] summary").click()
        box = page.locator("[data-manual] [data-map]")
        expect(box).to_have_attribute("data-basemap", "ready", timeout=15_000)
        expect(box.locator(".basemap-label-park")).to_have_text("Jardin de l'Essai")
        green = page.evaluate(
            """() => {
              const c = document.querySelector('[data-manual] .leaflet-basemap-pane canvas');
              const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
              // The SOS page's night palette: parks #18301f (the day one's is #c8dfb9).
              let n = 0;
              for (let i = 0; i < d.length; i += 4) {
                if (Math.abs(d[i] - 24) < 4 && Math.abs(d[i + 1] - 48) < 4
                    && Math.abs(d[i + 2] - 31) < 4) n++;
              }
              return n;
            }"""
        )
        assert green > 2_000, green
        assert problems.all() == []
    finally:
        context.close()


@pytest.mark.browser
def test_the_buttes_chaumont_are_found_drawn_and_named(
    browser: Browser,
    live_server: str,
    watch_page: Callable[[Page], PageProblems],
    screenshot_dir: Path,
) -> None:
    """The committed data: a caller says "aux Buttes-Chaumont"; the SOS map finds the park,
    shows it green and named (night palette), with nothing fetched off the platform."""
    context = browser.new_context(
        locale="fr-FR",
        viewport={"width": 390, "height": 844},
        device_scale_factor=2,
        is_mobile=True,
        has_touch=True,
    )
    tried: list[str] = []

    def offline(route: Route) -> None:
        if route.request.url.startswith(live_server):
            route.continue_()
        else:
            tried.append(route.request.url)
            route.abort()

    context.route("**/*", offline)
    page = context.new_page()
    problems = watch_page(page)
    try:
        page.goto(f"{live_server}/sos")
        page.locator("[data-manual] summary").click()
        box = page.locator("[data-manual] [data-map]")
        expect(box).to_have_attribute("data-basemap", "ready", timeout=15_000)
        page.locator("[data-geo-query]").fill("buttes chaumont")
        # The metro station of that name comes too; the park is among the results.
        park = page.locator("[data-geo-results] button", has_text="Parc des Buttes Chaumont")
        expect(park).to_contain_text("parc, jardin", timeout=10_000)
        park.click()
        found = page.locator("[data-geo-found]")
        lat = float(found.get_attribute("data-lat") or "nan")
        lon = float(found.get_attribute("data-lon") or "nan")
        assert abs(lat - 48.8797) < 0.004 and abs(lon - 2.3830) < 0.006, (lat, lon)
        expect(box.locator(".leaflet-zoom-anim")).to_have_count(0)
        expect(box.locator(".basemap-labels-moving")).to_have_count(0)
        expect(box.locator(".basemap-label-park").first).to_be_visible()
        assert "Parc des Buttes Chaumont" in box.locator(".basemap-label-park").all_text_contents()
        green = page.evaluate(
            """() => {
              const c = document.querySelector('[data-manual] .leaflet-basemap-pane canvas');
              const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
              let n = 0;
              for (let i = 0; i < d.length; i += 4) {
                if (Math.abs(d[i] - 24) < 4 && Math.abs(d[i + 1] - 48) < 4
                    && Math.abs(d[i + 2] - 31) < 4) n++;
              }
              return n / (d.length / 4);
            }"""
        )
        assert green > 0.2, green  # the park fills much of the view at zoom 16
        box.scroll_into_view_if_needed()
        page.screenshot(path=str(screenshot_dir / "basemap-park-sos-phone.png"))
        assert tried == [], tried
        assert problems.all() == []
    finally:
        context.close()
