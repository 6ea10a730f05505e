"""CSV that a spreadsheet opens as data, never as formulas (CSV/formula injection, issue 19).

A spreadsheet (Excel, LibreOffice, Google Sheets) runs a cell that starts with ``=``, ``+``,
``-`` or ``@`` (or a tab or carriage return before one) as a formula: a text someone else wrote
(a hash list's ``source``, a platform's name in a breakdown) could then compute, fetch a URL or
run a command on the analyst's machine. Every CSV that Tocsin writes goes through ``writer``
here, which prefixes such a **text** cell with a single quote, as OWASP recommends.

Numbers are left as they are: an ``int``, ``float`` or ``Decimal`` cell (a count, a mean, a
negative value) is written as the number it is, since a spreadsheet reads ``-3`` as the number
-3, not a formula. Only ``str`` cells are neutralised, so a string that looks like a negative
number (``"-3"``) gets its quote too: writers pass numbers as numbers.

The quote is part of the cell: a neutralised list imported back (a watch hash list's ``source``)
keeps it, which is the price of opening safely everywhere.
"""

from __future__ import annotations

import csv
from collections.abc import Iterable
from typing import Any, Protocol

# OWASP's list: https://owasp.org/www-community/attacks/CSV_Injection
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


class _Writable(Protocol):
    def write(self, s: str, /) -> Any: ...


def cell(value: object) -> object:
    """Return ``value`` safe for a CSV cell: text that would start a formula gets a ``'``."""
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return "'" + value
    return value


def row(values: Iterable[object]) -> list[object]:
    """Return the cells of one row, each through ``cell``."""
    return [cell(v) for v in values]


class SafeWriter:
    """``csv.writer`` whose rows are neutralised cell by cell (see the module docstring)."""

    def __init__(self, out: _Writable, **fmt: Any) -> None:
        self._writer = csv.writer(out, **fmt)

    def writerow(self, values: Iterable[object]) -> None:
        self._writer.writerow(row(values))

    def writerows(self, rows: Iterable[Iterable[object]]) -> None:
        for values in rows:
            self.writerow(values)


def writer(out: _Writable, **fmt: Any) -> SafeWriter:
    """Return a CSV writer on ``out`` (arguments as ``csv.writer``) that neutralises formulas."""
    return SafeWriter(out, **fmt)
