"""Known-content hashes: storing lists, matching text, files and images against them.

Signal types (``tocsin.watch.signals``): ``pdq`` for images, ``md5``/``sha256`` for files,
``tlsh`` for text and files, ``text_sha256`` for the normalised text. The list layouts of
ThreatExchange and HMA are read and written by ``tocsin.watch.exchange``.

Matching: exact for the digests (one indexed query each); PDQ within a Hamming distance
(``WatchSettings.pdq_distance``, HMA's default 31 of 256 bits) through a multi-index
(``tocsin.watch.index``) built once per process from the stored ``pdq`` rows and rebuilt when
rows are added (checked by one ``count``/``max`` query per match; about 1.5 s at 1M rows);
TLSH within a TLSH distance (``WatchSettings.tlsh_distance``, ThreatExchange's 30) by a scan
of the stored ``tlsh`` rows (about 1 µs each; TLSH has no index that stays exact). Images whose
PDQ quality is under ``media.PDQ_MIN_QUALITY`` are not matched on PDQ (flat images all look
alike), as ThreatExchange does.

An import is checked all or nothing (one bad row refuses the list, nothing stored), then stored in
transactions of ``BATCH`` rows so the shared SQLite write lock is given back between them (issue
18). Parsing costs about 15 µs a row (360 ms for the 25,000 rows a 1 MB body holds), so the API
runs ``check_list`` in the process pool (``HASH_LANE``); it returns plain tuples, which cross
back in a few milliseconds. Storing is idempotent: known signals are skipped, so a list cut
short by a database failure is completed by importing it again.
"""

from __future__ import annotations

import hashlib
import threading
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import tlsh
from sqlalchemy import func, insert, select
from sqlalchemy.orm import Session

from tocsin.core.db import utcnow
from tocsin.core.offload import Lane
from tocsin.watch import exchange
from tocsin.watch.config import WatchSettings, settings_or_env
from tocsin.watch.exchange import HEADER, MAX_ROWS, HashListTooLarge, check_size
from tocsin.watch.features import normalise
from tocsin.watch.index import HashIndex
from tocsin.watch.models import WatchHash
from tocsin.watch.signals import CATEGORIES, SIGNAL_LENGTHS, Row, Signal, validate_signal

__all__ = ["BATCH", "CATEGORIES", "HASH_LANE", "HEADER", "MAX_ROWS", "SIGNAL_LENGTHS",
           "HashListTooLarge", "Row", "Signal", "check_list", "check_size", "export_list",
           "import_batch", "import_list", "match", "parse_list", "text_hash", "text_tlsh",
           "validate_signal"]

# Rows per transaction: a multi-row insert of 1,000 small rows holds the write lock ~10 ms.
BATCH = 1000
HASH_LANE = Lane("watch.hashes", concurrency=1, waiting=2, timeout_s=30.0, retry_after_s=10)


def text_hash(text: str) -> str:
    """Return the SHA-256 of ``text`` normalised (the ``text_sha256`` signal)."""
    return hashlib.sha256(normalise(text).encode("utf-8")).hexdigest()


def tlsh_of(data: bytes) -> str | None:
    """Return the TLSH of ``data`` (``T1`` + 70 hex digits), or None when TLSH has too little to
    go on (under 50 bytes, or too uniform)."""
    value = str(tlsh.hash(data))
    return None if value == "TNULL" or not value else value


def text_tlsh(text: str) -> str | None:
    """Return the TLSH of ``text``'s UTF-8 bytes as written (as ThreatExchange's ``text_tlsh``:
    a partner hashing the same post gets the same value), or None for a short text."""
    return tlsh_of(text.encode("utf-8"))


def parse_list(text: str, *, default_source: str) -> list[Signal]:
    """Parse a hash list (any layout of ``tocsin.watch.exchange``); refuse it whole on the first
    bad row (nothing stored)."""
    return [Signal(*row) for row in check_list(text, default_source)]


def check_list(text: str, default_source: str) -> list[Row]:
    """Parse a hash list to plain tuples (run in the process pool by the API)."""
    return exchange.check_list(text, default_source)


def import_list(session: Session, signals: Iterable[Signal | Row]) -> int:
    """Add the signals not already known; return how many were added (not committed)."""
    rows = [_row(s) for s in signals]
    return sum(import_batch(session, rows[i:i + BATCH]) for i in range(0, len(rows), BATCH))


def _row(signal: Signal | Row) -> Row:
    if isinstance(signal, Signal):
        return (signal.signal_type, signal.signal, signal.category, signal.source)
    return signal


def import_batch(session: Session, rows: Sequence[Row]) -> int:
    """Add the rows of one batch not already known (one query per signal type, one insert)."""
    fresh: dict[tuple[str, str], Row] = {}
    for row in rows:
        fresh.setdefault((row[0], row[1]), row)
    for signal_type in {key[0] for key in fresh}:
        wanted = [key[1] for key in fresh if key[0] == signal_type]
        for known in session.scalars(select(WatchHash.signal).where(
                WatchHash.signal_type == signal_type, WatchHash.signal.in_(wanted))):
            fresh.pop((signal_type, known), None)
    if fresh:
        now = utcnow()
        session.execute(insert(WatchHash), [
            {"signal_type": t, "signal": v, "category": c, "source": src, "added_at": now}
            for t, v, c, src in fresh.values()])
    return len(fresh)


def export_list(session: Session, layout: str = "tocsin") -> str:
    """Return every known hash as a list in ``layout`` (``exchange.FORMATS``)."""
    rows = session.execute(select(WatchHash.signal_type, WatchHash.signal, WatchHash.category,
                                  WatchHash.source).order_by(WatchHash.id))
    return exchange.write(((t, v, c, src) for t, v, c, src in rows), layout)


@dataclass(frozen=True)
class _Loaded:
    key: tuple[object, ...]
    index: HashIndex | None
    signals: list[str]
    categories: list[str]


class _TypeCache:
    """The stored rows of one signal type, in memory, for each database (one per process).

    Rebuilt when the rows change: ``count``, ``max(id)`` and ``max(added_at)`` say so (rows are
    only added; the time tells apart rows that reuse the ids of rolled-back or emptied ones)."""

    def __init__(self, signal_type: str, indexed: bool) -> None:
        self.signal_type = signal_type
        self.indexed = indexed
        self._loaded: dict[str, _Loaded] = {}
        self._lock = threading.Lock()

    def get(self, session: Session) -> _Loaded:
        where = WatchHash.signal_type == self.signal_type
        key = tuple(session.execute(select(
            func.count(), func.max(WatchHash.id), func.max(WatchHash.added_at)).where(where)).one())
        bind = str(session.get_bind().engine.url)
        loaded = self._loaded.get(bind)
        if loaded is not None and loaded.key == key:
            return loaded
        with self._lock:  # one build at a time; the others wait for it rather than repeat it
            loaded = self._loaded.get(bind)
            if loaded is not None and loaded.key == key:
                return loaded
            rows = session.execute(select(WatchHash.signal, WatchHash.category).where(where)
                                   .order_by(WatchHash.id)).all()
            signals = [r[0] for r in rows]
            index = HashIndex(signals) if self.indexed and signals else None
            loaded = _Loaded(key, index, signals, [r[1] for r in rows])
            self._loaded[bind] = loaded
            return loaded


_PDQ = _TypeCache("pdq", indexed=True)
_TLSH = _TypeCache("tlsh", indexed=False)


def match(session: Session, *, text_sha256: str | None = None, sha256: str | None = None,
          md5: str | None = None, pdq: str | None = None, tlsh_hash: str | None = None,
          distance: int | None = None,
          settings: WatchSettings | None = None) -> list[dict[str, object]]:
    """Return the known hashes that match: exact for the digests, within ``distance`` (else
    the setting) for PDQ, within ``WatchSettings.tlsh_distance`` for TLSH."""
    settings = settings_or_env(settings)
    found: list[dict[str, object]] = []
    exact = [(t, v) for t, v in (("text_sha256", text_sha256), ("sha256", sha256), ("md5", md5))
             if v]
    for signal_type, value in exact:
        for h in session.scalars(select(WatchHash).where(
                WatchHash.signal_type == signal_type, WatchHash.signal == value)):
            found.append({"signal_type": h.signal_type, "signal": h.signal,
                          "category": h.category, "distance": 0})
    if pdq:
        loaded = _PDQ.get(session)
        radius = settings.pdq_distance if distance is None else distance
        if loaded.index is not None:
            for row, d in loaded.index.search(pdq, radius):
                found.append({"signal_type": "pdq", "signal": loaded.signals[row],
                              "category": loaded.categories[row], "distance": d})
    if tlsh_hash:
        loaded = _TLSH.get(session)
        hits = []
        for row, known in enumerate(loaded.signals):
            d = tlsh.diffxlen(known, tlsh_hash)
            if d <= settings.tlsh_distance:
                hits.append((d, row))
        found.extend({"signal_type": "tlsh", "signal": loaded.signals[row],
                      "category": loaded.categories[row], "distance": d}
                     for d, row in sorted(hits))
    return found

