"""One great-circle distance for every domain (issue 24: three copies, two radii, one unclamped)."""

from __future__ import annotations

import math

import pytest

from tocsin.core import geo
from tocsin.dispatch import geo as dispatch_geo
from tocsin.safety.service import contains
from tocsin.shelter import geo as shelter_geo

BATACLAN = (48.8630, 2.3708)
STADE = (48.9245, 2.3602)


def test_known_distance_and_units_agree() -> None:
    metres = geo.haversine_m(*BATACLAN, *STADE)
    assert metres == pytest.approx(6_888, abs=15)  # about 6.9 km, Bataclan to the Stade de France
    assert geo.haversine_km(*BATACLAN, *STADE) == pytest.approx(metres / 1000)


def test_antipodes_do_not_fail() -> None:
    # Without the clamp, rounding takes asin's argument past 1 for some antipodal pairs.
    for lat, lon in ((0.0, 0.0), (48.8566, 2.3522), (-33.8688, 151.2093), (89.9999, 10.0)):
        distance = geo.haversine_m(lat, lon, -lat, lon - 180.0)
        assert distance == pytest.approx(math.pi * geo.EARTH_RADIUS_M, rel=1e-6)


def test_every_domain_measures_with_the_same_formula() -> None:
    assert dispatch_geo.haversine_m is geo.haversine_m
    assert shelter_geo.haversine_km is geo.haversine_km
    # A safety check's circle holds exactly what dispatch calls within its radius (to the
    # millimetre: the old 6,371.0 km radius of safety put this point 9.5 mm nearer).
    radius = geo.haversine_m(*BATACLAN, *STADE)
    circle = {"type": "circle", "lat": BATACLAN[0], "lon": BATACLAN[1]}
    assert contains({**circle, "radius_m": radius + 0.001}, *STADE)
    assert not contains({**circle, "radius_m": radius - 0.001}, *STADE)
