"""Targeting: the H3 cover + border test finds exactly the subscribers a per-point test finds."""

from __future__ import annotations

import numpy as np
import pytest

from tocsin.alerts import geo, targeting

SHAPES = {
    "convex": geo.area_shape(["48.82,2.25 48.90,2.26 48.90,2.42 48.83,2.41 48.82,2.25"], []),
    "concave": geo.area_shape(
        ["48.82,2.25 48.90,2.26 48.86,2.30 48.90,2.42 48.83,2.41 48.82,2.25"], []),
    "circle": geo.area_shape([], ["48.86,2.35 3"]),
    "two areas": geo.area_shape(["48.81,2.23 48.84,2.23 48.84,2.27 48.81,2.23"],
                                ["48.89,2.44 1.5"]),
    "tiny circle": geo.area_shape([], ["48.8601,2.3501 0.05"]),
}


@pytest.mark.parametrize("name", list(SHAPES))
def test_same_answer_as_per_point_test(name: str) -> None:
    rng = np.random.default_rng(2015)
    lat = rng.uniform(48.80, 48.92, 30_000)
    lon = rng.uniform(2.22, 2.47, 30_000)
    lat[:3], lon[:3] = 48.86, 2.35  # several subscribers on one spot
    shape = SHAPES[name]
    assert shape is not None
    index = targeting.SubscriberIndex.from_points(lat, lon)
    found = index.within(shape)
    assert np.array_equal(found, targeting.baseline_within(shape, lat, lon))
    interior, border = targeting.cover(shape)
    assert not set(interior) & set(border)


def test_empty_index_and_far_area() -> None:
    index = targeting.SubscriberIndex.from_points([], [])
    assert index.within(SHAPES["circle"]).size == 0  # type: ignore[arg-type]
    index = targeting.SubscriberIndex.from_points([10.0], [10.0])
    assert index.within(SHAPES["circle"]).size == 0  # type: ignore[arg-type]
