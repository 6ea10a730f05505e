"""The spatial index answers exactly what a brute-force scan answers, through moves and removals."""

from __future__ import annotations

import random

import pytest

from tocsin.dispatch.geo import haversine_m
from tocsin.dispatch.index import UnitIndex


def brute(points: dict[str, tuple[float, float]], lat: float, lon: float, k: int,
          exclude: set[str]) -> list[tuple[float, str]]:
    return sorted(
        (haversine_m(lat, lon, a, b), uid) for uid, (a, b) in points.items() if uid not in exclude
    )[:k]


@pytest.mark.parametrize(("count", "span"), [(5_000, 0.3), (40, 0.5), (2_000, 3.0)])
def test_nearest_matches_brute_force(count: int, span: float) -> None:
    rng = random.Random(count)
    index = UnitIndex()
    points: dict[str, tuple[float, float]] = {}
    for i in range(count):
        points[f"u{i}"] = (48.6 + rng.random() * span, 2.1 + rng.random() * span)
        index.upsert(f"u{i}", *points[f"u{i}"])
    # Moves and removals, as position pings and status changes do.
    for i in rng.sample(range(count), count // 5):
        points[f"u{i}"] = (48.6 + rng.random() * span, 2.1 + rng.random() * span)
        index.upsert(f"u{i}", *points[f"u{i}"])
    for i in rng.sample(range(count), count // 10):
        points.pop(f"u{i}", None)
        index.remove(f"u{i}")
    assert len(index) == len(points)
    for _ in range(120):
        lat = 48.5 + rng.random() * (span + 0.2)
        lon = 2.0 + rng.random() * (span + 0.2)
        k = rng.choice([1, 3, 5])
        exclude = set(rng.sample(sorted(points), 3))
        got = index.nearest(lat, lon, k, exclude=exclude)
        want = brute(points, lat, lon, k, exclude)
        assert len(got) == len(want)
        # Ranking is equirectangular, distances great-circle: equal to well under 0.1 %.
        for (gd, _), (wd, _) in zip(got, want, strict=True):
            assert gd == pytest.approx(wd, rel=1e-3, abs=0.5)
        if want and (len(want) < 2 or want[1][0] - want[0][0] > 1.0):
            assert got[0][1] == want[0][1]


def test_empty_and_stale_events() -> None:
    index = UnitIndex()
    assert index.nearest(48.85, 2.35, 3) == []
    index.apply("a", available=True, lat=48.85, lon=2.35, stamp=10.0)
    index.apply("a", available=False, lat=48.85, lon=2.35, stamp=5.0)  # late, older: ignored
    assert "a" in index
    index.apply("a", available=False, lat=48.85, lon=2.35, stamp=11.0)
    assert "a" not in index
    index.apply("b", available=True, lat=None, lon=None)
    assert "b" not in index
