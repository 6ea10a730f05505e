"""Benchmark of PDQ lookup (issue 21), run as ``python -m bench.watch_hash_index``.

1,000,000 random 256-bit PDQ hashes indexed by :class:`tocsin.watch.index.HashIndex`
(multi-index hashing, 16 chunks of 16 bits), beside the naive baseline in the same run: a
vectorised full scan of every hash per query (numpy XOR + popcount). Queries: a third indexed
hashes with 0 to 31 bits flipped (near-duplicates, must be found), a third with 32 to 40 flipped
(just past HMA's radius, must not be), a third random (misses). Radius 31 (HMA's default).
Both methods must give the same answers on the compared queries: the run exits with status 1
if they differ. CPU time of this process (one core); memory: the index's arrays and the
process's peak resident size. Also: PDQ hashing of a real photograph (images/s).
"""

from __future__ import annotations

import os

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

import argparse
import platform
import resource
import sys
import time
from pathlib import Path

import numpy as np


def _queries(rng: np.random.Generator, hashes: np.ndarray, count: int,
             radius: int) -> list[np.ndarray]:
    queries = []
    for i in range(count):
        if i % 3 == 2:
            queries.append(rng.integers(0, 2**64, size=4, dtype=np.uint64))
            continue
        flips = int(rng.integers(0, radius + 1)) if i % 3 == 0 else int(
            rng.integers(radius + 1, radius + 10))
        q = hashes[int(rng.integers(0, len(hashes)))].copy()
        for bit in rng.choice(256, size=flips, replace=False):
            q[int(bit) // 64] ^= np.uint64(1 << (63 - int(bit) % 64))
        queries.append(q)
    return queries


def _pdq_rate(seconds: float = 2.0) -> tuple[float, str]:
    import sklearn.datasets
    from PIL import Image

    from tocsin.watch.media import pdq_hash

    photo = Image.open(Path(sklearn.datasets.__file__).parent / "images" / "china.jpg")
    photo.load()
    done, start = 0, time.process_time()
    while time.process_time() - start < seconds:
        pdq_hash(photo)
        done += 1
    return done / (time.process_time() - start), f"{photo.size[0]}x{photo.size[1]}"


def main() -> int:
    from tocsin.watch.index import HashIndex, brute_force

    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--size", type=int, default=1_000_000)
    parser.add_argument("--queries", type=int, default=3_000)
    parser.add_argument("--compared", type=int, default=150,
                        help="queries also answered by the full scan and compared")
    parser.add_argument("--radius", type=int, default=31)
    args = parser.parse_args()
    rng = np.random.default_rng(2015)
    hashes = rng.integers(0, 2**64, size=(args.size, 4), dtype=np.uint64)
    queries = _queries(rng, hashes, args.queries, args.radius)
    print(f"machine: {platform.node()} {platform.machine()}, {os.cpu_count()} cores, "
          f"load average {os.getloadavg()[0]:.1f}; numpy {np.__version__}")

    start = time.process_time()
    index = HashIndex(hashes)
    build = time.process_time() - start
    print(f"{args.size:,} PDQ hashes indexed in {build:.2f} s CPU; index memory "
          f"{index.nbytes / 2**20:.0f} MiB (the hashes alone: {hashes.nbytes / 2**20:.0f} MiB)")

    start = time.process_time()
    ours = [index.search(q, args.radius) for q in queries]
    ours_rate = len(queries) / (time.process_time() - start)
    # The compared sample is spread over the three kinds of query.
    step = max(1, len(queries) // args.compared)
    sample = list(range(0, len(queries), step + (step % 3 == 0)))
    start = time.process_time()
    base = {i: brute_force(hashes, queries[i], args.radius) for i in sample}
    base_rate = len(sample) / (time.process_time() - start)
    differ = [i for i in sample if base[i] != ours[i]]
    kinds = [range(k, len(queries), 3) for k in range(3)]
    found = [sum(bool(ours[i]) for i in kind) for kind in kinds]
    print(f"radius {args.radius}: full scan {base_rate:,.0f} lookups/s, multi-index "
          f"{ours_rate:,.0f} lookups/s ({ours_rate / base_rate:,.0f}x; one core, CPU time)")
    print(f"found: {found[0]} of {len(kinds[0])} near-duplicates (<= {args.radius} bits), "
          f"{found[1]} of {len(kinds[1])} just past the radius, {found[2]} of {len(kinds[2])} "
          f"random")
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"peak resident memory of the process: {peak:.0f} MiB")
    rate, size = _pdq_rate()
    print(f"PDQ hashing of a {size} photograph: {rate:,.0f} images/s (one core)")
    failures = []
    if differ:
        failures.append(f"index and full scan disagree on {len(differ)} of {len(sample)} "
                        f"queries (first: query {differ[0]})")
    if found[0] != len(kinds[0]) or found[1]:
        failures.append("a near-duplicate was missed or a hash past the radius was found")
    for failure in failures:
        print(f"FAIL: {failure}", file=sys.stderr)
    if failures:
        return 1
    print(f"answers identical to the full scan on the {len(sample)} compared queries")
    return 0


if __name__ == "__main__":
    sys.exit(main())
