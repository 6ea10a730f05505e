"""In-memory spatial index of *available* units, one per worker: a uniform lat/lon grid.

Why a grid (and not H3, a KD-tree or an R-tree): unit positions change every few seconds, and a
grid moves a unit in O(1) (pop from one bucket dict, put in another) with no rebalancing, where
a KD-tree must be rebuilt or degrade. A nearest query walks square rings of cells outwards from
the query's cell and stops as soon as the k-th best candidate is closer than anything the next
ring could hold, so at street density it reads a few dozen units whatever the total. H3 would
give the same bucketing with hexagons, but its ``grid_disk`` calls cost more per query than
integer arithmetic on a rectangular grid, and we need no hierarchy.

Ranking uses the equirectangular metric around the query's latitude (exact to well under 0.1 %
at city distances); the distances returned are great-circle metres. The grid is correct far
from the poles and the antimeridian, which covers every deployment this service targets.

The index is an accelerator, never the truth: the database decides who is available (offers
take a unit with a conditional UPDATE), so a stale entry costs one failed update, not a wrong
assignment.
"""

from __future__ import annotations

import heapq
import math
import threading
from collections.abc import Collection, Iterable

from tocsin.dispatch.geo import haversine_m

DEFAULT_CELL_DEG = 0.0025  # about 280 m north-south
_ROW = 1 << 20  # cell key = row * _ROW + column; |column| < 2**19 for any longitude


class UnitIndex:
    """Available units by grid cell; thread-safe (bus handlers write, dispatch threads read)."""

    def __init__(self, *, cell_deg: float = DEFAULT_CELL_DEG, ref_lat: float = 46.0) -> None:
        self.cell_lat = cell_deg
        # Cells are roughly square at ref_lat (France); elsewhere they are just rectangles.
        self.cell_lon = cell_deg / math.cos(math.radians(ref_lat))
        self._cells: dict[int, dict[str, tuple[float, float]]] = {}
        self._where: dict[str, int] = {}
        self._stamps: dict[str, float] = {}
        self._lock = threading.Lock()

    def __len__(self) -> int:
        return len(self._where)

    def __contains__(self, unit_id: object) -> bool:
        return unit_id in self._where

    def _key(self, lat: float, lon: float) -> int:
        return math.floor(lat / self.cell_lat) * _ROW + math.floor(lon / self.cell_lon)

    def _fresh(self, unit_id: str, stamp: float | None) -> bool:
        if stamp is None:
            return True
        if stamp < self._stamps.get(unit_id, -math.inf):
            return False  # an older event delivered late: keep the newer state
        self._stamps[unit_id] = stamp
        return True

    def upsert(self, unit_id: str, lat: float, lon: float, *, stamp: float | None = None) -> None:
        """Put ``unit_id`` at (lat, lon), moving it if it was elsewhere."""
        with self._lock:
            if self._fresh(unit_id, stamp):
                self._put(unit_id, lat, lon)

    def _put(self, unit_id: str, lat: float, lon: float) -> None:
        key = self._key(lat, lon)
        old = self._where.get(unit_id)
        if old is not None and old != key:
            self._drop(unit_id, old)
        self._cells.setdefault(key, {})[unit_id] = (lat, lon)
        self._where[unit_id] = key

    def _drop(self, unit_id: str, key: int) -> None:
        bucket = self._cells.get(key)
        if bucket is not None:
            bucket.pop(unit_id, None)
            if not bucket:
                del self._cells[key]

    def remove(self, unit_id: str, *, stamp: float | None = None) -> None:
        """Take ``unit_id`` out (no longer available, or no position)."""
        with self._lock:
            if self._fresh(unit_id, stamp):
                key = self._where.pop(unit_id, None)
                if key is not None:
                    self._drop(unit_id, key)

    def apply(
        self, unit_id: str, *, available: bool, lat: float | None, lon: float | None,
        stamp: float | None = None,
    ) -> None:
        """Reflect a unit's state: indexed iff available with a known position."""
        with self._lock:
            if not self._fresh(unit_id, stamp):
                return
            if available and lat is not None and lon is not None:
                self._put(unit_id, lat, lon)
            else:
                key = self._where.pop(unit_id, None)
                if key is not None:
                    self._drop(unit_id, key)

    def replace_all(self, units: Iterable[tuple[str, float, float]]) -> None:
        """Rebuild from scratch (worker start): ``units`` are (id, lat, lon) of available units."""
        with self._lock:
            self._cells.clear()
            self._where.clear()
            for unit_id, lat, lon in units:
                self._put(unit_id, lat, lon)

    def nearest(
        self, lat: float, lon: float, k: int = 1, *, exclude: Collection[str] = ()
    ) -> list[tuple[float, str]]:
        """Return up to ``k`` (distance in metres, unit id) nearest to (lat, lon), closest first."""
        if k <= 0:
            return []
        with self._lock:
            found = self._search(lat, lon, k, exclude)
        result = [(haversine_m(lat, lon, ulat, ulon), uid) for _, uid, ulat, ulon in found]
        result.sort()
        return result

    def _search(
        self, lat: float, lon: float, k: int, exclude: Collection[str]
    ) -> list[tuple[float, str, float, float]]:
        if k == 1 and not exclude:
            return self._search_one(lat, lon)
        return self._search_k(lat, lon, k, exclude)

    def _search_one(self, lat: float, lon: float) -> list[tuple[float, str, float, float]]:
        # The hot path (the nearest unit, no exclusions), without heap or closure overhead.
        coslat = math.cos(math.radians(lat))
        cell_lat, cell_lon = self.cell_lat, self.cell_lon
        cy = math.floor(lat / cell_lat)
        cx = math.floor(lon / cell_lon)
        cells = self._cells
        best_d2 = math.inf
        best: tuple[str, float, float] | None = None
        total = len(self._where)
        seen = 0
        r = 0
        while seen < total:
            if (2 * r + 1) ** 2 > 4 * len(cells):
                best_d2, best = math.inf, None
                for bucket in cells.values():
                    for uid, (ulat, ulon) in bucket.items():
                        dy = ulat - lat
                        dx = (ulon - lon) * coslat
                        d2 = dy * dy + dx * dx
                        if d2 < best_d2:
                            best_d2, best = d2, (uid, ulat, ulon)
                break
            for key in (cy * _ROW + cx,) if r == 0 else _ring_keys(cy, cx, r):
                found = cells.get(key)
                if found:
                    seen += len(found)
                    for uid, (ulat, ulon) in found.items():
                        dy = ulat - lat
                        dx = (ulon - lon) * coslat
                        d2 = dy * dy + dx * dx
                        if d2 < best_d2:
                            best_d2, best = d2, (uid, ulat, ulon)
            if best is not None:
                margin_lat = min(lat - (cy - r) * cell_lat, (cy + r + 1) * cell_lat - lat)
                margin_lon = min(lon - (cx - r) * cell_lon, (cx + r + 1) * cell_lon - lon)
                bound = min(margin_lat, margin_lon * coslat)
                if bound * bound >= best_d2:
                    break
            r += 1
        return [] if best is None else [(best_d2, *best)]

    def _search_k(
        self, lat: float, lon: float, k: int, exclude: Collection[str]
    ) -> list[tuple[float, str, float, float]]:
        coslat = math.cos(math.radians(lat))
        cell_lat, cell_lon = self.cell_lat, self.cell_lon
        cy = math.floor(lat / cell_lat)
        cx = math.floor(lon / cell_lon)
        cells = self._cells
        best: list[tuple[float, str, float, float]] = []  # max-heap on -d2
        total = len(self._where)
        seen = 0

        def scan(bucket: dict[str, tuple[float, float]]) -> None:
            for uid, (ulat, ulon) in bucket.items():
                if uid in exclude:
                    continue
                dy = ulat - lat
                dx = (ulon - lon) * coslat
                d2 = dy * dy + dx * dx
                if len(best) < k:
                    heapq.heappush(best, (-d2, uid, ulat, ulon))
                elif d2 < -best[0][0]:
                    heapq.heapreplace(best, (-d2, uid, ulat, ulon))

        r = 0
        while seen < total:
            if (2 * r + 1) ** 2 > 4 * len(cells):
                # Sparse index: the rings would visit mostly empty cells; scanning what is
                # left is cheaper (and exact).
                best.clear()
                for bucket in cells.values():
                    scan(bucket)
                break
            if r == 0:
                ring: Iterable[int] = (cy * _ROW + cx,)
            else:
                ring = _ring_keys(cy, cx, r)
            for key in ring:
                found = cells.get(key)
                if found:
                    seen += len(found)
                    scan(found)
            if len(best) == k:
                # Anything outside rings 0..r is at least this far (degrees, query metric).
                margin_lat = min(lat - (cy - r) * cell_lat, (cy + r + 1) * cell_lat - lat)
                margin_lon = min(lon - (cx - r) * cell_lon, (cx + r + 1) * cell_lon - lon)
                bound = min(margin_lat, margin_lon * coslat)
                if bound * bound >= -best[0][0]:
                    break
            r += 1
        return [(-nd2, uid, ulat, ulon) for nd2, uid, ulat, ulon in best]


def _ring_keys(cy: int, cx: int, r: int) -> Iterable[int]:
    top, bottom = (cy + r) * _ROW, (cy - r) * _ROW
    for x in range(cx - r, cx + r + 1):
        yield top + x
        yield bottom + x
    for y in range(cy - r + 1, cy + r):
        row = y * _ROW
        yield row + cx - r
        yield row + cx + r
