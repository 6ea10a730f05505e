"""Hash lists in the layouts ThreatExchange and HMA write and read (and our own CSV).

Import recognises the layout from the text itself:

- ``tocsin`` CSV, header ``signal_type,signal[,category,source]`` (ours; ``export_list``);
- ``te-csv``: what ``threatexchange dataset --print-signals --csv`` writes, header
  ``signal_type,signal_str,collab,category,tags``. ``category`` is ThreatExchange's opinion
  (``POSITIVE_CLASS``, ``INVESTIGATION_SEED``, ``NEGATIVE_CLASS``): a ``NEGATIVE_CLASS`` row says
  the content is *not* of the harmful class, so it is skipped; ``collab`` becomes the source; a
  tag that names one of our categories gives the category, else ``other``;
- ``te-txt``: one ``signal_type signal`` per line, what ``threatexchange hash`` prints and what
  its local-file exchange (``LocalFileSignalExchangeAPI``) reads and appends to;
- ``hma-json``: a JSON object keyed by signal type (HMA's ``GET /h/hash`` answer and the body
  of ``POST /c/bank/<bank>/signal``, whose ``note`` is read back for our category), an object
  with such a ``signals`` key (HMA's bank content), or an array of any of these.

Signal-type names are ThreatExchange's or ours (``tocsin.watch.signals``). Every layout goes
through the same checks as before: all or nothing, at most ``MAX_ROWS`` rows, a bad row named by
its line (or its position in the JSON array).

Export writes each layout back; ``text_sha256`` is ours only and is left out of theirs (their
tools refuse an unknown signal type). Text cells go through ``tocsin.core.csvsafe`` (a partner's
``source`` starting with ``=`` does not run as a formula in a spreadsheet).
"""

from __future__ import annotations

import csv
import io
import json
import re
from collections.abc import Iterable, Iterator
from typing import Any

from tocsin.core import csvsafe
from tocsin.core.errors import Invalid, TooLarge
from tocsin.watch.signals import (
    CATEGORIES,
    EXCHANGE_NAMES,
    Row,
    canonical_type,
    validate_signal,
)

HEADER = ["signal_type", "signal", "category", "source"]
TE_CSV_HEADER = ["signal_type", "signal_str", "collab", "category", "tags"]
FORMATS = ("tocsin", "te-csv", "te-txt", "hma-json")
# What one request can carry: the 1 MB body limit holds 12,000 to 27,000 rows; a larger list
# is sent in parts. Counted (lines, or JSON commas) before any parsing.
MAX_ROWS = 20_000
# HMA refuses a note longer than this (curation._validate_note).
HMA_NOTE_MAX = 255
_NOTE = re.compile(r"category=(\w+)(?:; source=(.*))?$")


class HashListTooLarge(TooLarge):
    pass


def check_size(text: str) -> None:
    """Refuse (413, naming ``MAX_ROWS``) a list with more lines than rows allowed, unparsed."""
    lines = text.count("\n") + 1 - text.endswith("\n")
    if text.lstrip()[:1] in ("[", "{"):  # JSON may sit on one line: count its objects
        lines = max(lines, text.count("{"))
    if lines > MAX_ROWS + 1:  # the header
        raise HashListTooLarge(
            f"hash list has {lines - 1} lines after its header; at most {MAX_ROWS} rows per "
            f"import (send a longer list in parts)",
            details={"limit": "max_rows", "max": MAX_ROWS, "got": lines - 1})


def detect(text: str) -> str:
    """Return the layout of ``text`` (one of ``FORMATS``)."""
    start = text.lstrip("\ufeff \t\r\n")
    if start[:1] in ("[", "{"):
        return "hma-json"
    first = start.split("\n", 1)[0].strip().replace(" ", "")
    if first.startswith("signal_type,signal_str"):
        return "te-csv"
    if first.startswith("signal_type,signal") or "," in first or not first:
        return "tocsin"  # a comma-separated header we do not know is refused there, by name
    return "te-txt"


def check_list(text: str, default_source: str) -> list[Row]:
    """Parse a hash list of any known layout to plain tuples (cheap to send back from the
    process pool); refuse the whole list on the first bad row."""
    check_size(text)
    layout = detect(text)
    try:
        if layout == "hma-json":
            rows = _hma_rows(text, default_source)
        elif layout == "te-txt":
            rows = _te_txt_rows(text, default_source)
        else:
            rows = _csv_rows(text, default_source)
    except csv.Error as exc:  # a stray quote or line break inside a field, a NUL...
        raise Invalid(f"hash list is not readable CSV: {exc}") from None
    if len(rows) > MAX_ROWS:
        raise Invalid(f"hash list has more than {MAX_ROWS} rows")
    return rows


class _Rows:
    """Collects validated rows; one string object per distinct source (pickled once)."""

    def __init__(self) -> None:
        self.rows: list[Row] = []
        self._shared: dict[str, str] = {}

    def add(self, where: str, signal_type: str, signal: str, category: str,
            source: str) -> None:
        kind = canonical_type(signal_type, where)
        value = validate_signal(kind, signal, where)
        if category not in CATEGORIES:
            raise Invalid(f"{where}: unknown category {category!r}")
        source = source[:100]
        self.rows.append((kind, value, category, self._shared.setdefault(source, source)))
        if len(self.rows) > MAX_ROWS:
            raise Invalid(f"hash list has more than {MAX_ROWS} rows")


def _csv_rows(text: str, default_source: str) -> list[Row]:
    # newline="": the csv module handles \r, \n and \r\n itself (and within quoted fields).
    reader = csv.reader(io.StringIO(text.lstrip("\ufeff"), newline=""))
    header = [h.strip() for h in next(reader, None) or []]
    te = header[:2] == TE_CSV_HEADER[:2]
    if not te and header[:2] != HEADER[:2]:
        raise Invalid("hash list must start with the header signal_type,signal[,category,source]"
                      " (ours) or signal_type,signal_str,collab,category,tags (ThreatExchange)")
    out = _Rows()
    for number, row in enumerate(reader, start=2):
        if not row or not any(cell.strip() for cell in row):
            continue
        if len(row) < 2:
            raise Invalid(f"line {number}: expected signal_type,signal")
        cells = [c.strip() for c in row] + [""] * 3
        if te:
            if cells[3] == "NEGATIVE_CLASS":
                continue
            category = next((t for t in cells[4].split() if t in CATEGORIES), "other")
            source = cells[2] or default_source
        else:
            category = cells[2] or "other"
            source = cells[3] or default_source
        out.add(f"line {number}", cells[0], cells[1], category, source)
    return out.rows


def _te_txt_rows(text: str, default_source: str) -> list[Row]:
    out = _Rows()
    for number, line in enumerate(text.lstrip("\ufeff").splitlines(), start=1):
        if not line.strip():
            continue
        parts = line.split()
        if len(parts) < 2:
            raise Invalid(f"line {number}: expected 'signal_type signal' (ThreatExchange's "
                          f"one-per-line layout)")
        out.add(f"line {number}", parts[0], parts[1], "other", default_source)
    return out.rows


def _hma_rows(text: str, default_source: str) -> list[Row]:
    try:
        data = json.loads(text)
    except (json.JSONDecodeError, RecursionError) as exc:
        raise Invalid(f"hash list is not readable JSON: {exc}") from None
    items = data if isinstance(data, list) else [data]
    out = _Rows()
    for number, item in enumerate(items):
        where = f"item {number}" if isinstance(data, list) else "object"
        if not isinstance(item, dict):
            raise Invalid(f"{where}: expected an object of signal_type: signal")
        signals = item.get("signals", item)
        if not isinstance(signals, dict) or not signals:
            raise Invalid(f"{where}: no signals")
        category, source = _read_note(item.get("note"), default_source)
        for key, value in signals.items():
            if key in ("note", "metadata", "id", "bank"):
                continue
            if not isinstance(value, str):
                raise Invalid(f"{where}: the {key} signal must be a string")
            out.add(where, str(key), value, category, source)
    return out.rows


def _read_note(note: Any, default_source: str) -> tuple[str, str]:
    """Read back the category (and source) our HMA export wrote in a bank signal's note."""
    match = _NOTE.search(note) if isinstance(note, str) else None
    if match is None or match.group(1) not in CATEGORIES:
        return "other", default_source
    return match.group(1), (match.group(2) or "").strip() or default_source


def write(rows: Iterable[Row], layout: str = "tocsin") -> str:
    """Return ``rows`` (signal_type, signal, category, source) in ``layout``."""
    if layout not in FORMATS:
        raise Invalid(f"unknown hash-list format {layout!r} (expected one of "
                      f"{', '.join(FORMATS)})")
    out = io.StringIO()
    if layout == "hma-json":
        out.write("[")
        for n, (kind, value, category, source) in enumerate(_theirs(rows)):
            note = f"category={category}; source={source}"[:HMA_NOTE_MAX]
            out.write(("," if n else "") + "\n" + json.dumps({kind: value, "note": note}))
        out.write("\n]\n")
        return out.getvalue()
    if layout == "te-txt":
        out.writelines(f"{kind} {value}\n" for kind, value, _, _ in _theirs(rows))
        return out.getvalue()
    writer = csvsafe.writer(out, lineterminator="\n")
    if layout == "te-csv":
        writer.writerow(TE_CSV_HEADER)
        for kind, value, category, source in _theirs(rows):
            writer.writerow([kind, value, source, "POSITIVE_CLASS", category])
    else:
        writer.writerow(HEADER)
        writer.writerows(rows)
    return out.getvalue()


def _theirs(rows: Iterable[Row]) -> Iterator[Row]:
    for kind, value, category, source in rows:
        if kind in EXCHANGE_NAMES:
            yield EXCHANGE_NAMES[kind], value, category, source
