"""Benchmark of perceptual-hash lookup (issue 8), run as ``python -m bench.watch_hash_index``.

1,000,000 random 64-bit hashes indexed by :class:`tocsin.watch.index.HashIndex` (multi-index
hashing), beside the naive baseline in the same run: a vectorised full scan of all hashes per
query. Queries are indexed hashes with 0 to 10 bits flipped (true near-duplicates) and random
hashes (misses), at the default radius of 10 bits. Both must return the same matches.
"""

from __future__ import annotations

import os

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

import argparse
import platform
import resource
import time

import numpy as np

from tocsin.watch.index import HashIndex, brute_force


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", type=int, default=1_000_000)
    parser.add_argument("--queries", type=int, default=2_000)
    parser.add_argument("--radius", type=int, default=10)
    args = parser.parse_args()
    rng = np.random.default_rng(2015)
    hashes = rng.integers(0, 2**64 - 1, size=args.size, dtype=np.uint64, endpoint=True)
    queries = []
    for i in range(args.queries):
        if i % 2:
            queries.append(int(rng.integers(0, 2**64 - 1, dtype=np.uint64, endpoint=True)))
            continue
        q = int(hashes[rng.integers(0, args.size)])
        for bit in rng.choice(64, size=int(rng.integers(0, args.radius + 1)), replace=False):
            q ^= 1 << int(bit)
        queries.append(q)
    print(f"machine: {platform.node()} {platform.machine()}, {os.cpu_count()} cores, "
          f"numpy {np.__version__}")
    start = time.process_time()
    index = HashIndex(hashes)
    build = time.process_time() - start
    print(f"{args.size:,} hashes indexed in {build:.2f} s CPU; index memory "
          f"{index.nbytes / 2**20:.1f} MiB (the hashes alone: {hashes.nbytes / 2**20:.1f} MiB)")

    start = time.process_time()
    ours = [index.search(q, args.radius) for q in queries]
    ours_rate = len(queries) / (time.process_time() - start)
    sample = queries[:200]
    start = time.process_time()
    base = [brute_force(hashes, q, args.radius) for q in sample]
    base_rate = len(sample) / (time.process_time() - start)
    assert base == ours[:len(sample)], "index and full scan disagree"
    found = sum(bool(r) for r in ours)
    print(f"radius {args.radius}: full scan {base_rate:,.0f} lookups/s, multi-index "
          f"{ours_rate:,.0f} lookups/s (one core, CPU time); {found} of {len(queries)} "
          f"queries matched; results identical on the {len(sample)} compared")
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"peak resident memory of the process: {peak:.0f} MiB; "
          f"load average {os.getloadavg()[0]:.1f}")


if __name__ == "__main__":
    main()
