"""Nearest-neighbour search of 64-bit perceptual hashes within a Hamming radius.

Multi-index hashing (Norouzi, Punjani and Fleet, CVPR 2012): split each hash into 4 chunks of
16 bits. If two hashes differ in at most ``r`` bits, by pigeonhole one of their chunks differs in
at most ``r // 4`` bits; so each query probes, in each chunk's table, every value within that
small radius (137 values for ``r`` up to 11), and only the few candidates found are checked on
all 64 bits. A linear scan reads every hash for every query; this reads a few thousand.

Pure numpy (no FAISS needed): per chunk, one array of row numbers sorted by chunk value and an
offsets table of 65,537 entries, so a bucket is a slice.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterable

import numpy as np

CHUNKS = 4
CHUNK_BITS = 16


def _masks(radius: int) -> np.ndarray:
    """Return every 16-bit XOR mask with at most ``radius`` bits set."""
    masks = [0]
    for k in range(1, radius + 1):
        for bits in itertools.combinations(range(CHUNK_BITS), k):
            masks.append(sum(1 << b for b in bits))
    return np.asarray(masks, dtype=np.int64)


class HashIndex:
    """An immutable index of 64-bit hashes (given as ints or 16-hex-digit strings)."""

    def __init__(self, hashes: Iterable[int | str] | np.ndarray) -> None:
        if isinstance(hashes, np.ndarray):
            self.hashes = hashes.astype(np.uint64, copy=False)
        else:
            self.hashes = np.fromiter((int(h, 16) if isinstance(h, str) else h for h in hashes),
                                      dtype=np.uint64)
        self._order: list[np.ndarray] = []
        self._offsets: list[np.ndarray] = []
        for chunk in range(CHUNKS):
            values = self._chunk(self.hashes, chunk)
            self._order.append(np.argsort(values, kind="stable").astype(np.uint32))
            counts = np.bincount(values, minlength=1 << CHUNK_BITS)
            self._offsets.append(np.concatenate(([0], np.cumsum(counts))).astype(np.int64))
        self._mask_cache: dict[int, np.ndarray] = {}

    @staticmethod
    def _chunk(values: np.ndarray, chunk: int) -> np.ndarray:
        shift = np.uint64(chunk * CHUNK_BITS)
        return ((values >> shift) & np.uint64(0xFFFF)).astype(np.int64)

    @property
    def nbytes(self) -> int:
        """Memory held by the index (hashes, orders, offsets), in bytes."""
        return int(self.hashes.nbytes + sum(o.nbytes for o in self._order)
                   + sum(o.nbytes for o in self._offsets))

    def __len__(self) -> int:
        return int(self.hashes.size)

    def search(self, query: int | str, radius: int = 10) -> list[tuple[int, int]]:
        """Return ``(row, distance)`` of every hash within ``radius`` bits, nearest first."""
        qi = int(query, 16) if isinstance(query, str) else int(query)
        q = np.uint64(qi)
        per_chunk = radius // CHUNKS
        masks = self._mask_cache.get(per_chunk)
        if masks is None:
            masks = self._mask_cache.setdefault(per_chunk, _masks(per_chunk))
        pieces = []
        for chunk in range(CHUNKS):
            probes = ((qi >> (chunk * CHUNK_BITS)) & 0xFFFF) ^ masks
            starts = self._offsets[chunk][probes]
            lengths = self._offsets[chunk][probes + 1] - starts
            total = int(lengths.sum())
            if total == 0:
                continue
            # Concatenate the bucket slices without a Python loop.
            base = np.repeat(starts - np.concatenate(([0], np.cumsum(lengths)[:-1])), lengths)
            pieces.append(self._order[chunk][base + np.arange(total)])
        if not pieces:
            return []
        rows = np.concatenate(pieces)
        dist = np.bitwise_count(self.hashes[rows] ^ q)
        keep = dist <= radius
        # A hash found through several chunks appears several times: dedupe the few matches
        # (np.unique over all candidates would cost more than the whole search).
        found = set(zip(dist[keep].tolist(), rows[keep].tolist(), strict=True))
        return [(row, d) for d, row in sorted(found)]


def brute_force(hashes: np.ndarray, query: int, radius: int = 10) -> list[tuple[int, int]]:
    """The baseline: compare the query with every hash (vectorised, one pass)."""
    dist = np.bitwise_count(hashes ^ np.uint64(query))
    rows = np.nonzero(dist <= radius)[0]
    return sorted(((int(r), int(dist[r])) for r in rows), key=lambda rd: (rd[1], rd[0]))
