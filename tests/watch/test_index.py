"""The multi-index over 256-bit PDQ hashes finds what a full scan finds, at and beyond radius."""

from __future__ import annotations

import numpy as np
import pytest

from tocsin.watch.index import HashIndex, brute_force, parse_hex


def _near(rng: np.random.Generator, row: np.ndarray, flips: int) -> np.ndarray:
    query = row.copy()
    for bit in rng.choice(256, size=flips, replace=False):
        query[bit // 64] ^= np.uint64(1 << (63 - int(bit) % 64))
    return query


@pytest.mark.parametrize("radius", [0, 15, 31, 47, 48])  # 48: past SCAN_FROM, a full scan
def test_index_agrees_with_brute_force(radius: int) -> None:
    rng = np.random.default_rng(7)
    hashes = rng.integers(0, 2**64, size=(20_000, 4), dtype=np.uint64)
    # Near-duplicates in the index itself, so one query finds several rows.
    hashes[1:40] = [_near(rng, hashes[0], int(k)) for k in rng.integers(1, 60, size=39)]
    index = HashIndex(hashes)
    for row in [0, *rng.integers(0, len(hashes), size=40)]:
        query = _near(rng, hashes[row], int(rng.integers(0, radius + 6)))
        assert index.search(query, radius) == brute_force(hashes, query, radius)


def test_threshold_is_inclusive_and_hex_is_read_most_significant_first() -> None:
    base = "f" * 16 + "0" * 48
    ten = f"{int(base, 16) ^ 0b1111111111:064x}"
    eleven = f"{int(base, 16) ^ 0b11111111111:064x}"
    index = HashIndex([base, ten, eleven])
    assert parse_hex([base])[0].tolist() == [2**64 - 1, 0, 0, 0]
    assert index.search(base, 10) == [(0, 0), (1, 10)]
    assert index.search(base, 11) == [(0, 0), (1, 10), (2, 11)]
    assert index.search("0" * 16 + "f" * 48, 100) == []
    assert len(HashIndex([])) == 0 and HashIndex([]).search(base, 31) == []
