"""Re-sealing every sealed field under a new key, online, in batches, resumably.

The sealed columns are found in the SQLAlchemy metadata (every ``SealedText``/``SealedJSON``
column of every table), never in a hand-kept list, so a domain that adds one is covered.

Why it needs no downtime: workers read with the current key *and* every key of
``TOCSIN_SEAL_OLD_KEYS``, so while values are re-sealed a row may be under either key and still
reads. Why it is resumable: a value already under the target key is skipped (its key id is in
the clear in its header), each batch commits on its own, and a value changed by a worker between
our read and our write is left alone (the UPDATE compares the old bytes) for the next run.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field

from sqlalchemy import (
    Column,
    Engine,
    LargeBinary,
    MetaData,
    Table,
    and_,
    bindparam,
    func,
    select,
    tuple_,
    type_coerce,
)
from sqlalchemy.sql.elements import ColumnElement

from tocsin.core.seal import SealedJSON, SealedText, Sealer, SealError, key_id_of_blob


@dataclass(frozen=True)
class SealedColumn:
    """One sealed column: its table, the column, and the context its values are bound to."""

    table: Table
    column: Column[object]

    @property
    def name(self) -> str:
        return f"{self.table.name}.{self.column.name}"

    @property
    def context(self) -> str:
        sealed_type = self.column.type
        assert isinstance(sealed_type, SealedText | SealedJSON)
        return sealed_type.context


def sealed_columns(metadata: MetaData) -> list[SealedColumn]:
    """Return every sealed column of every table in ``metadata``, in a stable order."""
    found = []
    for table in metadata.sorted_tables:
        for column in table.columns:
            if isinstance(column.type, SealedText | SealedJSON):
                found.append(SealedColumn(table, column))
    return found


@dataclass
class ColumnReport:
    """What one pass did to one column."""

    name: str
    resealed: int = 0
    already: int = 0
    changed_meanwhile: int = 0
    unreadable: int = 0
    left: int = 0


@dataclass
class RotationReport:
    columns: list[ColumnReport] = field(default_factory=list)

    @property
    def resealed(self) -> int:
        return sum(c.resealed for c in self.columns)

    @property
    def left(self) -> int:
        """Values still under another key after the pass (written meanwhile, or unreadable)."""
        return sum(c.left for c in self.columns)

    @property
    def unreadable(self) -> int:
        return sum(c.unreadable for c in self.columns)


def _raw(column: Column[object]) -> ColumnElement[bytes]:
    # The raw stored bytes, bypassing the type's own sealing/opening.
    return type_coerce(column, LargeBinary)


def _not_under(column: Column[object], key_id: bytes) -> ColumnElement[bool]:
    # Header: 1 version byte, then the 4-byte key id (tocsin.core.seal). substr() on bytes
    # exists in SQLite and PostgreSQL alike; positions are 1-based.
    return and_(
        column.is_not(None),
        func.substr(_raw(column), 2, 4) != bindparam("kid", key_id, type_=LargeBinary),
    )


def count_left(engine: Engine, sealed: SealedColumn, key_id: bytes) -> int:
    """Count values of ``sealed`` not under the key ``key_id``."""
    with engine.connect() as conn:
        return int(conn.scalar(
            select(func.count()).select_from(sealed.table)
            .where(_not_under(sealed.column, key_id))
        ) or 0)


def _batches(
    engine: Engine, sealed: SealedColumn, key_id: bytes, batch_size: int
) -> Iterator[list[tuple[tuple[object, ...], bytes]]]:
    """Yield (primary key, raw value) pairs still to re-seal, by keyset pagination on the key."""
    pk = list(sealed.table.primary_key.columns)
    key_expr = pk[0] if len(pk) == 1 else tuple_(*pk)
    last: tuple[object, ...] | None = None
    while True:
        query = select(*pk, _raw(sealed.column)).where(_not_under(sealed.column, key_id))
        if last is not None:
            query = query.where(key_expr > (last[0] if len(pk) == 1 else tuple_(*last)))
        query = query.order_by(*pk).limit(batch_size)
        with engine.connect() as conn:
            rows = [(tuple(r[:-1]), bytes(r[-1])) for r in conn.execute(query)]
        if not rows:
            return
        yield rows
        last = rows[-1][0]


def rotate_column(
    engine: Engine,
    sealed: SealedColumn,
    sealer: Sealer,
    *,
    batch_size: int = 500,
    advance: Callable[[int], None] = lambda n: None,
) -> ColumnReport:
    """Re-seal every value of one column not yet under ``sealer``'s current key."""
    report = ColumnReport(sealed.name)
    target = sealer.current_key_id
    pk = list(sealed.table.primary_key.columns)
    statement = (
        sealed.table.update()
        .where(*(c == bindparam(f"pk_{i}") for i, c in enumerate(pk)))
        .where(_raw(sealed.column) == bindparam("old", type_=LargeBinary))
        .values({sealed.column.name: bindparam("new", type_=LargeBinary)})
    )
    for rows in _batches(engine, sealed, target, batch_size):
        params = []
        for key, blob in rows:
            if key_id_of_blob(blob) == target:
                report.already += 1
                continue
            try:
                plain = sealer.open(blob, sealed.context)
            except SealError:
                report.unreadable += 1
                continue
            new = sealer.seal(plain, sealed.context)
            params.append({**{f"pk_{i}": v for i, v in enumerate(key)}, "old": blob, "new": new})
        if params:
            with engine.begin() as conn:
                result = conn.execute(statement, params)
                # Where the driver sums rowcounts over executemany (SQLite, psycopg) we know how
                # many compare-and-set updates missed; the final count of what is left under
                # other keys is exact either way.
                done = result.rowcount
                if not engine.dialect.supports_sane_multi_rowcount or done < 0:
                    done = len(params)
                report.resealed += done
                report.changed_meanwhile += len(params) - done
        advance(len(rows))
    report.left = count_left(engine, sealed, target)
    return report


def rotate(
    engine: Engine,
    metadata: MetaData,
    sealer: Sealer,
    *,
    batch_size: int = 500,
    on_column: Callable[[SealedColumn, int], Callable[[int], None]] | None = None,
) -> RotationReport:
    """Re-seal every sealed column of ``metadata`` under ``sealer``'s current key.

    ``on_column(column, pending)`` is called before each column and returns the callback that
    advances a progress display by the number of rows handled.
    """
    report = RotationReport()
    for sealed in sealed_columns(metadata):
        pending = count_left(engine, sealed, sealer.current_key_id)
        advance = on_column(sealed, pending) if on_column else (lambda n: None)
        report.columns.append(
            rotate_column(engine, sealed, sealer, batch_size=batch_size, advance=advance)
        )
    return report
