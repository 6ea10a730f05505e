"""Builds the embedded offline base map (``frontend/public/basemap/``) from open-data files.

Why it exists: every map of the platform must show where things are without a tile server or
any network (issue 20). The sources are public files that an operator downloads once (see
``frontend/public/basemap/README.md`` for each one's origin and licence); this script turns them
into three compact JSON files served as static assets and drawn by ``frontend/src/lib/basemap.ts``:

- ``areas.json``: commune outlines of Paris' inner suburbs (IGN Admin Express via
  gregoiredavid/france-geojson), the 20 arrondissements and the Seine and canals (Ville de
  Paris open data), simplified to a few metres;
- ``streets.json``: every named street of Paris with a point and an approximate axis, and
  ``numbers.json``: one point per house number, both from the Base Adresse Nationale (BAN);
- ``places.json``: rail, metro and tram stations (Île-de-France Mobilités) and area labels.

Street axes: the BAN has no street geometry, only address points. A street's axis is taken as
its house-number side with more points, in number order, each point moved to the midpoint with
the nearest point of the other side (when one lies within ``PAIR_M``); the line is cut where two
successive points are more than ``GAP_M`` apart (a square or a missing stretch), then simplified.
A square ("Place …") gets no line: its numbers, around its edge, follow no drawable order.
It is an approximation: good enough to read a map and place a point, not to route a vehicle.

Coordinates are stored as integers in units of 1e-5 degree (about 1 m), delta-encoded along
each line: ``streets.json`` is about 0.55 MB, ``numbers.json`` about 1.6 MB. Run:

    python -m tools.basemap_build --ban adresses-75.csv.gz --communes communes-92.geojson ...
"""

from __future__ import annotations

import argparse
import csv
import gzip
import io
import json
import math
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

Point = tuple[float, float]  # (lat, lon)

PAIR_M = 60.0
GAP_M = 220.0
SIMPLIFY_STREET_M = 4.0
SIMPLIFY_AREA_M = 12.0
SCALE = 100_000
# The embedded area: Paris and the inner suburbs (Hauts-de-Seine, Seine-Saint-Denis,
# Val-de-Marne), with a margin.
BBOX = (48.70, 2.13, 49.02, 2.63)  # south, west, north, east

SQUARES = ("Place ", "Rond-Point", "Carrefour ")
MAJOR = ("Boulevard", "Avenue", "Quai", "Pont", "Place", "Cours", "Porte", "Rond-Point")
MINOR = (
    "Villa",
    "Impasse",
    "Passage",
    "Cité",
    "Square",
    "Allée",
    "Hameau",
    "Cour ",
    "Sentier",
    "Galerie",
    "Jardin",
    "Péristyle",
    "Sente",
    "Chemin",
    "Ruelle",
    "Voie ",
    "Escalier",
)


def _metres(a: Point, b: Point) -> float:
    dlat = (a[0] - b[0]) * 111_320.0
    dlon = (a[1] - b[1]) * 111_320.0 * math.cos(math.radians((a[0] + b[0]) / 2))
    return math.hypot(dlat, dlon)


def _segment_distance(p: Point, a: Point, b: Point) -> float:
    """Distance in metres from p to segment ab, on a local flat projection."""
    kx = 111_320.0 * math.cos(math.radians(p[0]))
    ax, ay = (a[1] - p[1]) * kx, (a[0] - p[0]) * 111_320.0
    bx, by = (b[1] - p[1]) * kx, (b[0] - p[0]) * 111_320.0
    dx, dy = bx - ax, by - ay
    length2 = dx * dx + dy * dy
    t = 0.0 if length2 == 0 else max(0.0, min(1.0, -(ax * dx + ay * dy) / length2))
    return math.hypot(ax + t * dx, ay + t * dy)


def simplify(line: Sequence[Point], tolerance_m: float) -> list[Point]:
    """Douglas-Peucker, iterative (a long quay must not hit the recursion limit)."""
    if len(line) < 3:
        return list(line)
    keep = [False] * len(line)
    keep[0] = keep[-1] = True
    stack = [(0, len(line) - 1)]
    while stack:
        first, last = stack.pop()
        worst, worst_d = -1, tolerance_m
        for i in range(first + 1, last):
            d = _segment_distance(line[i], line[first], line[last])
            if d > worst_d:
                worst, worst_d = i, d
        if worst >= 0:
            keep[worst] = True
            stack.append((first, worst))
            stack.append((worst, last))
    return [p for p, k in zip(line, keep, strict=True) if k]


def encode(line: Sequence[Point]) -> list[int]:
    """Flat [lat0, lon0, dlat1, dlon1, ...] in 1e-5 degree units."""
    out: list[int] = []
    prev = (0, 0)
    for lat, lon in line:
        q = (round(lat * SCALE), round(lon * SCALE))
        out.extend((q[0] - prev[0], q[1] - prev[1]))
        prev = q
    return out


@dataclass
class Street:
    name: str
    insee: str
    numbers: dict[str, Point] = field(default_factory=dict)


def _number_key(label: str) -> tuple[int, str]:
    m = re.match(r"(\d+)(.*)", label)
    return (int(m.group(1)), m.group(2)) if m else (0, label)


def axis(street: Street) -> list[list[Point]]:
    """The street's approximate axis, as one or more lines (see the module docstring)."""
    plain = sorted(
        ((int(k), p) for k, p in street.numbers.items() if k.isdigit()), key=lambda kp: kp[0]
    )
    if street.name.startswith(SQUARES):
        # A square is numbered around its edge in no drawable order (joining the numbers, with
        # or without pairing, crosses it in zigzags): no line, its point and name only; the
        # streets around draw its shape.
        return []
    odd = [p for n, p in plain if n % 2 == 1]
    even = [p for n, p in plain if n % 2 == 0]
    main, other = (odd, even) if len(odd) >= len(even) else (even, odd)
    if len(main) < 2:
        return []
    centred: list[Point] = []
    for p in main:
        nearest = min(other, key=lambda q: _metres(p, q), default=None)
        if nearest is not None and _metres(p, nearest) <= PAIR_M:
            centred.append(((p[0] + nearest[0]) / 2, (p[1] + nearest[1]) / 2))
        else:
            centred.append(p)
    return _cut(centred)


def _cut(points: Sequence[Point]) -> list[list[Point]]:
    """Split where two successive points are more than GAP_M apart; simplify each piece."""
    lines: list[list[Point]] = [[points[0]]]
    for p in points[1:]:
        if _metres(lines[-1][-1], p) > GAP_M:
            lines.append([p])
        else:
            lines[-1].append(p)
    return [simplify(line, SIMPLIFY_STREET_M) for line in lines if len(line) >= 2]


def street_class(name: str) -> int:
    """0 = major (boulevard, avenue, quay, square), 1 = street, 2 = lane or passage."""
    if name.startswith(MAJOR):
        return 0
    if name.startswith(MINOR):
        return 2
    return 1


def read_ban(paths: Sequence[Path]) -> dict[tuple[str, str], Street]:
    """Streets keyed by (name, INSEE code), from one or more BAN ``adresses-XX.csv(.gz)``."""
    streets: dict[tuple[str, str], Street] = {}
    for path in paths:
        opener = gzip.open if path.suffix == ".gz" else open
        with opener(path, "rt", encoding="utf-8") as handle:
            for row in csv.DictReader(handle, delimiter=";"):
                name = row["nom_voie"].strip()
                if not name:
                    continue
                key = (name, row["code_insee"])
                street = streets.setdefault(key, Street(name=name, insee=row["code_insee"]))
                label = row["numero"] + (row["rep"] or "")
                if label not in street.numbers:
                    street.numbers[label] = (float(row["lat"]), float(row["lon"]))
    return streets


def _arrondissement(insee: str) -> str:
    """'75113' -> '13e'; '75101' -> '1er'; a suburb's code is kept as is."""
    if insee.startswith("751") and len(insee) == 5:
        n = int(insee[3:])
        return "1er" if n == 1 else f"{n}e"
    return insee


def build_streets(streets: dict[tuple[str, str], Street]) -> tuple[dict[str, Any], dict[str, Any]]:
    out: list[list[Any]] = []
    house_numbers: list[list[int | str]] = []
    for (name, insee), street in sorted(streets.items()):
        points = list(street.numbers.values())
        lat = sum(p[0] for p in points) / len(points)
        lon = sum(p[1] for p in points) / len(points)
        # The point shown for a street: its address nearest to the mean (a curved street's mean
        # can fall off the street).
        centre = min(points, key=lambda p: _metres(p, (lat, lon)))
        numbers = sorted(street.numbers.items(), key=lambda kv: _number_key(kv[0]))
        out.append(
            [
                name,
                _arrondissement(insee),
                street_class(name),
                encode([centre]),
                [encode(line) for line in axis(street)],
            ]
        )
        # House numbers, flat: label, dlat, dlon from the street's point (1e-5 degrees); a plain
        # number is stored as an int. Same order as the streets, in a file of its own that a
        # page loads only when a search names a number.
        flat: list[int | str] = []
        for label, p in numbers:
            flat.extend(
                (
                    int(label) if label.isdigit() else label,
                    round((p[0] - centre[0]) * SCALE),
                    round((p[1] - centre[1]) * SCALE),
                )
            )
        house_numbers.append(flat)
    return (
        {
            "v": 1,
            "scale": SCALE,
            "fields": ["name", "area", "class", "point", "lines"],
            "streets": out,
        },
        {"v": 1, "scale": SCALE, "numbers": house_numbers},
    )


def _rings(geometry: dict[str, Any]) -> Iterable[list[list[float]]]:
    if geometry["type"] == "Polygon":
        yield from geometry["coordinates"]
    elif geometry["type"] == "MultiPolygon":
        for polygon in geometry["coordinates"]:
            yield from polygon


def _area_feature(
    kind: str, name: str, geometry: dict[str, Any], min_ring_m: float = 0.0
) -> dict[str, Any] | None:
    rings = []
    for ring in _rings(geometry):
        points = [(c[1], c[0]) for c in ring]
        if min_ring_m and max(_metres(points[0], p) for p in points) < min_ring_m:
            continue
        simple = simplify(points, SIMPLIFY_AREA_M)
        if len(simple) >= 4:
            rings.append(encode(simple))
    return {"k": kind, "n": name, "r": rings} if rings else None


def _centroid(geometry: dict[str, Any]) -> Point:
    ring = max(_rings(geometry), key=len)
    return (sum(c[1] for c in ring) / len(ring), sum(c[0] for c in ring) / len(ring))


def build_areas(
    communes: Sequence[Path], arrondissements: Path, water: Path
) -> tuple[dict[str, Any], list[list[Any]]]:
    features: list[dict[str, Any]] = []
    labels: list[list[Any]] = []
    for path in communes:
        for f in json.loads(path.read_text())["features"]:
            name = f["properties"]["nom"]
            if name == "Paris":
                continue  # drawn as its 20 arrondissements
            feature = _area_feature("commune", name, f["geometry"])
            if feature:
                features.append(feature)
                labels.append([name, "commune", *_centroid(f["geometry"])])
    for f in json.loads(arrondissements.read_text())["features"]:
        p = f["properties"]
        name = f"{_arrondissement(str(p['c_arinsee']))} \N{EN DASH} {p['l_aroff']}"
        feature = _area_feature("arrondissement", name, f["geometry"])
        if feature:
            features.append(feature)
            labels.append([name, "arrondissement", p["geom_x_y"]["lat"], p["geom_x_y"]["lon"]])
    for f in json.loads(water.read_text())["features"]:
        # Small pieces (locks, basins' edges) would only add noise at city zoom.
        feature = _area_feature("water", "", f["geometry"], min_ring_m=80.0)
        if feature:
            features.append(feature)
    return {"v": 1, "scale": SCALE, "areas": features}, labels


def build_places(stations: Path, area_labels: list[list[Any]]) -> dict[str, Any]:
    places: list[list[Any]] = []
    seen: set[str] = set()
    south, west, north, east = BBOX
    for f in json.loads(stations.read_text())["features"]:
        p = f["properties"]
        lon, lat = f["geometry"]["coordinates"]
        if not (south <= lat <= north and west <= lon <= east):
            continue
        name = p["nom_gares"].strip()
        mode = str(p["mode"]).lower()
        key = f"{name}|{mode}"
        if key in seen:  # one station per name and mode: lines of a hub share a name
            continue
        seen.add(key)
        places.append([name, mode, round(lat, 5), round(lon, 5)])
    places.extend([n, k, round(lat, 5), round(lon, 5)] for n, k, lat, lon in area_labels)
    return {"v": 1, "fields": ["name", "kind", "lat", "lon"], "places": places}


def _write(path: Path, data: dict[str, Any]) -> int:
    text = json.dumps(data, ensure_ascii=False, separators=(",", ":"))
    path.write_text(text + "\n", encoding="utf-8")
    return len(text.encode())


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--ban", type=Path, nargs="+", required=True, help="BAN adresses-XX.csv(.gz), one or more"
    )
    parser.add_argument(
        "--communes",
        type=Path,
        nargs="+",
        required=True,
        help="communes-XX-*.geojson of gregoiredavid/france-geojson",
    )
    parser.add_argument("--arrondissements", type=Path, required=True)
    parser.add_argument(
        "--water",
        type=Path,
        required=True,
        help="plan-de-voirie-voies-deau.geojson (Ville de Paris)",
    )
    parser.add_argument(
        "--stations", type=Path, required=True, help="emplacement-des-gares-idf.geojson (IDFM)"
    )
    parser.add_argument("--out", type=Path, default=Path("frontend/public/basemap"))
    args = parser.parse_args(argv)
    args.out.mkdir(parents=True, exist_ok=True)
    areas, labels = build_areas(args.communes, args.arrondissements, args.water)
    streets, numbers = build_streets(read_ban(args.ban))
    sizes = {
        "areas.json": _write(args.out / "areas.json", areas),
        "streets.json": _write(args.out / "streets.json", streets),
        "numbers.json": _write(args.out / "numbers.json", numbers),
        "places.json": _write(args.out / "places.json", build_places(args.stations, labels)),
    }
    out = io.StringIO()
    for name, size in sizes.items():
        out.write(f"{name}: {size / 1024:.0f} KiB\n")
    print(out.getvalue(), end="")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
