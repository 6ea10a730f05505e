"""Multi-row SQLite INSERTs as plain data: what both the engine's writers and the SOS writer
process (which runs without SQLAlchemy, ``tocsin.sos.writer_child``) execute.

Standard library only, so the writer process starts in a few tens of milliseconds.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any, NamedTuple


class InsertSql(NamedTuple):
    """A multi-row SQLite INSERT: its head, one row's placeholders, rows per statement."""

    head: str
    row: str
    per_statement: int


def sqlite_inserts(
    sql: InsertSql, rows: list[tuple[Any, ...]]
) -> Iterator[tuple[str, tuple[Any, ...]]]:
    """The statements (SQL, parameters) inserting ``rows`` with ``sql``, a chunk each."""
    for start in range(0, len(rows), sql.per_statement):
        chunk = rows[start : start + sql.per_statement]
        placeholders = ", ".join([sql.row] * len(chunk))
        yield f"{sql.head} VALUES {placeholders}", tuple(value for row in chunk for value in row)
