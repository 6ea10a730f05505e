"""CAP area geometry: the text forms of ``<polygon>`` and ``<circle>`` and their shapes.

CAP 1.2 §3.2.4 (``area``) writes a polygon as whitespace-separated ``lat,lon`` pairs (WGS 84),
*at least four pairs, the first and last the same* (a closed ring), and a circle as
``lat,lon radius`` with the radius in kilometres. The XML schema only says "string", so these
rules are checked here; every problem is reported as a sentence, never as an exception.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from shapely import Polygon
from shapely.geometry.base import BaseGeometry

from tocsin.core.geo import EARTH_RADIUS_KM

CIRCLE_SEGMENTS = 64
MAX_POLYGON_POINTS = 10_000


class GeometryError(ValueError):
    """A polygon or circle text breaks CAP 1.2 §3.2.4."""


@dataclass(frozen=True, slots=True)
class Circle:
    """A CAP circle: centre and radius in kilometres."""

    lat: float
    lon: float
    radius_km: float


def _coordinate(text: str) -> tuple[float, float]:
    parts = text.split(",")
    if len(parts) != 2:
        raise GeometryError(f"{text!r} is not a 'lat,lon' pair")
    try:
        lat, lon = float(parts[0]), float(parts[1])
    except ValueError:
        raise GeometryError(f"{text!r} is not a pair of decimal numbers") from None
    if not (math.isfinite(lat) and math.isfinite(lon)):
        raise GeometryError(f"{text!r} is not a finite coordinate")
    if not -90.0 <= lat <= 90.0:
        raise GeometryError(f"latitude {lat} is outside -90..90")
    if not -180.0 <= lon <= 180.0:
        raise GeometryError(f"longitude {lon} is outside -180..180")
    return lat, lon


def parse_polygon(text: str) -> list[tuple[float, float]]:
    """Return the (lat, lon) points of a CAP polygon; raise GeometryError if it is not valid."""
    tokens = text.split()
    if len(tokens) > MAX_POLYGON_POINTS:
        raise GeometryError(f"polygon has more than {MAX_POLYGON_POINTS} points")
    points = [_coordinate(token) for token in tokens]
    if len(points) < 4:
        raise GeometryError(
            f"polygon has {len(points)} point(s); CAP 1.2 §3.2.4 needs at least 4 "
            "(the first repeated at the end)"
        )
    if points[0] != points[-1]:
        raise GeometryError("polygon is not closed: the first and last points must be the same")
    if len(set(points)) < 3:
        raise GeometryError("polygon has fewer than 3 distinct points")
    return points


def parse_circle(text: str) -> Circle:
    """Return the CAP circle ``lat,lon radius``; raise GeometryError if it is not valid."""
    tokens = text.split()
    if len(tokens) != 2:
        raise GeometryError(f"circle {text.strip()!r} is not 'lat,lon radius'")
    lat, lon = _coordinate(tokens[0])
    try:
        radius = float(tokens[1])
    except ValueError:
        raise GeometryError(f"circle radius {tokens[1]!r} is not a number") from None
    if not math.isfinite(radius) or radius < 0:
        raise GeometryError(f"circle radius {tokens[1]} must be a number of km, 0 or more")
    return Circle(lat, lon, radius)


def format_polygon(points: list[tuple[float, float]]) -> str:
    """Write points as a CAP polygon, as given: an open ring is reported by validation."""
    return " ".join(f"{lat:.6f},{lon:.6f}" for lat, lon in points)


def format_circle(circle: Circle) -> str:
    """Write a circle in CAP form."""
    return f"{circle.lat:.6f},{circle.lon:.6f} {circle.radius_km:g}"


def polygon_shape(points: list[tuple[float, float]]) -> Polygon:
    """Return a shapely polygon in (x=lon, y=lat) order, repaired if it self-intersects."""
    shape = Polygon([(lon, lat) for lat, lon in points])
    return shape if shape.is_valid else shape.buffer(0)  # type: ignore[return-value]


def circle_shape(circle: Circle) -> Polygon:
    """Approximate a circle by a polygon (local equirectangular projection; fine below ~500 km)."""
    dlat = math.degrees(circle.radius_km / EARTH_RADIUS_KM)
    coslat = max(math.cos(math.radians(circle.lat)), 1e-6)
    dlon = dlat / coslat
    ring = [
        (
            circle.lon + dlon * math.cos(2 * math.pi * k / CIRCLE_SEGMENTS),
            circle.lat + dlat * math.sin(2 * math.pi * k / CIRCLE_SEGMENTS),
        )
        for k in range(CIRCLE_SEGMENTS)
    ]
    if circle.radius_km == 0:
        # A zero radius names a point; give it a metre so it still has an inside.
        return circle_shape(Circle(circle.lat, circle.lon, 0.001))
    return Polygon(ring)


def area_shape(polygons: list[str], circles: list[str]) -> BaseGeometry | None:
    """Return the union of an area's polygons and circles, or None when it has neither."""
    from shapely import union_all

    shapes: list[BaseGeometry] = [polygon_shape(parse_polygon(p)) for p in polygons]
    shapes += [circle_shape(parse_circle(c)) for c in circles]
    if not shapes:
        return None
    return shapes[0] if len(shapes) == 1 else union_all(shapes)
