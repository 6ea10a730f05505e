"""Great-circle distance, once for every domain.

Dispatch, shelter, safety and alerts each measured distances with a haversine of their own, with
two Earth radii (6,371.0 and 6,371.0088 km) and one without the clamp that keeps rounding from
taking ``asin`` past 1 for antipodal points. A safety check's circle and a shelter's radius
must agree with dispatch's distances to the metre, so there is one formula and one radius: the
IUGG mean radius R1, the sphere closest to WGS 84 on average.
"""

from __future__ import annotations

import math

EARTH_RADIUS_M = 6_371_008.8  # IUGG mean radius R1
EARTH_RADIUS_KM = EARTH_RADIUS_M / 1000.0
M_PER_DEG_LAT = math.pi * EARTH_RADIUS_M / 180.0


def haversine_m(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    """Return the great-circle distance in metres between two WGS 84 points."""
    p1, p2 = math.radians(lat1), math.radians(lat2)
    dp, dl = p2 - p1, math.radians(lon2 - lon1)
    a = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    # min(): rounding can take ``a`` a hair past 1 for antipodal points (asin then fails).
    return 2 * EARTH_RADIUS_M * math.asin(min(1.0, math.sqrt(a)))


def haversine_km(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    """Return the great-circle distance in kilometres."""
    return haversine_m(lat1, lon1, lat2, lon2) / 1000.0
