"""Known-content hashes and hash lists.

Signal types (names follow ThreatExchange / HMA's "signal type" vocabulary where one exists):

- ``text_sha256``: SHA-256 of the normalised text (case, accents, spaces folded), so a re-post
  of a known apology message matches whatever its capitals;
- ``sha256`` and ``md5``: exact hashes of a file (MD5 because existing lists still use it);
- ``dhash``: 64-bit difference hash of an image, matched at a Hamming distance
  (``DEFAULT_DISTANCE``), so a re-encoded or resized copy still matches.

Hash lists travel as CSV with the header ``signal_type,signal,category,source`` (HMA's bank
exports are also one ``signal_type, signal`` pair per row; the extra columns are ours).

An import is checked all or nothing (one bad row refuses the list, nothing stored), then stored in
transactions of ``BATCH`` rows so the shared SQLite write lock is given back between them (issue
18). Parsing costs about 15 µs a row (360 ms for the 25,000 rows a 1 MB body holds), so the API
runs ``check_list`` in the process pool (``HASH_LANE``); it returns plain tuples, which cross
back in a few milliseconds. Storing is idempotent: known signals are skipped, so a list cut
short by a database failure is completed by importing it again.
"""

from __future__ import annotations

import csv
import hashlib
import io
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from sqlalchemy import insert, select
from sqlalchemy.orm import Session

from tocsin.core import csvsafe
from tocsin.core.db import utcnow
from tocsin.core.errors import Invalid, TooLarge
from tocsin.core.offload import Lane
from tocsin.watch.features import normalise
from tocsin.watch.media import hamming
from tocsin.watch.models import WatchHash

SIGNAL_LENGTHS = {"text_sha256": 64, "sha256": 64, "md5": 32, "dhash": 16}
CATEGORIES = frozenset({"hate", "terrorism_apology", "call_to_violence", "other"})
DEFAULT_DISTANCE = 10  # of 64 bits: re-encodings stay within ~4, unrelated images near 32
HEADER = ["signal_type", "signal", "category", "source"]
_HEX = re.compile(r"^[0-9a-f]+$")
# What one request can carry: the 1 MB body limit holds 12,000 to 27,000 rows; a larger list
# is sent in parts. Counted (lines) before any parsing.
MAX_ROWS = 20_000
# Rows per transaction: a multi-row insert of 1,000 small rows holds the write lock ~10 ms.
BATCH = 1000
HASH_LANE = Lane("watch.hashes", concurrency=1, waiting=2, timeout_s=30.0, retry_after_s=10)

Row = tuple[str, str, str, str]  # signal_type, signal, category, source


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


class HashListTooLarge(TooLarge):
    pass


def check_size(text: str) -> None:
    """Refuse (413, naming ``MAX_ROWS``) a list with more lines than rows allowed, unparsed."""
    lines = text.count("\n") + 1 - text.endswith("\n")
    if lines > MAX_ROWS + 1:  # the header
        raise HashListTooLarge(
            f"hash list has {lines - 1} lines after its header; at most {MAX_ROWS} rows per "
            f"import (send a longer list in parts)",
            details={"limit": "max_rows", "max": MAX_ROWS, "got": lines - 1})


def parse_list(text: str, *, default_source: str) -> list[Signal]:
    """Parse a CSV hash list; refuse the whole list on the first bad row (nothing stored)."""
    return [Signal(*row) for row in check_list(text, default_source)]


def check_list(text: str, default_source: str) -> list[Row]:
    """Parse a CSV hash list to plain tuples (cheap to send back from the process pool)."""
    check_size(text)
    try:
        return _parse_rows(text, default_source)
    except csv.Error as exc:  # a stray quote or line break inside a field, a NUL...
        raise Invalid(f"hash list is not readable CSV: {exc}") from None


def _parse_rows(text: str, default_source: str) -> list[Row]:
    # newline="": the csv module handles \r, \n and \r\n itself (and within quoted fields).
    reader = csv.reader(io.StringIO(text, newline=""))
    header = next(reader, None)
    if header is None or [h.strip() for h in header[:2]] != HEADER[:2]:
        raise Invalid("hash list must start with the header signal_type,signal[,category,source]")
    signals: list[Row] = []
    shared: dict[str, str] = {}  # one string object per distinct source: pickled once
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
        source = shared.setdefault(source, source)
        signals.append((row[0].strip(), value, category, source))
        if len(signals) > MAX_ROWS:
            raise Invalid(f"hash list has more than {MAX_ROWS} rows")
    return signals


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


def export_list(session: Session) -> str:
    """Return every known hash as a CSV hash list (text cells that would start a formula in a
    spreadsheet, e.g. a partner's ``source``, get a leading ``'``: ``tocsin.core.csvsafe``)."""
    out = io.StringIO()
    writer = csvsafe.writer(out, lineterminator="\n")
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
        for signal, category in session.execute(select(
                WatchHash.signal, WatchHash.category).where(WatchHash.signal_type == "dhash")):
            d = hamming(signal, dhash)
            if d <= distance:
                found.append({"signal_type": "dhash", "signal": signal,
                              "category": category, "distance": d})
    return found
