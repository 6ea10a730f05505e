"""Names the Ville de Paris green-space outlines for the base map's parks (``--parks``).

Why it exists: the city's "Espaces verts et assimilés" (ODbL) could be obtained here only in
two pieces from public repositories: its outlines as a shapefile without the attribute table
(``espaces_verts.shp``, 2023, no ``.dbf``: no names) and its attribute table without outlines
(``espaces_verts.csv``, 2020: name, address, measured area and perimeter). This script joins
them and writes a GeoJSON that ``tools.basemap_build --parks`` reads (``nom_ev``):

1. by measure: an outline whose area and perimeter both agree with a row's measured area and
   perimeter to a few per mille (the table measures them in Lambert-93, hence ``AREA_K`` and
   ``PERIMETER_K``, fitted on the 31 largest spaces) takes that row's name; a row without a
   perimeter needs its area to agree to 0.2 %;
2. by address, for outlines redrawn between 2020 and 2023: a row whose street (its BAN
   address points, same arrondissement) passes within ``NEAR_M`` of the outline and whose area
   is within 12 % and no other row does so; failing that, within 45 % and ``VERY_NEAR_M``,
   when no other row does so.

An outline neither joins is left out (its name unknown). Only outlines of ``MIN_M2`` or more are
written: the build keeps 1 ha and more. Run:

    python -m tools.basemap_parks espaces_verts.shp espaces_verts.csv \
        --ban adresses-75.csv.gz --out espaces_verts_named.geojson
"""

from __future__ import annotations

import argparse
import csv
import itertools
import json
import math
import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import shapefile

from tools.basemap_streets import read_ban

Ring = list[tuple[float, float]]  # (lon, lat), as the shapefile stores them

MIN_M2 = 9_000.0
AREA_K = 0.99262  # our flat-projection area / the table's Lambert-93 area
PERIMETER_K = 0.9962
NEAR_M = 150.0
VERY_NEAR_M = 60.0


@dataclass(frozen=True)
class Row:
    name: str
    insee: str  # arrondissement's INSEE code, '' outside Paris
    street: str  # normalised, as 'RUE DE VAUGIRARD'
    area: float
    perimeter: float


@dataclass(frozen=True)
class Outline:
    index: int
    rings: list[Ring]
    area: float
    perimeter: float


def read_shapefile(path: Path) -> list[list[Ring] | None]:
    """Polygon records of an ESRI shapefile, in file order; ``None`` for a null shape.

    Read with pyshp from the ``.shp`` alone: the copy found has no ``.dbf`` (no attributes).
    """
    with path.open("rb") as shp:
        reader = shapefile.Reader(shp=shp)
        if reader.shapeType != shapefile.POLYGON:
            raise ValueError(f"{path}: shape type {reader.shapeType}, expected 5 (polygon)")
        out: list[list[Ring] | None] = []
        for shape in reader.iterShapes():
            if shape.shapeType == shapefile.NULL:
                out.append(None)
                continue
            bounds = [*shape.parts, len(shape.points)]
            out.append([[(float(x), float(y)) for x, y, *_ in shape.points[a:b]]
                        for a, b in itertools.pairwise(bounds)])
    return out


def measure(rings: Sequence[Ring]) -> tuple[float, float]:
    """Area (outer rings less holes: a shapefile turns holes the other way) and perimeter, in
    square metres and metres on a local flat projection."""
    kx = 111_320.0 * math.cos(math.radians(rings[0][0][1]))
    ky = 110_574.0
    area = perimeter = 0.0
    for ring in rings:
        signed = 0.0
        for (x0, y0), (x1, y1) in itertools.pairwise(ring):
            signed += (x0 * kx) * (y1 * ky) - (x1 * kx) * (y0 * ky)
            perimeter += math.hypot((x1 - x0) * kx, (y1 - y0) * ky)
        area -= signed / 2  # clockwise outer rings count positive
    return abs(area), perimeter


def normalise(text: str) -> str:
    """Upper case, no accents, no apostrophes or hyphens, single spaces."""
    text = text.replace("\u2019", " ")
    plain = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode().upper()
    return " ".join(re.sub(r"['\-]", " ", plain).split())


def _column(header: Sequence[str], pattern: str) -> int:
    for i, name in enumerate(header):
        if re.match(pattern, name, re.IGNORECASE):
            return i
    raise ValueError(f"no column matching {pattern!r} in {header!r}")


def _number(text: str) -> float:
    try:
        return float(text)
    except ValueError:
        return 0.0


def read_rows(path: Path) -> list[Row]:
    """The city's attribute table (comma-separated, French headers; accents may be lost)."""
    with path.open(encoding="utf-8", errors="replace", newline="") as handle:
        reader = csv.reader(handle)
        header = next(reader)
        col = {
            "name": _column(header, r"nom de l"),
            "kind": _column(header, r"adresse - type"),
            "street": _column(header, r"adresse - libell"),
            "postcode": _column(header, r"code postal"),
            "area": _column(header, r"surface calcul"),
            "perimeter": _column(header, r"p.rim"),
        }
        rows = []
        for record in reader:
            name = record[col["name"]].strip()
            postcode = record[col["postcode"]].strip()
            area = _number(record[col["area"]])
            if not re.search(r"[A-Za-z]{3}", name) or area <= 0:
                continue
            paris = postcode.startswith("75") and postcode[-2:].isdigit()
            insee = f"751{postcode[-2:]}" if paris and 1 <= int(postcode[-2:]) <= 20 else ""
            street = normalise(f"{record[col['kind']]} {record[col['street']]}")
            rows.append(Row(name, insee, street, area, _number(record[col["perimeter"]])))
    return rows


def _by_measure(outline: Outline, rows: Sequence[Row]) -> Row | None:
    area, perimeter = outline.area / AREA_K, outline.perimeter / PERIMETER_K
    fits = []
    for row in rows:
        da = abs(row.area - area) / area
        if row.perimeter > 0:
            dp = abs(row.perimeter - perimeter) / perimeter
            if da < 0.004 and dp < 0.006:
                fits.append((da + dp, row))
        elif da < 0.002:
            fits.append((da, row))
    names = {row.name for _, row in fits}
    return min(fits, key=lambda f: f[0])[1] if len(names) == 1 else None


def _street_points(
    ban: Sequence[Path],
) -> dict[tuple[str, str], list[tuple[float, float]]]:
    points: dict[tuple[str, str], list[tuple[float, float]]] = {}
    for (name, insee), street in read_ban(ban).items():
        points.setdefault((normalise(name), insee), []).extend(street.numbers.values())
    return points


def _distance_m(outline: Outline, points: Sequence[tuple[float, float]]) -> float:
    """From the nearest address point to the outline's vertices (enough at this tolerance)."""
    kx = 111_320.0 * math.cos(math.radians(48.86))
    vertices = [p for ring in outline.rings for p in ring[:: max(1, len(ring) // 200)]]
    return min(
        math.hypot((lon - x) * kx, (lat - y) * 111_320.0)
        for lat, lon in points
        for x, y in vertices
    )


def _by_address(
    outline: Outline,
    rows: Sequence[Row],
    streets: dict[tuple[str, str], list[tuple[float, float]]],
) -> Row | None:
    area = outline.area / AREA_K
    close: list[Row] = []  # area within 12 %, street within NEAR_M
    very_near: list[Row] = []  # area within 45 %, street within VERY_NEAR_M
    for row in rows:
        ratio = abs(math.log(row.area / area))
        if ratio > 0.45 or not row.insee:
            continue
        points = streets.get((row.street, row.insee))
        if not points:
            continue
        d = _distance_m(outline, points)
        if ratio < 0.12 and d < NEAR_M:
            close.append(row)
        elif d < VERY_NEAR_M:
            very_near.append(row)
    for fits in (close, very_near):
        if fits:
            return fits[0] if len({row.name for row in fits}) == 1 else None
    return None


def join(
    shapes: Sequence[list[Ring] | None],
    rows: Sequence[Row],
    streets: dict[tuple[str, str], list[tuple[float, float]]],
) -> list[tuple[Outline, Row, str]]:
    """(outline, its row, 'measure' | 'address') for the outlines of MIN_M2 or more that join."""
    outlines = []
    for i, rings in enumerate(shapes):
        if rings:
            area, perimeter = measure(rings)
            if area >= MIN_M2:
                outlines.append(Outline(i, rings, area, perimeter))
    joined: list[tuple[Outline, Row, str]] = []
    for outline in outlines:
        row = _by_measure(outline, rows)
        if row:
            joined.append((outline, row, "measure"))
    used = {row.name for _, row, _ in joined}
    done = {outline.index for outline, _, _ in joined}
    free = [row for row in rows if row.name not in used]
    for outline in outlines:
        if outline.index in done:
            continue
        row = _by_address(outline, free, streets)
        if row:
            joined.append((outline, row, "address"))
            free = [r for r in free if r.name != row.name]
    return sorted(joined, key=lambda j: j[0].index)


def to_geojson(joined: Sequence[tuple[Outline, Row, str]]) -> dict[str, Any]:
    features = [
        {
            "type": "Feature",
            "properties": {"nom_ev": row.name, "jointure": how},
            "geometry": {
                "type": "Polygon",
                "coordinates": [[list(p) for p in ring] for ring in outline.rings],
            },
        }
        for outline, row, how in joined
    ]
    return {"type": "FeatureCollection", "features": features}


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("shapefile", type=Path, help="espaces_verts.shp (outlines, no .dbf)")
    parser.add_argument("table", type=Path, help="espaces_verts.csv (names, measures)")
    parser.add_argument("--ban", type=Path, nargs="+", required=True, help="adresses-75.csv.gz")
    parser.add_argument("--out", type=Path, required=True)
    args = parser.parse_args(argv)
    joined = join(read_shapefile(args.shapefile), read_rows(args.table), _street_points(args.ban))
    args.out.write_text(json.dumps(to_geojson(joined), ensure_ascii=False), encoding="utf-8")
    by = {how: sum(1 for _, _, h in joined if h == how) for how in ("measure", "address")}
    print(f"{len(joined)} named outlines ({by['measure']} by measure, {by['address']} by address)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
