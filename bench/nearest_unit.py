"""Nearest available unit among 100,000: the grid index against brute-force scans, same run.

    python -m bench.nearest_unit [--units 100000] [--queries 20000] [--k 1]

Units are spread uniformly over Paris and its inner suburbs (45 km x 60 km), 10 % of them off
duty (not indexed); queries are random points in the same box. Printed: microseconds per query
(wall clock, and CPU time, which stays honest when other processes share the cores) for the
index, for a pure-Python linear scan (the same cheap metric, so the comparison is about the
data structure, not the trigonometry), for a vectorised NumPy scan (the fastest brute force one
can write in Python), the ratios, and a check that all answers agree.
"""

from __future__ import annotations

import argparse
import math
import os
import platform
import random
import time

import numpy as np

from tocsin.dispatch.index import UnitIndex


def main() -> None:
    """Run the benchmark and print its figures."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--units", type=int, default=100_000)
    parser.add_argument("--queries", type=int, default=20_000)
    parser.add_argument("--k", type=int, default=1)
    parser.add_argument("--seed", type=int, default=1115)
    args = parser.parse_args()
    rng = random.Random(args.seed)
    box = (48.60, 49.00, 2.00, 2.80)

    def point() -> tuple[float, float]:
        return rng.uniform(box[0], box[1]), rng.uniform(box[2], box[3])

    units = [(f"u{i}", *point()) for i in range(args.units)]
    available = [u for u in units if rng.random() >= 0.10]
    queries = [point() for _ in range(args.queries)]

    t0 = time.perf_counter()
    index = UnitIndex()
    index.replace_all(available)
    build_s = time.perf_counter() - t0

    # Position pings: move 10,000 units (what a busy evening does every few seconds).
    moves = [(uid, *point()) for uid, _, _ in rng.sample(available, min(10_000, len(available)))]
    t0 = time.perf_counter()
    for uid, lat, lon in moves:
        index.upsert(uid, lat, lon)
    move_us = (time.perf_counter() - t0) / len(moves) * 1e6
    positions = {uid: (lat, lon) for uid, lat, lon in available}
    positions.update({uid: (lat, lon) for uid, lat, lon in moves})
    ids = list(positions)
    lats = np.array([positions[u][0] for u in ids])
    lons = np.array([positions[u][1] for u in ids])
    flat = [(u, positions[u][0], positions[u][1]) for u in ids]

    t0, c0 = time.perf_counter(), time.process_time()
    got = [index.nearest(lat, lon, args.k)[0][1] for lat, lon in queries]
    index_us = (time.perf_counter() - t0) / len(queries) * 1e6
    index_cpu = (time.process_time() - c0) / len(queries) * 1e6

    scan_n = max(50, len(queries) // 100)  # the scan is slow: time it on a sample
    t0, c0 = time.perf_counter(), time.process_time()
    scanned = [_scan(flat, lat, lon) for lat, lon in queries[:scan_n]]
    scan_us = (time.perf_counter() - t0) / scan_n * 1e6
    scan_cpu = (time.process_time() - c0) / scan_n * 1e6

    numpy_n = max(200, len(queries) // 10)
    t0, c0 = time.perf_counter(), time.process_time()
    vectored = [_numpy_scan(ids, lats, lons, lat, lon) for lat, lon in queries[:numpy_n]]
    numpy_us = (time.perf_counter() - t0) / numpy_n * 1e6
    numpy_cpu = (time.process_time() - c0) / numpy_n * 1e6

    agree = got[:scan_n] == scanned and got[:numpy_n] == vectored
    print(f"machine: {platform.machine()}, {platform.python_implementation()} "
          f"{platform.python_version()}, {_cores()} cores")
    print(f"units: {args.units:,} ({len(available):,} available), k={args.k}, "
          f"queries: {len(queries):,}")
    print(f"index build: {build_s * 1e3:.0f} ms; position update: {move_us:.2f} µs/update")
    print(f"load average (1 min): {os.getloadavg()[0]:.1f}  (CPU time excludes waiting for a core)")
    print("                      wall µs/query   CPU µs/query   ratio (wall, CPU)")
    for name, wall, cpu in (("grid index", index_us, index_cpu),
                            ("brute force (py)", scan_us, scan_cpu),
                            ("brute force (numpy)", numpy_us, numpy_cpu)):
        print(f"{name:<20} {wall:14.1f} {cpu:14.1f}   "
              f"{wall / index_us:8.1f}x {cpu / index_cpu:8.1f}x")
    print(f"answers agree with both scans: {agree}")
    if not agree:
        # A fast index that answers wrong is no result: the run fails, and says where.
        wrong = [(i, got[i], scanned[i] if i < scan_n else None, vectored[i])
                 for i in range(numpy_n)
                 if got[i] != vectored[i] or (i < scan_n and got[i] != scanned[i])]
        i, ours, py, vec = wrong[0]
        raise SystemExit(f"FAIL: {len(wrong)} answer(s) differ from the scans; first, query {i} "
                         f"{queries[i]}: index {ours}, python scan {py}, numpy scan {vec}")


def _scan(units: list[tuple[str, float, float]], lat: float, lon: float) -> str:
    coslat = math.cos(math.radians(lat))
    best, best_id = math.inf, ""
    for uid, ulat, ulon in units:
        dy = ulat - lat
        dx = (ulon - lon) * coslat
        d2 = dy * dy + dx * dx
        if d2 < best:
            best, best_id = d2, uid
    return best_id


def _numpy_scan(ids: list[str], lats: np.ndarray, lons: np.ndarray, lat: float, lon: float) -> str:
    coslat = math.cos(math.radians(lat))
    d2 = (lats - lat) ** 2 + ((lons - lon) * coslat) ** 2
    return ids[int(np.argmin(d2))]


def _cores() -> int:
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 0


if __name__ == "__main__":
    main()
