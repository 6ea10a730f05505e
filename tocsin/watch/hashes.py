"""Known-content hashes and hash lists.

Signal types (names follow ThreatExchange / HMA's "signal type" vocabulary where one exists):

- ``text_sha256``: SHA-256 of the normalised text (case, accents, spaces folded), so a re-post
  of a known apology message matches whatever its capitals;
- ``sha256`` and ``md5``: exact hashes of a file (MD5 because existing lists still use it);
- ``dhash``: 64-bit difference hash of an image, matched at a Hamming distance
  (``DEFAULT_DISTANCE``), so a re-encoded or resized copy still matches.

Hash lists travel as CSV with the header ``signal_type,signal,category,source`` (HMA's bank
exports are also one ``signal_type, signal`` pair per row; the extra columns are ours).
"""

from __future__ import annotations

import csv
import hashlib
import io
import re
from collections.abc import Iterable
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from tocsin.core.db import utcnow
from tocsin.core.errors import Invalid
from tocsin.watch.features import normalise
from tocsin.watch.media import hamming
from tocsin.watch.models import WatchHash

SIGNAL_LENGTHS = {"text_sha256": 64, "sha256": 64, "md5": 32, "dhash": 16}
CATEGORIES = frozenset({"hate", "terrorism_apology", "call_to_violence", "other"})
DEFAULT_DISTANCE = 10  # of 64 bits: re-encodings stay within ~4, unrelated images near 32
HEADER = ["signal_type", "signal", "category", "source"]
_HEX = re.compile(r"^[0-9a-f]+$")
MAX_ROWS = 100_000


def text_hash(text: str) -> str:
    """Return the SHA-256 of ``text`` normalised (the ``text_sha256`` signal)."""
    return hashlib.sha256(normalise(text).encode("utf-8")).hexdigest()


@dataclass(frozen=True)
class Signal:
    """One validated row of a hash list."""

    signal_type: str
    signal: str
    category: str
    source: str


def validate_signal(signal_type: str, signal: str, where: str = "signal") -> str:
    """Return ``signal`` lower-cased if it is a well-formed hash of ``signal_type``."""
    length = SIGNAL_LENGTHS.get(signal_type)
    if length is None:
        raise Invalid(f"{where}: unknown signal type {signal_type!r} "
                      f"(expected one of {', '.join(sorted(SIGNAL_LENGTHS))})")
    value = signal.strip().lower()
    if len(value) != length or not _HEX.match(value):
        raise Invalid(f"{where}: a {signal_type} signal is {length} hexadecimal digits")
    return value


def parse_list(text: str, *, default_source: str) -> list[Signal]:
    """Parse a CSV hash list; refuse the whole list on the first bad row (nothing stored)."""
    try:
        return _parse_rows(text, default_source)
    except csv.Error as exc:  # a stray quote or line break inside a field, a NUL...
        raise Invalid(f"hash list is not readable CSV: {exc}") from None


def _parse_rows(text: str, default_source: str) -> list[Signal]:
    # newline="": the csv module handles \r, \n and \r\n itself (and within quoted fields).
    reader = csv.reader(io.StringIO(text, newline=""))
    header = next(reader, None)
    if header is None or [h.strip() for h in header[:2]] != HEADER[:2]:
        raise Invalid("hash list must start with the header signal_type,signal[,category,source]")
    signals: list[Signal] = []
    for number, row in enumerate(reader, start=2):
        if not row or not any(cell.strip() for cell in row):
            continue
        if len(row) < 2:
            raise Invalid(f"line {number}: expected signal_type,signal")
        value = validate_signal(row[0].strip(), row[1], f"line {number}")
        category = row[2].strip() if len(row) > 2 and row[2].strip() else "other"
        if category not in CATEGORIES:
            raise Invalid(f"line {number}: unknown category {category!r}")
        source = (row[3].strip() if len(row) > 3 else "")[:100] or default_source
        signals.append(Signal(row[0].strip(), value, category, source))
        if len(signals) > MAX_ROWS:
            raise Invalid(f"hash list has more than {MAX_ROWS} rows")
    return signals


def import_list(session: Session, signals: Iterable[Signal]) -> int:
    """Add the signals not already known; return how many were added."""
    known = {(h.signal_type, h.signal) for h in session.scalars(select(WatchHash))}
    added = 0
    now = utcnow()
    for sig in signals:
        if (sig.signal_type, sig.signal) in known:
            continue
        known.add((sig.signal_type, sig.signal))
        session.add(WatchHash(signal_type=sig.signal_type, signal=sig.signal,
                              category=sig.category, source=sig.source, added_at=now))
        added += 1
    session.flush()
    return added


def export_list(session: Session) -> str:
    """Return every known hash as a CSV hash list."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(HEADER)
    for h in session.scalars(select(WatchHash).order_by(WatchHash.id)):
        writer.writerow([h.signal_type, h.signal, h.category, h.source])
    return out.getvalue()


def match(session: Session, *, text_sha256: str | None = None, sha256: str | None = None,
          md5: str | None = None, dhash: str | None = None,
          distance: int = DEFAULT_DISTANCE) -> list[dict[str, object]]:
    """Return the known hashes that match: exact for SHA-256/MD5, within ``distance`` for dHash."""
    found: list[dict[str, object]] = []
    exact = [(t, v) for t, v in (("text_sha256", text_sha256), ("sha256", sha256), ("md5", md5))
             if v]
    for signal_type, value in exact:
        for h in session.scalars(select(WatchHash).where(
                WatchHash.signal_type == signal_type, WatchHash.signal == value)):
            found.append({"signal_type": h.signal_type, "signal": h.signal,
                          "category": h.category, "distance": 0})
    if dhash:
        # A linear scan of the dHash list: fine for the tens of thousands a team holds; a
        # multi-index or BK-tree would replace it for millions.
        for h in session.scalars(select(WatchHash).where(WatchHash.signal_type == "dhash")):
            d = hamming(h.signal, dhash)
            if d <= distance:
                found.append({"signal_type": "dhash", "signal": h.signal,
                              "category": h.category, "distance": d})
    return found
