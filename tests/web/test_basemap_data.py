"""The embedded base map's committed data and its build (issue 20).

The files under frontend/public/basemap/ are what every map draws without a tile server and
what the offline address search looks in: they must stay small, inside the area, credited, and
hold the places people name ("Place d'Italie").
"""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from tools import basemap_build as build

DATA = Path(__file__).resolve().parents[2] / "frontend" / "public" / "basemap"
LIMITS = {
    "areas.json": 200_000,
    "streets.json": 1_000_000,
    "numbers.json": 2_000_000,
    "places.json": 100_000,
}


def _load(name: str) -> Any:
    return json.loads((DATA / name).read_text(encoding="utf-8"))


def _decode(flat: list[int], scale: int) -> list[tuple[float, float]]:
    out, lat, lon = [], 0, 0
    for i in range(0, len(flat), 2):
        lat += flat[i]
        lon += flat[i + 1]
        out.append((lat / scale, lon / scale))
    return out


def _metres(a: tuple[float, float], b: tuple[float, float]) -> float:
    k = math.cos(math.radians((a[0] + b[0]) / 2))
    return math.hypot((a[0] - b[0]) * 111_320, (a[1] - b[1]) * 111_320 * k)


@pytest.mark.parametrize(("name", "limit"), sorted(LIMITS.items()))
def test_each_file_is_there_and_compact(name: str, limit: int) -> None:
    size = (DATA / name).stat().st_size
    assert 1_000 < size <= limit, (name, size)


def test_streets_hold_paris_named_streets_inside_the_area() -> None:
    data = _load("streets.json")
    scale = data["scale"]
    streets = data["streets"]
    assert len(streets) > 7_000  # Paris has about 6,500 named ways; the BAN splits some
    south, west, north, east = build.BBOX
    by_name: dict[str, list[Any]] = {}
    for name, area, cls, point, lines in streets:
        assert name and cls in (0, 1, 2)
        (lat, lon) = _decode(point, scale)[0]
        assert south < lat < north and west < lon < east, name
        for line in lines:
            assert len(line) >= 4, name  # a line has two points at least
        by_name.setdefault(name, []).append((area, (lat, lon), lines))
    [(area, point, lines)] = by_name["Place d'Italie"]
    assert area == "13e"
    assert _metres(point, (48.8314, 2.3556)) < 150
    assert lines == []  # a square: its point and name, no zigzag across it
    # A long street has a drawn axis: the Rue de Rivoli (1er and 4e).
    rivoli = by_name["Rue de Rivoli"]
    assert {a for a, _, _ in rivoli} == {"1er", "4e"}
    assert all(lines for _, _, lines in rivoli)


def test_house_numbers_follow_the_streets_order() -> None:
    streets = _load("streets.json")
    numbers = _load("numbers.json")
    assert len(numbers["numbers"]) == len(streets["streets"])
    index = next(i for i, s in enumerate(streets["streets"]) if s[0] == "Place d'Italie")
    flat = numbers["numbers"][index]
    labels = flat[0::3]
    assert 1 in labels and 2 in labels
    (lat, lon) = _decode(streets["streets"][index][3], streets["scale"])[0]
    i = labels.index(1)
    one = (lat + flat[3 * i + 1] / numbers["scale"], lon + flat[3 * i + 2] / numbers["scale"])
    assert _metres(one, (48.832314, 2.355313)) < 5  # the BAN's point for 1 place d'Italie


def test_areas_and_places() -> None:
    areas = _load("areas.json")["areas"]
    kinds = {a["k"] for a in areas}
    assert kinds == {"commune", "arrondissement", "park", "water"}
    assert sum(1 for a in areas if a["k"] == "arrondissement") == 20
    communes = {a["n"] for a in areas if a["k"] == "commune"}
    assert {"Montreuil", "Boulogne-Billancourt", "Saint-Denis", "Créteil"} <= communes
    places = _load("places.json")["places"]
    stations = {p[0] for p in places if p[1] == "metro"}
    assert "Place d'Italie" in stations


def _inside(point: tuple[float, float], ring: list[tuple[float, float]]) -> bool:
    (y, x), inside = point, False
    for (y0, x0), (y1, x1) in zip(ring, ring[1:] + ring[:1], strict=True):
        if (y0 > y) != (y1 > y) and x < x0 + (y - y0) * (x1 - x0) / (y1 - y0):
            inside = not inside
    return inside


@pytest.mark.parametrize(
    ("name", "point"),
    [
        # A point well inside each, read on the city's plan (not on this data).
        ("Bois de Boulogne", (48.8607, 2.2430)),
        ("Bois de Vincennes", (48.8270, 2.4400)),
        ("Parc des Buttes Chaumont", (48.8797, 2.3830)),
        ("Parc Montsouris", (48.8222, 2.3380)),
        ("Cimetière de l'Est Parisien dit du Père Lachaise", (48.8610, 2.3940)),
        ("Parc Clichy-Batignolles - Martin Luther King", (48.8905, 2.3150)),
    ],
)
def test_the_parks_of_paris_are_drawn_where_they_are(name: str, point: tuple[float, float]) -> None:
    data = _load("areas.json")
    [park] = [a for a in data["areas"] if a["k"] == "park" and a["n"] == name]
    rings = [_decode(r, data["scale"]) for r in park["r"]]
    assert sum(_inside(point, ring) for ring in rings) % 2 == 1, name
    labels = [p for p in _load("places.json")["places"] if p[1] == "park" and p[0] == name]
    assert len(labels) == 1, name


def _ring_m2(ring: list[tuple[float, float]]) -> float:
    k = 111_320 * math.cos(math.radians(ring[0][0]))
    pairs = zip(ring, ring[1:] + ring[:1], strict=True)
    return abs(sum((a[1] * b[0] - b[1] * a[0]) * k * 111_320 for a, b in pairs) / 2)


def test_parks_are_the_named_spaces_of_a_hectare_or_more() -> None:
    data = _load("areas.json")
    parks = [a for a in data["areas"] if a["k"] == "park"]
    assert 80 <= len(parks) <= 300
    for park in parks:
        assert park["n"] and park["n"] != park["n"].upper(), park["n"]
        largest = max(_ring_m2(_decode(r, data["scale"])) for r in park["r"])
        assert largest > 8_000, (park["n"], largest)  # 1 ha before simplification
    # Parks lie under the water (a lake in a park) and over the communes.
    kinds = [a["k"] for a in data["areas"]]
    assert max(i for i, k in enumerate(kinds) if k == "park") < kinds.index("water")


def test_readme_names_each_source_and_licence() -> None:
    readme = (DATA / "README.md").read_text(encoding="utf-8")
    for needed in (
        "Base Adresse Nationale",
        "Licence Ouverte",
        "Admin Express",
        "ODbL",
        "Ville de Paris",
        "Île-de-France Mobilités",
        "OpenStreetMap",
        "TOCSIN_MAP_TILES_URL",
    ):
        assert needed in readme, needed


def test_files_are_served_as_static_assets(web_client: TestClient) -> None:
    for name in [*LIMITS, "streets-92.json", "numbers-92.json"]:
        response = web_client.get(f"/static/basemap/{name}")
        assert response.status_code == 200, name
        assert response.json()["v"] == 1


def test_meudon_has_its_streets_from_openstreetmap() -> None:
    """Hauts-de-Seine's file: the streets of Meudon from an OpenStreetMap road graph (README),
    listed in places.json, each with its commune, no house numbers."""
    [part] = _load("places.json")["parts"]
    assert part == {
        "dept": "92",
        "streets": "streets-92.json",
        "numbers": "numbers-92.json",
        "count": part["count"],
        "bbox": part["bbox"],
    }
    data = _load("streets-92.json")
    streets = data["streets"]
    assert part["count"] == len(streets) and 200 <= len(streets) <= 400
    assert (DATA / "streets-92.json").stat().st_size < 100_000
    numbers = _load("numbers-92.json")["numbers"]
    assert numbers == [[] for _ in streets]
    south, west, north, east = part["bbox"]
    by_name: dict[tuple[str, str], Any] = {}
    for name, area, _cls, point, lines in streets:
        (lat, lon) = _decode(point, data["scale"])[0]
        assert south < lat < north and west < lon < east, name
        by_name[(name, area)] = ((lat, lon), lines)
    assert {area for _, area in by_name} <= {"Meudon", "Issy-les-Moulineaux", "Sèvres", "Clamart"}
    assert sum(area == "Meudon" for _, area in by_name) >= 200
    # Checked against another source: Île-de-France Mobilités' stations (places.json).
    stations = {(p[0], p[1]): (p[2], p[3]) for p in _load("places.json")["places"]}
    point, lines = by_name[("Place Henri Brousse", "Meudon")]
    assert _metres(point, stations[("Meudon-Val-Fleury", "rer")]) < 150
    point, lines = by_name[("Route des Gardes", "Meudon")]
    assert _metres(point, stations[("Bellevue", "train")]) < 500
    length = sum(
        _metres(a, b)
        for line in lines
        for a, b in zip(_decode(line, data["scale"]), _decode(line, data["scale"])[1:])
    )
    assert length > 1_000, length  # the road from Bellevue down to Val-Fleury, drawn


def test_street_axis_runs_between_the_two_sides() -> None:
    """Odd numbers on one side, even on the other: the axis lies between them."""
    street = build.Street(name="Rue d'Essai", insee="75113")
    for n in range(1, 21):
        lon = 2.35 + n * 0.0002  # about 15 m between neighbours
        lat = 48.83 + (0.0001 if n % 2 else -0.0001)  # the two sides, ~22 m apart
        street.numbers[str(n)] = (lat, lon)
    [line] = build.axis(street)
    assert len(line) == 2  # a straight street simplifies to its two ends
    for lat, _ in line:
        assert abs(lat - 48.83) < 0.00002


def test_street_axis_is_cut_at_a_gap() -> None:
    street = build.Street(name="Rue Coupée", insee="75113")
    for n, lon in ((1, 2.350), (3, 2.351), (5, 2.352), (7, 2.360), (9, 2.361)):
        street.numbers[str(n)] = (48.83, lon)
    assert len(build.axis(street)) == 2  # 600 m between 5 and 7


def test_encoding_round_trips() -> None:
    line = [(48.83123, 2.35556), (48.83201, 2.35001), (48.8, 2.4)]
    assert _decode(build.encode(line), build.SCALE) == line
