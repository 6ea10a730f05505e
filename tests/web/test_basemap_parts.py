"""A département's streets in files of their own, loaded when needed (issue 20).

The committed data holds Paris' streets only (no BAN file of the suburbs could be obtained for
this version: frontend/public/basemap/README.md). These tests build SYNTHETIC BAN rows (a made-up
"Rue de Paris" in Montreuil, numbers along a straight line, not the BAN's positions) to check
the mechanism an operator gets by giving the build more départements: the files are split per
département, the suburbs' streets are searched with their commune's name, and a map loads them
only when its view reaches them.
"""

from __future__ import annotations

import csv
import json
import math
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Browser, Page, Route, expect

from tests.web.conftest import PageProblems
from tools import basemap_build as build
from tools.basemap_streets import build_streets, part_entry, read_ban, split_by_departement

DATA = Path(__file__).resolve().parents[2] / "frontend" / "public" / "basemap"
BAN_HEADER = [
    "id",
    "id_fantoir",
    "numero",
    "rep",
    "nom_voie",
    "code_postal",
    "code_insee",
    "nom_commune",
    "code_insee_ancienne_commune",
    "nom_ancienne_commune",
    "x",
    "y",
    "lon",
    "lat",
    "type_position",
    "alias",
    "nom_ld",
    "libelle_acheminement",
    "nom_afnor",
    "source_position",
    "source_nom_voie",
    "certification_commune",
    "cad_parcelles",
]
# Synthetic: where the made-up street starts, and each number's step along it (~15 m).
START = (48.8600, 2.4300)
STEP = 0.0002


def _number_point(n: int) -> tuple[float, float]:
    side = 0.0001 if n % 2 else -0.0001  # odd on one side, even on the other (~22 m apart)
    return (START[0] + side, START[1] + n * STEP)


def _rows() -> list[dict[str, str]]:
    rows = []
    streets = [
        ("Rue de Paris", "93048", "Montreuil", "93100"),
        ("Rue de la Roquette", "75111", "Paris", "75011"),
    ]
    for k, (street, insee, commune, postcode) in enumerate(streets):
        for n in range(1, 41):
            lat, lon = _number_point(n)
            row = dict.fromkeys(BAN_HEADER, "")
            row.update(
                id=f"{insee}_{k:04d}_{n:05d}",
                numero=str(n),
                nom_voie=street,
                code_postal=postcode,
                code_insee=insee,
                nom_commune=commune,
                lat=f"{lat - k * 0.03:.6f}",  # the Paris street lies 3 km south-west
                lon=f"{lon - k * 0.06:.6f}",
            )
            rows.append(row)
    return rows


def _write_ban(path: Path) -> Path:
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=BAN_HEADER, delimiter=";")
        writer.writeheader()
        writer.writerows(_rows())
    return path


def _square(lat: float, lon: float, d: float = 0.01) -> dict[str, Any]:
    ring = [[lon - d, lat - d], [lon + d, lat - d], [lon + d, lat + d], [lon - d, lat + d]]
    return {"type": "Polygon", "coordinates": [[*ring, ring[0]]]}


def _collection(features: list[dict[str, Any]]) -> str:
    return json.dumps({"type": "FeatureCollection", "features": features})


def test_the_build_writes_one_street_file_per_departement(tmp_path: Path) -> None:
    ban = _write_ban(tmp_path / "adresses-synthetic.csv")
    communes = tmp_path / "communes-93.geojson"
    communes.write_text(
        _collection([{"properties": {"nom": "Montreuil"}, "geometry": _square(*START)}])
    )
    arrondissements = tmp_path / "arrondissements.geojson"
    arrondissements.write_text(
        _collection(
            [
                {
                    "properties": {
                        "c_arinsee": 75111,
                        "l_aroff": "Popincourt",
                        "geom_x_y": {"lat": 48.859, "lon": 2.380},
                    },
                    "geometry": _square(48.859, 2.380),
                }
            ]
        )
    )
    water = tmp_path / "water.geojson"
    water.write_text(_collection([{"properties": {}, "geometry": _square(48.85, 2.35)}]))
    stations = tmp_path / "stations.geojson"
    stations.write_text(
        _collection(
            [
                {
                    "properties": {"nom_gares": "Mairie de Montreuil", "mode": "METRO"},
                    "geometry": {"type": "Point", "coordinates": [2.4417, 48.8621]},
                }
            ]
        )
    )
    out = tmp_path / "out"
    argv = ["--ban", str(ban), "--communes", str(communes)]
    argv += ["--arrondissements", str(arrondissements), "--water", str(water)]
    argv += ["--stations", str(stations), "--out", str(out)]
    assert build.main(argv) == 0
    paris = json.loads((out / "streets.json").read_text())["streets"]
    assert [s[0:2] for s in paris] == [["Rue de la Roquette", "11e"]]
    suburb = json.loads((out / "streets-93.json").read_text())["streets"]
    assert [s[0:2] for s in suburb] == [["Rue de Paris", "Montreuil"]]
    numbers = json.loads((out / "numbers-93.json").read_text())["numbers"]
    assert len(numbers) == 1 and numbers[0][0::3] == list(range(1, 41))
    [part] = json.loads((out / "places.json").read_text())["parts"]
    assert part["dept"] == "93" and part["count"] == 1
    assert (part["streets"], part["numbers"]) == ("streets-93.json", "numbers-93.json")
    south, west, north, east = part["bbox"]
    for n in (1, 40):
        lat, lon = _number_point(n)
        assert south < lat < north and west < lon < east


def _part_files(tmp_path: Path) -> dict[str, str]:
    """The committed places.json with the synthetic département listed, and its two files."""
    by_dept = split_by_departement(read_ban([_write_ban(tmp_path / "ban.csv")]))
    streets, numbers = build_streets(by_dept["93"])
    places = json.loads((DATA / "places.json").read_text(encoding="utf-8"))
    places["parts"] = [part_entry("93", streets)]
    return {
        "places.json": json.dumps(places),
        "streets-93.json": json.dumps(streets),
        "numbers-93.json": json.dumps(numbers),
    }


def _metres(a: tuple[float, float], b: tuple[float, float]) -> float:
    k = math.cos(math.radians((a[0] + b[0]) / 2))
    return math.hypot((a[0] - b[0]) * 111_320, (a[1] - b[1]) * 111_320 * k)


@pytest.mark.browser
def test_a_suburb_address_is_found_with_its_commune_and_its_streets_load_on_demand(
    browser: Browser,
    live_server: str,
    watch_page: Callable[[Page], PageProblems],
    tmp_path: Path,
) -> None:
    files = _part_files(tmp_path)
    context = browser.new_context(locale="fr-FR", viewport={"width": 1280, "height": 900})
    asked: list[str] = []

    def serve(route: Route) -> None:
        name = route.request.url.rsplit("/", 1)[-1]
        asked.append(name)
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
        # Central Paris in view: the suburb's file is not downloaded.
        assert "streets-93.json" not in asked, asked
        assert box.get_attribute("data-basemap-loaded") is None

        query = page.locator("[data-geo-query]")
        query.fill("12 rue de paris montreuil")
        query.press("Enter")
        found = page.locator("[data-geo-found]")
        expect(found).to_contain_text("12 Rue de Paris, Montreuil", timeout=10_000)
        expect(box.locator(".geo-pin-label")).to_contain_text("12 Rue de Paris, Montreuil")
        lat = float(found.get_attribute("data-lat") or "nan")
        lon = float(found.get_attribute("data-lon") or "nan")
        assert _metres((lat, lon), _number_point(12)) < 2, (lat, lon)
        assert "numbers-93.json" in asked and "numbers.json" not in asked, asked
        # The map moved there: the département's streets are drawn and named.
        expect(box).to_have_attribute("data-basemap-loaded", "93", timeout=10_000)
        expect(box.locator(".basemap-label", has_text="Rue de Paris")).to_have_count(1)
        # Typed without the commune, the result still says which commune it is in.
        query.fill("rue de paris")
        expect(page.locator("[data-geo-results] button").first).to_contain_text(
            "Rue de Paris, Montreuil"
        )
        assert problems.all() == []
    finally:
        context.close()
