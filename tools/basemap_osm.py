"""Streets of the inner suburbs from an OpenStreetMap road graph (``--osm``), for the base map.

Why it exists: the Base Adresse Nationale files of Hauts-de-Seine, Seine-Saint-Denis and
Val-de-Marne could not be obtained for this version (frontend/public/basemap/README.md), but a
road graph saved by OSMnx (``ox.save_graphml``: GraphML, WGS84) can be. It carries what the BAN
lacks, each street's real geometry, and lacks what the BAN has, house numbers. This module turns
it into the same per-département files the BAN gives (``streets-XX.json``, ``numbers-XX.json``,
tools/basemap_streets.py), so the pages need no change: a street keyed by (name, INSEE code),
labelled with its commune, its point the vertex nearest its vertices' mean, its lines the graph's
edges of that name chained end to end and simplified. Its house numbers are empty: a search
finds the street, not a number in it.

How an edge is placed: in the commune (``--communes``, IGN Admin Express) that holds its middle
vertex; an edge in none of them (Paris, whose streets come from the BAN, or beyond the inner
suburbs) is left out. An edge OSMnx merged across several names (``['Rue A', 'Rue B']``) or
without a name is left out too: it cannot be labelled truthfully. Where the BAN also gave the
département, its street of the same name and commune wins (it has numbers); the graph adds the
others.

OpenStreetMap data is under the ODbL: "© OpenStreetMap contributors" goes in the map's credit
line (frontend/src/lib/basemap.ts).
"""

from __future__ import annotations

import ast
import json
import xml.etree.ElementTree as ET
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import defusedxml.ElementTree as SafeET
from shapely import prepared
from shapely.geometry import Point as ShapelyPoint
from shapely.geometry import shape

from tools.basemap_geom import SCALE, Point, encode, metres, simplify
from tools.basemap_streets import SIMPLIFY_STREET_M, street_class

GRAPHML = "{http://graphml.graphdrawing.org/xmlns}"
# Endpoints closer than this (degrees, ~0.1 m) are the same graph node.
SNAP = 1e-6


@dataclass
class OsmStreet:
    name: str
    insee: str
    commune: str
    edges: list[list[Point]] = field(default_factory=list)


def _wkt_line(text: str) -> list[Point]:
    """'LINESTRING (lon lat, lon lat, ...)' -> [(lat, lon), ...]."""
    body = text[text.index("(") + 1 : text.rindex(")")]
    points = []
    for pair in body.split(","):
        lon, lat = pair.split()
        points.append((float(lat), float(lon)))
    return points


def _single_name(raw: str | None) -> str:
    """The edge's street name; '' when it has none or OSMnx merged several ('['A', 'B']')."""
    name = (raw or "").strip()
    if name.startswith("["):
        try:
            names = ast.literal_eval(name)
        except (ValueError, SyntaxError):
            return ""
        distinct = {str(n).strip() for n in names}
        return distinct.pop() if len(distinct) == 1 else ""
    return " ".join(name.split())


def read_graphml(path: Path) -> list[tuple[str, list[Point]]]:
    """(name, line) for each named edge of an OSMnx GraphML file, each way once.

    OSMnx writes a two-way street as two edges (u->v and v->u, one 'reversed'); an undirected
    graph holds it once: the same line either way round is kept once."""
    root = SafeET.parse(path).getroot()
    keys = {k.get("id"): k.get("attr.name") for k in root.iter(f"{GRAPHML}key")}
    graph = root.find(f"{GRAPHML}graph")
    if graph is None:
        raise ValueError(f"{path}: no <graph> element")

    def attrs(element: ET.Element) -> dict[str, str]:
        return {
            str(keys.get(d.get("key"))): d.text or "" for d in element.findall(f"{GRAPHML}data")
        }

    nodes: dict[str, Point] = {}
    for node in graph.findall(f"{GRAPHML}node"):
        a = attrs(node)
        nodes[str(node.get("id"))] = (float(a["y"]), float(a["x"]))
    out: list[tuple[str, list[Point]]] = []
    seen: set[tuple[Point, ...]] = set()
    for edge in graph.findall(f"{GRAPHML}edge"):
        a = attrs(edge)
        name = _single_name(a.get("name"))
        if not name:
            continue
        if a.get("geometry"):
            line = _wkt_line(a["geometry"])
        else:
            line = [nodes[str(edge.get("source"))], nodes[str(edge.get("target"))]]
        rounded = tuple((round(lat, 6), round(lon, 6)) for lat, lon in line)
        if rounded in seen or rounded[::-1] in seen:
            continue
        seen.add(rounded)
        out.append((name, line))
    return out


class Communes:
    """Point -> (INSEE code, name), from IGN Admin Express GeoJSON (``code``, ``nom``)."""

    def __init__(self, paths: Sequence[Path]) -> None:
        self._areas = []
        for path in paths:
            for f in json.loads(path.read_text(encoding="utf-8"))["features"]:
                p = f["properties"]
                geometry = prepared.prep(shape(f["geometry"]))
                self._areas.append((str(p["code"]), str(p["nom"]), geometry))

    def locate(self, point: Point) -> tuple[str, str] | None:
        probe = ShapelyPoint(point[1], point[0])
        for code, name, area in self._areas:
            if area.contains(probe):
                return code, name
        return None


def group_streets(
    edges: Iterable[tuple[str, list[Point]]], communes: Communes
) -> tuple[dict[tuple[str, str], OsmStreet], int]:
    """Edges grouped by (name, INSEE code) of the commune holding their middle vertex; the
    number of edges left out (outside every commune given)."""
    streets: dict[tuple[str, str], OsmStreet] = {}
    outside = 0
    for name, line in edges:
        place = communes.locate(line[len(line) // 2])
        if place is None:
            outside += 1
            continue
        code, commune = place
        street = streets.setdefault((name, code), OsmStreet(name, code, commune))
        street.edges.append(line)
    return streets, outside


def _key(p: Point) -> tuple[int, int]:
    return (round(p[0] / SNAP), round(p[1] / SNAP))


def chain(edges: Sequence[list[Point]]) -> list[list[Point]]:
    """Edges joined end to end into as few lines as their junctions allow: two edges are joined
    where they meet and no third edge of the street does (at a fork each branch is a line)."""
    ends: dict[tuple[int, int], list[int]] = defaultdict(list)
    for i, line in enumerate(edges):
        ends[_key(line[0])].append(i)
        ends[_key(line[-1])].append(i)
    used = [False] * len(edges)

    def extend(line: list[Point]) -> list[Point]:
        while True:
            nxt = [i for i in ends[_key(line[-1])] if not used[i]]
            if len(ends[_key(line[-1])]) != 2 or len(nxt) != 1:
                return line
            i = nxt[0]
            used[i] = True
            piece = edges[i] if _key(edges[i][0]) == _key(line[-1]) else edges[i][::-1]
            line = line + piece[1:]

    lines = []
    for i, edge in enumerate(edges):
        if used[i]:
            continue
        used[i] = True
        forward = extend(list(edge))
        lines.append(extend(forward[::-1])[::-1])
    return lines


def build_osm_streets(
    streets: dict[tuple[str, str], OsmStreet],
) -> list[tuple[tuple[str, str], list[Any]]]:
    """Each street's row of a streets file (name, commune, class, point, lines), keyed."""
    rows = []
    for key, street in sorted(streets.items()):
        vertices = [p for line in street.edges for p in line]
        lat = sum(p[0] for p in vertices) / len(vertices)
        lon = sum(p[1] for p in vertices) / len(vertices)
        # On the street: the mean of a curved or forked street can fall off it.
        centre = min(vertices, key=lambda p: metres(p, (lat, lon)))
        lines = [simplify(line, SIMPLIFY_STREET_M) for line in chain(street.edges)]
        rows.append(
            (
                key,
                [
                    street.name,
                    street.commune,
                    street_class(street.name),
                    encode([centre]),
                    [encode(line) for line in lines if len(line) >= 2],
                ],
            )
        )
    return rows


def add_osm_streets(
    streets: dict[str, Any],
    numbers: dict[str, Any],
    ban_keys: Sequence[tuple[str, str]],
    osm: dict[tuple[str, str], OsmStreet],
) -> int:
    """Adds to a département's files (as build_streets made them from its BAN streets, in
    ``ban_keys`` order) the graph's streets the BAN did not have, without house numbers; both
    files stay in one order (a street's numbers are found by its position). Returns how many."""
    rows = list(zip(ban_keys, streets["streets"], numbers["numbers"], strict=True))
    known = set(ban_keys)
    added = 0
    for key, row in build_osm_streets(osm):
        if key not in known:
            rows.append((key, row, []))
            added += 1
    rows.sort(key=lambda r: r[0])
    streets["streets"] = [r[1] for r in rows]
    numbers["numbers"] = [r[2] for r in rows]
    assert streets["scale"] == numbers["scale"] == SCALE
    return added


def read_osm(
    graphs: Sequence[Path], communes: Sequence[Path]
) -> dict[str, dict[tuple[str, str], OsmStreet]]:
    """The graphs' streets grouped by département ('92', ...), Paris' left to the BAN."""
    edges = [e for path in graphs for e in read_graphml(path)]
    streets, outside = group_streets(edges, Communes(communes))
    by_dept: dict[str, dict[tuple[str, str], OsmStreet]] = {}
    for key, street in streets.items():
        if not street.insee.startswith("75"):
            by_dept.setdefault(street.insee[:2], {})[key] = street
    print(f"OpenStreetMap: {len(edges)} named edges, {outside} outside the communes given")
    return by_dept
