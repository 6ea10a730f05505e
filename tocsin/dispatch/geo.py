"""Small geodesy helpers for dispatch: a road-free ETA (distances: ``tocsin.core.geo``).

The ETA is deliberately road-free (straight line at an average urban speed plus a fixed
turn-out time): it needs no routing service on the SOS critical path, and it only orders
units whose distances are already known. A routing engine could replace it later.
"""

from __future__ import annotations

# Distances are core's (one formula and radius for every domain); re-exported for this domain.
from tocsin.core.geo import EARTH_RADIUS_M as EARTH_RADIUS_M
from tocsin.core.geo import M_PER_DEG_LAT as M_PER_DEG_LAT
from tocsin.core.geo import haversine_m as haversine_m

TURNOUT_S = 30.0


def eta_seconds(distance_m: float, speed_kmh: float) -> float:
    """Return a road-free ETA: turn-out time plus the straight line, lengthened by 1.3 for roads."""
    return TURNOUT_S + 1.3 * distance_m / (speed_kmh / 3.6)
