"""Small geodesy helpers for dispatch: great-circle distance and a road-free ETA.

The ETA is deliberately road-free (straight line at an average urban speed plus a fixed
turn-out time): it needs no routing service on the SOS critical path, and it only orders
units whose distances are already known. A routing engine could replace it later.
"""

from __future__ import annotations

import math

EARTH_RADIUS_M = 6_371_008.8
M_PER_DEG_LAT = math.pi * EARTH_RADIUS_M / 180.0
TURNOUT_S = 30.0


def haversine_m(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    """Return the great-circle distance in metres between two WGS84 points."""
    p1, p2 = math.radians(lat1), math.radians(lat2)
    dp = p2 - p1
    dl = math.radians(lon2 - lon1)
    a = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 2 * EARTH_RADIUS_M * math.asin(min(1.0, math.sqrt(a)))


def eta_seconds(distance_m: float, speed_kmh: float) -> float:
    """Return a road-free ETA: turn-out time plus the straight line, lengthened by 1.3 for roads."""
    return TURNOUT_S + 1.3 * distance_m / (speed_kmh / 3.6)
