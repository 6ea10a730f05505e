"""Suburb streets from an OpenStreetMap road graph (``--osm``, tools/basemap_osm.py; issue 20).

The committed Meudon streets are checked in test_basemap_data.py and in the browser below. The
build tests use a SYNTHETIC OSMnx GraphML (made-up streets in a made-up square commune) to check
what the reader keeps, chains, places and leaves out, and how it merges with BAN streets.
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Browser, Page, Route, expect

from tests.web.conftest import PageProblems
from tools import basemap_build as build
from tools.basemap_osm import chain, read_graphml

DATA = Path(__file__).resolve().parents[2] / "frontend" / "public" / "basemap"
COMMUNE = (48.8600, 2.4400)  # the synthetic commune's centre, ~2.2 km a side
BELLEVUE = (48.81895, 2.22981)  # Bellevue station (IDFM's file), on the Route des Gardes


def _graphml(nodes: dict[str, tuple[float, float]], edges: list[dict[str, str]]) -> str:
    """An OSMnx-style GraphML: node y/x, edge name/highway/geometry (WKT lon lat)."""
    out = [
        "<?xml version='1.0' encoding='utf-8'?>",
        '<graphml xmlns="http://graphml.graphdrawing.org/xmlns">',
        '<key id="d4" for="node" attr.name="y" attr.type="string" />',
        '<key id="d5" for="node" attr.name="x" attr.type="string" />',
        '<key id="d13" for="edge" attr.name="name" attr.type="string" />',
        '<key id="d14" for="edge" attr.name="highway" attr.type="string" />',
        '<key id="d19" for="edge" attr.name="geometry" attr.type="string" />',
        '<graph edgedefault="directed">',
    ]
    for node_id, (lat, lon) in nodes.items():
        out.append(
            f'<node id="{node_id}"><data key="d4">{lat}</data><data key="d5">{lon}</data></node>'
        )
    for e in edges:
        data = "".join(
            f'<data key="{key}">{e[attr]}</data>'
            for key, attr in (("d13", "name"), ("d14", "highway"), ("d19", "geometry"))
            if attr in e
        )
        out.append(f'<edge source="{e["u"]}" target="{e["v"]}">{data}</edge>')
    out += ["</graph>", "</graphml>"]
    return "\n".join(out)


def _synthetic_graph(path: Path) -> Path:
    lat, lon = COMMUNE
    nodes = {
        "a": (lat, lon - 0.004),
        "b": (lat, lon),
        "c": (lat, lon + 0.004),
        "d": (lat + 0.003, lon),
        "p": (48.85, 2.35),  # in Paris: outside every commune given
        "q": (48.851, 2.351),
    }
    edges = [
        # "Rue d'Essai" a-b-c, the second edge bent (its geometry), both ways (u->v, v->u).
        {"u": "a", "v": "b", "name": "Rue d'Essai", "highway": "residential"},
        {"u": "b", "v": "a", "name": "Rue d'Essai", "highway": "residential"},
        {
            "u": "b",
            "v": "c",
            "name": "Rue d'Essai",
            "highway": "residential",
            "geometry": (
                f"LINESTRING ({lon} {lat}, {lon + 0.002} {lat + 0.0005}, {lon + 0.004} {lat})"
            ),
        },
        {"u": "b", "v": "d", "name": "Avenue du Test", "highway": "secondary"},
        # Merged by OSMnx across two names, unnamed, in Paris: all left out.
        {"u": "c", "v": "d", "name": "['Rue A', 'Rue B']", "highway": "residential"},
        {"u": "a", "v": "d", "highway": "service"},
        {"u": "p", "v": "q", "name": "Rue de Paris Intra", "highway": "residential"},
    ]
    path.write_text(_graphml(nodes, edges), encoding="utf-8")
    return path


def _square(lat: float, lon: float, d: float) -> dict[str, Any]:
    ring = [[lon - d, lat - d], [lon + d, lat - d], [lon + d, lat + d], [lon - d, lat + d]]
    return {"type": "Polygon", "coordinates": [[*ring, ring[0]]]}


def _collection(features: list[dict[str, Any]]) -> str:
    return json.dumps({"type": "FeatureCollection", "features": features})


def _decode(flat: list[int], scale: int) -> list[tuple[float, float]]:
    out, lat, lon = [], 0, 0
    for i in range(0, len(flat), 2):
        lat += flat[i]
        lon += flat[i + 1]
        out.append((lat / scale, lon / scale))
    return out


def _rounded(points: list[tuple[float, float]]) -> list[tuple[float, float]]:
    return [(round(lat, 5), round(lon, 5)) for lat, lon in points]


def _build(tmp_path: Path, ban_rows: list[str]) -> Path:
    """Runs the build on the synthetic graph and tiny synthetic other sources."""
    ban = tmp_path / "ban.csv"
    header = "numero;rep;nom_voie;code_insee;nom_commune;lon;lat"
    ban.write_text("\n".join([header, *ban_rows]) + "\n", encoding="utf-8")
    communes = tmp_path / "communes-93.geojson"
    feature = {"properties": {"code": "93048", "nom": "Montreuil"}, "geometry": None}
    feature["geometry"] = _square(*COMMUNE, 0.01)
    communes.write_text(_collection([feature]))
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
                    "geometry": _square(48.859, 2.380, 0.01),
                }
            ]
        )
    )
    water = tmp_path / "water.geojson"
    water.write_text(_collection([{"properties": {}, "geometry": _square(48.85, 2.35, 0.01)}]))
    stations = tmp_path / "stations.geojson"
    stations.write_text(_collection([]))
    out = tmp_path / "out"
    argv = ["--ban", str(ban), "--communes", str(communes)]
    argv += ["--arrondissements", str(arrondissements), "--water", str(water)]
    argv += ["--stations", str(stations), "--osm", str(_synthetic_graph(tmp_path / "g.graphml"))]
    argv += ["--out", str(out)]
    assert build.main(argv) == 0
    return out


def test_the_graph_gives_a_suburb_its_named_streets_with_their_geometry(tmp_path: Path) -> None:
    out = _build(tmp_path, ["1;;Rue de la Roquette;75111;Paris;2.3800;48.8590"])
    data = json.loads((out / "streets-93.json").read_text())
    rows = {s[0]: s for s in data["streets"]}
    # Unnamed, two-name and Paris edges are left out; Paris keeps its BAN streets only.
    assert sorted(rows) == ["Avenue du Test", "Rue d'Essai"]
    assert [s[0] for s in json.loads((out / "streets.json").read_text())["streets"]] == [
        "Rue de la Roquette"
    ]
    _name, commune, cls, point, lines = rows["Rue d'Essai"]
    assert (commune, cls) == ("Montreuil", 1)
    assert rows["Avenue du Test"][2] == 0
    # Its two edges (the first written both ways) are one line, a to c, bend kept.
    [line] = [_rounded(_decode(line, data["scale"])) for line in lines]
    lat, lon = COMMUNE
    assert {line[0], line[-1]} == set(_rounded([(lat, lon - 0.004), (lat, lon + 0.004)]))
    assert _rounded([(lat + 0.0005, lon + 0.002)])[0] in line
    assert _rounded(_decode(point, data["scale"]))[0] in line  # its point lies on the street
    # No house numbers from a graph, but one (empty) entry per street: the order is shared.
    assert json.loads((out / "numbers-93.json").read_text())["numbers"] == [[], []]
    [part] = json.loads((out / "places.json").read_text())["parts"]
    assert (part["dept"], part["count"]) == ("93", 2)


def test_a_ban_street_wins_over_the_graphs_and_numbers_stay_aligned(tmp_path: Path) -> None:
    lat, lon = COMMUNE
    rows = [f"{n};;Rue d'Essai;93048;Montreuil;{lon + n * 0.0002};{lat}" for n in range(1, 5)]
    out = _build(tmp_path, rows)
    streets = json.loads((out / "streets-93.json").read_text())["streets"]
    numbers = json.loads((out / "numbers-93.json").read_text())["numbers"]
    assert [s[0] for s in streets] == ["Avenue du Test", "Rue d'Essai"]
    assert numbers[0] == []  # the graph's street, no numbers
    assert numbers[1][0::3] == [1, 2, 3, 4]  # the BAN's, with its numbers, in the same place


def test_edges_are_chained_only_where_no_third_one_meets() -> None:
    a, b, c, d = (0.0, 0.0), (0.0, 1.0), (0.0, 2.0), (1.0, 1.0)
    assert chain([[a, b], [c, b]]) in ([[a, b, c]], [[c, b, a]])
    # A fork at b: three lines, none running through it.
    lines = chain([[a, b], [b, c], [b, d]])
    assert len(lines) == 3 and all(len(line) == 2 for line in lines)


def test_osmnx_list_names_and_reversed_duplicates(tmp_path: Path) -> None:
    edges = read_graphml(_synthetic_graph(tmp_path / "g.graphml"))
    names = [name for name, _ in edges]
    assert names.count("Rue d'Essai") == 2  # a-b once although written both ways, and b-c
    assert "Rue A" not in names and "['Rue A', 'Rue B']" not in names


def _metres(a: tuple[float, float], b: tuple[float, float]) -> float:
    k = math.cos(math.radians((a[0] + b[0]) / 2))
    return math.hypot((a[0] - b[0]) * 111_320, (a[1] - b[1]) * 111_320 * k)


@pytest.mark.browser
def test_a_meudon_street_is_found_drawn_and_credited(
    browser: Browser,
    live_server: str,
    watch_page: Callable[[Page], PageProblems],
    screenshot_dir: Path,
) -> None:
    """The committed data: a caller in Meudon says "route des Gardes"; the SOS map finds it
    with its commune, moves there, draws the streets of Hauts-de-Seine's file and credits
    OpenStreetMap, with nothing fetched off the platform."""
    context = browser.new_context(locale="fr-FR", viewport={"width": 1280, "height": 900})
    tried: list[str] = []
    asked: list[str] = []

    def offline(route: Route) -> None:
        url = route.request.url
        if url.startswith(live_server):
            asked.append(url.rsplit("/", 1)[-1])
            route.continue_()
        else:
            tried.append(url)
            route.abort()

    context.route("**/*", offline)
    page = context.new_page()
    problems = watch_page(page)
    try:
        page.goto(f"{live_server}/sos")
        page.locator("[data-manual] summary").click()
        box = page.locator("[data-manual] [data-map]")
        expect(box).to_have_attribute("data-basemap", "ready", timeout=15_000)
        expect(box.locator(".leaflet-control-attribution")).to_contain_text("OpenStreetMap")
        assert "streets-92.json" not in asked  # central Paris in view

        # No house numbers from the graph: a number typed still finds the street.
        page.locator("[data-geo-query]").fill("12 route des gardes")
        expect(page.locator("[data-geo-results] button").first).to_contain_text(
            "Route des Gardes, Meudon", timeout=10_000
        )
        page.locator("[data-geo-query]").fill("route des gardes")
        result = page.locator("[data-geo-results] button", has_text="Route des Gardes")
        expect(result.first).to_contain_text("Route des Gardes, Meudon", timeout=10_000)
        result.first.click()
        found = page.locator("[data-geo-found]")
        # The commune once, in the label; the département beside it.
        expect(found).to_contain_text("Route des Gardes, Meudon (Hauts-de-Seine)")
        # The search typed just before the pick does not bring the list back after it.
        page.wait_for_timeout(400)
        expect(page.locator("[data-geo-results] button")).to_have_count(0)
        lat = float(found.get_attribute("data-lat") or "nan")
        lon = float(found.get_attribute("data-lon") or "nan")
        assert _metres((lat, lon), BELLEVUE) < 500, (lat, lon)
        expect(box).to_have_attribute("data-basemap-loaded", "92", timeout=10_000)
        expect(box.locator(".leaflet-zoom-anim")).to_have_count(0)
        expect(box.locator(".basemap-labels-moving")).to_have_count(0)
        labels = box.locator(".basemap-label")
        expect(labels.first).to_be_visible()
        texts = labels.all_text_contents()
        assert sum(t.startswith(("Rue ", "Avenue ", "Route ", "Sentier ")) for t in texts) >= 3
        box.scroll_into_view_if_needed()
        page.screenshot(path=str(screenshot_dir / "basemap-suburb-sos.png"))
        assert tried == [], tried
        assert problems.all() == []
    finally:
        context.close()
