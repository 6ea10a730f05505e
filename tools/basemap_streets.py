"""Streets and house numbers of the embedded base map, from the Base Adresse Nationale (BAN).

Why a module of its own: the build (tools/basemap_build.py) also makes areas and places, and the
streets are where the method lives. The BAN has no street geometry, only address points. A
street's axis is taken as its house-number side with more points, in number order, each point
moved to the midpoint with the nearest point of the other side (when one lies within
``PAIR_M``); the line is cut where two successive points are more than ``GAP_M`` apart (a square
or a missing stretch), then simplified. A square ("Place …") gets no line: its numbers, around
its edge, follow no drawable order. Good enough to read a map and place a point, not to route.

Files per département (``split_by_departement``): Paris' streets are ``streets.json`` and
``numbers.json``, loaded by every map; another département's are ``streets-XX.json`` and
``numbers-XX.json``, which a map loads when its view reaches that département's box and the
address search when it first runs, so a page that only draws central Paris stays light. The
boxes are listed in ``places.json`` (``parts``), which every map loads anyway.
"""

from __future__ import annotations

import csv
import gzip
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from tools.basemap_geom import SCALE, Point, encode, metres, simplify

PAIR_M = 60.0
GAP_M = 220.0
SIMPLIFY_STREET_M = 4.0

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


@dataclass
class Street:
    name: str
    insee: str
    numbers: dict[str, Point] = field(default_factory=dict)
    commune: str = ""  # the BAN's nom_commune: "Montreuil" (a suburb street's label)


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
        nearest = min(other, key=lambda q: metres(p, q), default=None)
        if nearest is not None and metres(p, nearest) <= PAIR_M:
            centred.append(((p[0] + nearest[0]) / 2, (p[1] + nearest[1]) / 2))
        else:
            centred.append(p)
    return _cut(centred)


def _cut(points: Sequence[Point]) -> list[list[Point]]:
    """Split where two successive points are more than GAP_M apart; simplify each piece."""
    lines: list[list[Point]] = [[points[0]]]
    for p in points[1:]:
        if metres(lines[-1][-1], p) > GAP_M:
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
                street = streets.setdefault(
                    key,
                    Street(
                        name=name,
                        insee=row["code_insee"],
                        commune=(row.get("nom_commune") or "").strip(),
                    ),
                )
                label = row["numero"] + (row["rep"] or "")
                if label not in street.numbers:
                    street.numbers[label] = (float(row["lat"]), float(row["lon"]))
    return streets


def arrondissement(insee: str) -> str:
    """'75113' -> '13e'; '75101' -> '1er'; a suburb's code is kept as is."""
    if insee.startswith("751") and len(insee) == 5:
        n = int(insee[3:])
        return "1er" if n == 1 else f"{n}e"
    return insee


def area_name(street: Street) -> str:
    """What a street's results say after its name: '13e' in Paris, the commune elsewhere."""
    if street.insee.startswith("751"):
        return arrondissement(street.insee)
    return street.commune or street.insee


def build_streets(streets: dict[tuple[str, str], Street]) -> tuple[dict[str, Any], dict[str, Any]]:
    out: list[list[Any]] = []
    house_numbers: list[list[int | str]] = []
    for _key, street in sorted(streets.items()):
        name = street.name
        points = list(street.numbers.values())
        lat = sum(p[0] for p in points) / len(points)
        lon = sum(p[1] for p in points) / len(points)
        # The point shown for a street: its address nearest to the mean (a curved street's mean
        # can fall off the street).
        centre = min(points, key=lambda p: metres(p, (lat, lon)))
        numbers = sorted(street.numbers.items(), key=lambda kv: _number_key(kv[0]))
        out.append(
            [
                name,
                area_name(street),
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


def split_by_departement(
    streets: dict[tuple[str, str], Street],
) -> dict[str, dict[tuple[str, str], Street]]:
    """Streets grouped by département ('75', '92', '93', '94'), from their INSEE code."""
    out: dict[str, dict[tuple[str, str], Street]] = {}
    for key, street in streets.items():
        out.setdefault(street.insee[:2], {})[key] = street
    return out


def part_entry(dept: str, streets: dict[str, Any]) -> dict[str, Any]:
    """The manifest line of a département's files: names, street count and the box they fill."""
    scale = streets["scale"]
    lats = [s[3][0] / scale for s in streets["streets"]]
    lons = [s[3][1] / scale for s in streets["streets"]]
    # A street's line can run past its point (its middle address): a margin of ~500 m.
    pad = 0.005
    box = [min(lats) - pad, min(lons) - pad, max(lats) + pad, max(lons) + pad]
    return {
        "dept": dept,
        "streets": f"streets-{dept}.json",
        "numbers": f"numbers-{dept}.json",
        "count": len(streets["streets"]),
        "bbox": [round(v, 4) for v in box],
    }
