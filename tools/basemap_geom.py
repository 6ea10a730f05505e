"""Plane geometry shared by the base-map build (tools/basemap_build.py, tools/basemap_streets.py).

Distances on a local flat projection (exact enough within a city), Douglas-Peucker
simplification, and the compact encoding of the files: integers in 1e-5 degree (about 1 m),
delta-encoded along each line.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

Point = tuple[float, float]  # (lat, lon)

SCALE = 100_000


def metres(a: Point, b: Point) -> float:
    dlat = (a[0] - b[0]) * 111_320.0
    dlon = (a[1] - b[1]) * 111_320.0 * math.cos(math.radians((a[0] + b[0]) / 2))
    return math.hypot(dlat, dlon)


def segment_distance(p: Point, a: Point, b: Point) -> float:
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
            d = segment_distance(line[i], line[first], line[last])
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
