"""Which subscribers are inside an alert's area: an H3 cover for the bulk, exact tests at the edge.

Subscribers are kept sorted by their H3 cell (resolution 9, hexagons of about 0.1 km²). The area
is covered with every cell that *overlaps* it; the cells lying wholly inside the area take all
their subscribers with no geometry at all (a range lookup in the sorted cells), and only the
subscribers of the cells crossing the border get the exact point-in-area test (shapely,
vectorised). In a city-sized polygon that leaves a few percent of the points to test.
"""

from __future__ import annotations

import h3
import numpy as np
import numpy.typing as npt
import shapely
from shapely.geometry.base import BaseGeometry

RESOLUTION = 9

IntArray = npt.NDArray[np.int64]


def cell_of(lat: float, lon: float) -> str:
    """Return the H3 cell (resolution 9) of a point, as stored with each subscription."""
    return str(h3.latlng_to_cell(lat, lon, RESOLUTION))


def cover(shape: BaseGeometry, resolution: int = RESOLUTION) -> tuple[list[int], list[int]]:
    """Return (interior cells, border cells) as H3 integers for ``shape`` (lon/lat order).

    Both sets come from H3's own polygon fill: cells wholly inside ("full") and cells that touch
    the area at all ("overlap"); the border is the difference.
    """
    h3shape = h3.geo_to_h3shape(shape.__geo_interface__)
    touching = h3.h3shape_to_cells_experimental(h3shape, resolution, contain="overlap")
    inside = set(h3.h3shape_to_cells_experimental(h3shape, resolution, contain="full"))
    interior = [h3.str_to_int(c) for c in inside]
    border = [h3.str_to_int(c) for c in touching if c not in inside]
    return interior, border


def _expand(starts: IntArray, ends: IntArray) -> IntArray:
    """Concatenate ``arange(s, e)`` for each pair, without a Python loop."""
    lengths = ends - starts
    total = int(lengths.sum())
    if total == 0:
        return np.empty(0, dtype=np.int64)
    keep = lengths > 0
    starts, lengths = starts[keep], lengths[keep]
    offsets = np.repeat(starts - np.concatenate(([0], np.cumsum(lengths)[:-1])), lengths)
    return np.arange(total, dtype=np.int64) + offsets


class SubscriberIndex:
    """Subscriber positions sorted by H3 cell, for fast area queries."""

    def __init__(self, lat: npt.ArrayLike, lon: npt.ArrayLike, cells: npt.ArrayLike) -> None:
        cell_array = np.asarray(cells, dtype=np.uint64)
        self.order: IntArray = np.argsort(cell_array, kind="stable").astype(np.int64)
        self.cells = cell_array[self.order]
        self.lat = np.asarray(lat, dtype=np.float64)[self.order]
        self.lon = np.asarray(lon, dtype=np.float64)[self.order]

    @classmethod
    def from_points(cls, lat: npt.ArrayLike, lon: npt.ArrayLike) -> SubscriberIndex:
        """Index points, computing their cells (slow path: cells are normally stored)."""
        lat_a, lon_a = np.asarray(lat, dtype=np.float64), np.asarray(lon, dtype=np.float64)
        cells = [h3.str_to_int(cell_of(a, b)) for a, b in zip(lat_a, lon_a, strict=True)]
        return cls(lat_a, lon_a, cells)

    def __len__(self) -> int:
        return int(self.cells.size)

    def _in_cells(self, cells: list[int]) -> IntArray:
        if not cells:
            return np.empty(0, dtype=np.int64)
        wanted = np.unique(np.asarray(cells, dtype=np.uint64))
        starts = np.searchsorted(self.cells, wanted, side="left").astype(np.int64)
        ends = np.searchsorted(self.cells, wanted, side="right").astype(np.int64)
        return _expand(starts, ends)

    def within(self, shape: BaseGeometry) -> IntArray:
        """Return the original positions of the subscribers inside ``shape`` (edge included)."""
        interior, border = cover(shape)
        bulk = self._in_cells(interior)
        edge = self._in_cells(border)
        if edge.size:
            shapely.prepare(shape)
            hit = shapely.intersects_xy(shape, self.lon[edge], self.lat[edge])
            edge = edge[hit]
        return np.sort(self.order[np.concatenate((bulk, edge))])


def baseline_within(shape: BaseGeometry, lat: npt.ArrayLike, lon: npt.ArrayLike) -> IntArray:
    """Test every point on its own with shapely (the naive way, for comparison)."""
    from shapely.geometry import Point

    lat_list = np.asarray(lat, dtype=np.float64).tolist()
    lon_list = np.asarray(lon, dtype=np.float64).tolist()
    hits = [i for i, (a, b) in enumerate(zip(lat_list, lon_list, strict=True))
            if shape.intersects(Point(b, a))]
    return np.asarray(hits, dtype=np.int64)
