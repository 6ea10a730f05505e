"""Nearest-neighbour search of binary hashes (PDQ: 256 bits) within a Hamming radius.

Multi-index hashing (Norouzi, Punjani and Fleet, CVPR 2012): split each hash into ``m`` chunks
of 16 bits (16 for PDQ). If two hashes differ in at most ``r`` bits, by pigeonhole one of their
chunks differs in at most ``r // m`` bits; so a query probes, in each chunk's table, every value
within that small radius (17 values per chunk at HMA's radius of 31: ``r // 16 = 1``), and only
the candidates found there are checked on all bits. At 1,000,000 random PDQ hashes that is about
4,000 candidates instead of a million.

Why not FAISS: ``faiss-cpu`` is a 30 MB wheel; its binary ``IndexBinaryFlat`` is a (fast) full
scan and its ``IndexBinaryMultiHash`` is this same method. Pure numpy keeps the answer exact,
the dependency list short, and measured ``bench/watch_hash_index.py`` well past the 1,000
lookups/s asked (figures in BENCHMARKS.md).

Layout: the hashes as an ``(n, words)`` array of uint64; per chunk, the row numbers sorted by
chunk value (uint32) and an offsets table of 65,537 entries, so a bucket is a slice; the probing
of all chunks is one set of numpy operations (no Python loop over chunks or buckets). Memory at
1M PDQ hashes: 32 MB of hashes, 64 MB of row orders, 8 MB of offsets. When the per-chunk radius
would reach 3 (``r >= 3 * m``) the candidates outnumber what a full scan reads, so it scans.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterable

import numpy as np

CHUNK_BITS = 16
_BUCKETS = 1 << CHUNK_BITS
# Per-chunk radius from which a scan is cheaper than probing (697 probes per chunk at 3).
SCAN_FROM = 3


def _masks(radius: int) -> np.ndarray:
    """Return every 16-bit XOR mask with at most ``radius`` bits set."""
    masks = [0]
    for k in range(1, radius + 1):
        for bits in itertools.combinations(range(CHUNK_BITS), k):
            masks.append(sum(1 << b for b in bits))
    return np.asarray(masks, dtype=np.int64)


def parse_hex(values: Iterable[str], bits: int = 256) -> np.ndarray:
    """Return hex hashes of ``bits`` bits as an ``(n, bits // 64)`` uint64 array.

    The first hex digit is the most significant: word 0 holds digits 0-15.
    """
    digits = bits // 4
    joined = "".join(values)
    if len(joined) % digits:
        raise ValueError(f"hashes must be {digits} hex digits each")
    raw = np.frombuffer(bytes.fromhex(joined), dtype=">u8")
    return raw.astype(np.uint64).reshape(-1, bits // 64)


class HashIndex:
    """An immutable index of binary hashes: an ``(n, words)`` uint64 array or hex strings."""

    def __init__(self, hashes: np.ndarray | Iterable[str], bits: int = 256) -> None:
        if isinstance(hashes, np.ndarray):
            array = hashes.astype(np.uint64, copy=False)
            self.hashes = array.reshape(array.shape[0], -1) if array.ndim == 1 else array
        else:
            self.hashes = parse_hex(list(hashes), bits)
        self.words = self.hashes.shape[1]
        self.chunks = self.words * (64 // CHUNK_BITS)
        n = self.hashes.shape[0]
        # One flat array of row orders, chunk after chunk, and offsets into it per chunk.
        self._order = np.empty(self.chunks * n, dtype=np.uint32)
        self._offsets = np.empty((self.chunks, _BUCKETS + 1), dtype=np.int64)
        for chunk in range(self.chunks):
            column = self._column(chunk)  # one chunk at a time: 8 MB, not 128, at 1M
            self._order[chunk * n:(chunk + 1) * n] = np.argsort(column, kind="stable")
            counts = np.bincount(column, minlength=_BUCKETS)
            self._offsets[chunk, 0] = chunk * n
            np.cumsum(counts, out=self._offsets[chunk, 1:])
            self._offsets[chunk, 1:] += chunk * n
        self._mask_cache: dict[int, np.ndarray] = {}

    def _column(self, chunk: int) -> np.ndarray:
        word, part = divmod(chunk, 64 // CHUNK_BITS)
        shift = np.uint64((64 // CHUNK_BITS - 1 - part) * CHUNK_BITS)
        return ((self.hashes[:, word] >> shift) & np.uint64(_BUCKETS - 1)).astype(np.int64)

    def _chunk_values(self, hashes: np.ndarray) -> np.ndarray:
        per_word = 64 // CHUNK_BITS
        shifts = np.asarray([(per_word - 1 - i) * CHUNK_BITS for i in range(per_word)],
                            dtype=np.uint64)
        parts = (hashes[:, :, None] >> shifts) & np.uint64(_BUCKETS - 1)
        return parts.reshape(hashes.shape[0], self.chunks).astype(np.int64)

    @property
    def nbytes(self) -> int:
        """Memory held by the index (hashes, row orders, offsets), in bytes."""
        return int(self.hashes.nbytes + self._order.nbytes + self._offsets.nbytes)

    def __len__(self) -> int:
        return int(self.hashes.shape[0])

    def _query(self, query: str | np.ndarray) -> np.ndarray:
        if isinstance(query, str):
            return parse_hex([query], self.words * 64)[0]
        return np.asarray(query, dtype=np.uint64).reshape(self.words)

    def search(self, query: str | np.ndarray, radius: int = 31) -> list[tuple[int, int]]:
        """Return ``(row, distance)`` of every hash within ``radius`` bits, nearest first."""
        q = self._query(query)
        per_chunk = radius // self.chunks
        if per_chunk >= SCAN_FROM or len(self) == 0:
            return brute_force(self.hashes, q, radius)
        masks = self._mask_cache.get(per_chunk)
        if masks is None:
            masks = self._mask_cache.setdefault(per_chunk, _masks(per_chunk))
        probes = self._chunk_values(q[None, :])[0][:, None] ^ masks[None, :]  # (chunks, P)
        rows_of = np.arange(self.chunks)[:, None]
        starts = self._offsets[rows_of, probes].ravel()
        lengths = self._offsets[rows_of, probes + 1].ravel() - starts
        total = int(lengths.sum())
        if total == 0:
            return []
        # Concatenate the bucket slices without a Python loop.
        ends = np.cumsum(lengths)
        base = np.repeat(starts - (ends - lengths), lengths)
        rows = self._order[base + np.arange(total)]
        dist = np.bitwise_count(self.hashes[rows] ^ q).sum(axis=1, dtype=np.int64)
        keep = dist <= radius
        # A hash found through several chunks appears several times: dedupe the few matches
        # (np.unique over all candidates would cost more than the rest of the search).
        found = set(zip(dist[keep].tolist(), rows[keep].tolist(), strict=True))
        return [(row, d) for d, row in sorted(found)]


def brute_force(hashes: np.ndarray, query: str | np.ndarray,
                radius: int = 31) -> list[tuple[int, int]]:
    """The baseline: compare the query with every hash (vectorised, one pass)."""
    array = hashes.reshape(hashes.shape[0], -1) if hashes.ndim == 1 else hashes
    q = (parse_hex([query], array.shape[1] * 64)[0] if isinstance(query, str)
         else np.asarray(query, dtype=np.uint64).reshape(array.shape[1]))
    dist = np.bitwise_count(array ^ q).sum(axis=1, dtype=np.int64)
    rows = np.nonzero(dist <= radius)[0]
    return sorted(((int(r), int(dist[r])) for r in rows), key=lambda rd: (rd[1], rd[0]))
