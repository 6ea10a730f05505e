"""The multi-index over perceptual hashes finds what a full scan finds, at and beyond radius."""

from __future__ import annotations

import numpy as np

from tocsin.watch.index import HashIndex, brute_force


def test_index_agrees_with_brute_force() -> None:
    rng = np.random.default_rng(7)
    hashes = rng.integers(0, 2**63, size=20_000, dtype=np.uint64) * np.uint64(2) + np.uint64(1)
    index = HashIndex(hashes)
    for row in rng.integers(0, hashes.size, size=50):
        flips = rng.choice(64, size=int(rng.integers(0, 12)), replace=False)
        query = int(hashes[row])
        for bit in flips:
            query ^= 1 << int(bit)
        assert index.search(query, 10) == brute_force(hashes, query, 10)


def test_threshold_is_inclusive() -> None:
    base = 0x00FF00FF00FF00FF
    index = HashIndex([base, f"{base ^ 0b1111111111:016x}", base ^ 0b11111111111])
    assert [d for _, d in index.search(base, 10)] == [0, 10]
    assert [d for _, d in index.search(base, 11)] == [0, 10, 11]
    assert index.search(~base & (2**64 - 1), 10) == []
