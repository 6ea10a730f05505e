"""Builds the embedded offline base map (``frontend/public/basemap/``) from open-data files.

Why it exists: every map of the platform must show where things are without a tile server or
any network (issue 20). The sources are public files that an operator downloads once (see
``frontend/public/basemap/README.md`` for each one's origin and licence); this script turns them
into compact JSON files served as static assets and drawn by ``frontend/src/lib/basemap.ts``:

- ``areas.json``: commune outlines of Paris' inner suburbs (IGN Admin Express via
  gregoiredavid/france-geojson), the 20 arrondissements and the Seine and canals (Ville de
  Paris open data), simplified to a few metres; with ``--parks``, the named green spaces of
  1 ha or more (Ville de Paris "Espaces verts" or an OpenStreetMap extract, both ODbL);
- ``streets.json``: every named street of Paris with a point and an approximate axis, and
  ``numbers.json``: one point per house number, both from the Base Adresse Nationale (BAN);
  another département given to ``--ban`` gets ``streets-XX.json`` and ``numbers-XX.json``,
  loaded only when a map's view or a search reaches it (tools/basemap_streets.py: the method);
  with ``--osm``, an OpenStreetMap road graph (OSMnx GraphML) gives the suburbs' streets the BAN
  files did not, with their real geometry but no house numbers (tools/basemap_osm.py);
- ``places.json``: rail, metro and tram stations (Île-de-France Mobilités), area labels, and
  the list of the départements' street files with their boxes (``parts``).

Coordinates are stored as integers in units of 1e-5 degree (about 1 m), delta-encoded along
each line (tools/basemap_geom.py): ``streets.json`` is about 0.55 MB, ``numbers.json`` about
1.6 MB. Run:

    python -m tools.basemap_build --ban adresses-75.csv.gz [adresses-92.csv.gz ...] \
        --communes communes-92.geojson ... [--osm meudon-drive.graphml ...]
"""

from __future__ import annotations

import argparse
import io
import json
import math
import re
import unicodedata
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

from tools.basemap_geom import SCALE, Point, encode, metres, simplify
from tools.basemap_osm import add_osm_streets, read_osm
from tools.basemap_streets import (
    Street,
    arrondissement,
    axis,
    build_streets,
    part_entry,
    read_ban,
    split_by_departement,
)

# Re-exported: the tests and earlier callers reach the method through this module.
__all__ = ["BBOX", "SCALE", "Street", "axis", "encode", "main", "simplify"]


SIMPLIFY_AREA_M = 12.0
SIMPLIFY_PARK_M = 6.0
# Green spaces under this size (planters, verges, small squares) would only add noise and weight.
MIN_PARK_M2 = 10_000.0
# Words left in lower case when a name written in capitals is rewritten ("PARC DE LA VILLETTE").
LOWER = {"de", "du", "des", "la", "le", "les", "et", "aux", "au", "sur", "en", "l", "d", "a", "dit"}
# The city's file writes its names in capitals without accents: the words of its park names
# that carry one, given back for display (search ignores accents either way).
_ACCENTED = (
    "Allée Arènes Bartholomé Cimetière Citroën Coulée École Élysées Éloi Émile Éole Épinettes "
    "Feuquières Forêt Hôpital Jaurès Ladoumègue Léon Linéaire Lutèce Musée Péguy Père Péreire "
    "Périne Poètes Pré René Séverine Tranchée Trocadéro Voûte André Île"
)
ACCENTS = {
    unicodedata.normalize("NFKD", w.lower()).encode("ascii", "ignore").decode(): w
    for w in _ACCENTED.split()
}
# The embedded area: Paris and the inner suburbs (Hauts-de-Seine, Seine-Saint-Denis,
# Val-de-Marne), with a margin.
BBOX = (48.70, 2.13, 49.02, 2.63)  # south, west, north, east


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
        if min_ring_m and max(metres(points[0], p) for p in points) < min_ring_m:
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
        name = f"{arrondissement(str(p['c_arinsee']))} \N{EN DASH} {p['l_aroff']}"
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


def _ring_m2(ring: Sequence[Point]) -> float:
    """Area of a ring in square metres (shoelace on a local flat projection)."""
    if len(ring) < 3:
        return 0.0
    k = 111_320.0 * math.cos(math.radians(ring[0][0]))
    total = 0.0
    nxt = [*ring[1:], ring[0]]
    for (lat0, lon0), (lat1, lon1) in zip(ring, nxt, strict=True):
        total += (lon0 * k) * (lat1 * 111_320.0) - (lon1 * k) * (lat0 * 111_320.0)
    return abs(total) / 2


def park_name(raw: str) -> str:
    """'PARC DE LA VILLETTE' -> 'Parc de la Villette' (the city's file writes names in capitals);
    a name already in mixed case is kept."""
    raw = " ".join(raw.replace("\ufffd", "'").split())  # an apostrophe lost to a bad encoding
    if raw != raw.upper():
        return raw
    words = re.split(r"(\s+|'|-|\()", raw.lower())
    last = max(i for i, w in enumerate(words) if w.strip())
    out = []
    for i, w in enumerate(words):
        if 0 < i < last and w in LOWER:
            out.append(w)
        elif w == "pc" or (len(w) > 1 and re.fullmatch(r"x{0,3}(ix|iv|v?i{0,3})", w)):
            out.append(w.upper())  # 'PC 12' (Petite Ceinture), 'Louis XIII'
        elif re.fullmatch(r"\d+e", w):
            out.append(w)  # '7e'
        else:
            out.append(ACCENTS.get(w, w[:1].upper() + w[1:]))
    return "".join(out)


def build_parks(paths: Sequence[Path]) -> tuple[list[dict[str, Any]], list[list[Any]]]:
    """Green outlines ("park" areas) and their labels, from GeoJSON files of green spaces:
    the Ville de Paris "Espaces verts et assimilés" (``nom_ev``) or an OpenStreetMap extract
    (``name``), both ODbL. Only named spaces of ``MIN_PARK_M2`` or more are kept."""
    features: list[dict[str, Any]] = []
    labels: list[list[Any]] = []
    for path in paths:
        for f in json.loads(path.read_text(encoding="utf-8"))["features"]:
            props = f.get("properties") or {}
            raw = str(props.get("nom_ev") or props.get("name") or "").strip()
            geometry = f.get("geometry") or {}
            if not raw or geometry.get("type") not in ("Polygon", "MultiPolygon"):
                continue
            outer = max(_rings(geometry), key=len)
            if _ring_m2([(c[1], c[0]) for c in outer]) < MIN_PARK_M2:
                continue
            name = park_name(raw)
            rings = []
            for ring in _rings(geometry):
                simple = simplify([(c[1], c[0]) for c in ring], SIMPLIFY_PARK_M)
                if len(simple) >= 4:
                    rings.append(encode(simple))
            if rings:
                features.append({"k": "park", "n": name, "r": rings})
                lat, lon = _centroid(geometry)
                labels.append([name, "park", lat, lon])
    return features, labels


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
    parser.add_argument(
        "--parks",
        type=Path,
        nargs="*",
        default=[],
        help="green spaces GeoJSON (Ville de Paris espaces_verts or OSM leisure=park), optional",
    )
    parser.add_argument(
        "--osm",
        type=Path,
        nargs="*",
        default=[],
        help="OpenStreetMap road graphs (OSMnx GraphML, ODbL) of the suburbs, optional",
    )
    parser.add_argument("--out", type=Path, default=Path("frontend/public/basemap"))
    args = parser.parse_args(argv)
    args.out.mkdir(parents=True, exist_ok=True)
    areas, labels = build_areas(args.communes, args.arrondissements, args.water)
    parks, park_labels = build_parks(args.parks)
    # Drawn under the water (a lake in a park) and over the communes: inserted before the water.
    water_at = next((i for i, a in enumerate(areas["areas"]) if a["k"] == "water"), None)
    at = len(areas["areas"]) if water_at is None else water_at
    areas["areas"][at:at] = parks
    places = build_places(args.stations, labels + park_labels)
    sizes = {"areas.json": _write(args.out / "areas.json", areas)}
    parts: list[dict[str, Any]] = []
    by_dept = split_by_departement(read_ban(args.ban))
    by_dept.setdefault("75", {})  # every map loads streets.json: it exists, empty if need be
    osm = read_osm(args.osm, args.communes) if args.osm else {}
    for dept in osm:
        by_dept.setdefault(dept, {})
    for dept, group in sorted(by_dept.items()):
        streets, numbers = build_streets(group)
        if dept in osm:
            add_osm_streets(streets, numbers, sorted(group), osm[dept])
        if dept == "75":
            names = ("streets.json", "numbers.json")
        else:
            entry = part_entry(dept, streets)
            parts.append(entry)
            names = (entry["streets"], entry["numbers"])
        sizes[names[0]] = _write(args.out / names[0], streets)
        sizes[names[1]] = _write(args.out / names[1], numbers)
    places["parts"] = parts
    sizes["places.json"] = _write(args.out / "places.json", places)
    out = io.StringIO()
    for name, size in sizes.items():
        out.write(f"{name}: {size / 1024:.0f} KiB\n")
    print(out.getvalue(), end="")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
