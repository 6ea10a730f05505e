"""Coarse areas and distance bands: the only spatial facts about a host that others may learn.

Resolution 8 of H3 (hexagons of 0.74 km² on average, edge about 530 m, so about 1 km across)
is the coarse area. Resolution 9 (edge about 200 m, 0.1 km²) would narrow a host in central
Paris to a few blocks; resolution 8 holds thousands of homes there and still lets a seeker
walk to any point of it in minutes.

Anti-triangulation rests on one rule: **everything a non-host learns about an offer's place is a
function of its cell alone**. Distances are measured between the *centres* of the seeker's cell
and the offer's cell, then banded; inclusion in the radius and the order of proposals use the
same centre-to-centre figure. Moving a request's location (even metre by metre) therefore changes
the answer only when the *seeker's* cell changes, and two offers anywhere in the same cell
give identical answers: nothing below the cell size can be recovered.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import h3

# Distances are core's (one formula and radius for every domain); re-exported for this domain.
from tocsin.core.geo import EARTH_RADIUS_KM as EARTH_RADIUS_KM
from tocsin.core.geo import haversine_km as haversine_km

RESOLUTION = 8

# Upper bounds (km, centre to centre) and their codes; a band never says more than "between".
BANDS: tuple[tuple[float, str], ...] = (
    (1.0, "under1km"),
    (2.0, "from1to2km"),
    (5.0, "from2to5km"),
    (10.0, "from5to10km"),
    (25.0, "from10to25km"),
    (50.0, "from25to50km"),
)


@dataclass(frozen=True, slots=True)
class Cell:
    """A coarse area: the H3 index and its centre (public, unlike the point inside it)."""

    index: str
    lat: float
    lon: float


def cell_of(lat: float, lon: float) -> Cell:
    """Return the coarse cell holding ``(lat, lon)``."""
    index = h3.latlng_to_cell(lat, lon, RESOLUTION)
    clat, clon = h3.cell_to_latlng(index)
    return Cell(index=index, lat=round(clat, 6), lon=round(clon, 6))


def boundary(index: str) -> list[list[float]]:
    """Return the cell's polygon as ``[[lat, lon], ...]`` for the map (rounded: 1 m is plenty)."""
    return [[round(lat, 5), round(lon, 5)] for lat, lon in h3.cell_to_boundary(index)]


def cell_distance_km(a: Cell, b: Cell) -> float:
    """Return the distance between two cells' centres (a function of the cells, never points)."""
    return haversine_km(a.lat, a.lon, b.lat, b.lon)


def band(distance_km: float) -> str:
    """Return the band code of a centre-to-centre distance."""
    for upper, code in BANDS:
        if distance_km <= upper:
            return code
    return "beyond50km"


def bbox_degrees(lat: float, radius_km: float) -> tuple[float, float]:
    """Return the half-sizes (dlat, dlon) of a box holding every point within ``radius_km``."""
    dlat = math.degrees(radius_km / EARTH_RADIUS_KM)
    cos = max(math.cos(math.radians(min(abs(lat) + dlat, 89.9))), 1e-6)
    return dlat, min(180.0, dlat / cos)
