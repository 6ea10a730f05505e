"""Database engine, sessions and the declarative base shared by every domain.

Unit of work: services add and flush but never commit; the HTTP router (or the CLI command, or the
bus consumer) that opened the session commits once, *before* it answers. That is the one place a
transaction ends, so "201 only after commit" is visible in each route.
"""

from __future__ import annotations

import datetime as dt
import os
import sqlite3
import threading
import time
from collections.abc import Iterator
from contextlib import AbstractContextManager, contextmanager, nullcontext
from pathlib import Path
from typing import Any

from sqlalchemy import DateTime, Engine, MetaData, Table, create_engine, event, insert
from sqlalchemy.engine import Dialect, make_url
from sqlalchemy.orm import DeclarativeBase, Session, sessionmaker
from sqlalchemy.types import TypeDecorator

from tocsin.core.sqlite_plain import FileWriteLock, InsertSql, sqlite_inserts

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    """Base of every table; the naming convention keeps Alembic migrations stable."""

    metadata = MetaData(naming_convention=NAMING_CONVENTION)


def utcnow() -> dt.datetime:
    """Return the current time, timezone-aware in UTC."""
    return dt.datetime.now(dt.UTC)


class UTCDateTime(TypeDecorator[dt.datetime]):
    """A timestamp stored in UTC and always read back timezone-aware.

    SQLite has no time zones and returns naive datetimes; PostgreSQL returns aware ones. Code that
    compares deadlines (escalation, TCO one-hour orders, expiry) must never mix the two.
    """

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: dt.datetime | None, dialect: Dialect) -> dt.datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given where UTC is required")
        value = value.astimezone(dt.UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(
        self, value: dt.datetime | None, dialect: Dialect
    ) -> dt.datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=dt.UTC) if value.tzinfo is None else value.astimezone(dt.UTC)


def sqlite_pragmas(*, durable: bool = True) -> list[str]:
    """The statements every SQLite connection of Tocsin starts with (also the SOS writer
    process's, which opens its connection without SQLAlchemy: ``tocsin.sos.writer_child``)."""
    # WAL lets readers run beside the writer; synchronous=FULL makes every commit durable: the
    # WAL is fsynced before COMMIT returns (NORMAL in WAL mode may lose the last commits on
    # power loss: an acknowledged SOS must not).
    return [
        "PRAGMA journal_mode=WAL",
        "PRAGMA synchronous=FULL" if durable else "PRAGMA synchronous=NORMAL",
        "PRAGMA foreign_keys=ON",
        "PRAGMA busy_timeout=10000",
    ]


def _sqlite_pragmas(dbapi_connection: Any, _record: Any, *, durable: bool = True) -> None:
    cursor = dbapi_connection.cursor()
    for statement in sqlite_pragmas(durable=durable):
        cursor.execute(statement)
    cursor.close()


def _sqlite_pragmas_relaxed(dbapi_connection: Any, record: Any) -> None:
    _sqlite_pragmas(dbapi_connection, record, durable=False)


def make_engine(url: str, *, pool_size: int = 10, durable: bool = True) -> Engine:
    """Create the engine for ``url``: SQLite in WAL mode, or a pooled PostgreSQL engine.

    ``durable=False`` (SQLite only; ignored for PostgreSQL) commits without fsync
    (``synchronous=NORMAL``): a commit may be lost on power loss, never the database's
    integrity, and never a commit made through a durable engine (its fsync covers the WAL up to
    it). Only for bookkeeping whose loss is harmless, such as the outbox relay's
    claimed/published marks (the event is published again; consumers drop duplicates).
    """
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        if parsed.database and parsed.database != ":memory:":
            Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(
            url, connect_args={"check_same_thread": False, "timeout": 10}, pool_size=pool_size
        )
        event.listen(engine, "connect", _sqlite_pragmas if durable else _sqlite_pragmas_relaxed)
        return engine
    return create_engine(
        url, pool_size=pool_size, max_overflow=pool_size, pool_pre_ping=True, pool_timeout=10
    )


_WRITE_LOCKS: dict[str, FileWriteLock] = {}
_WRITE_LOCKS_GUARD = threading.Lock()


def write_lock(engine: Engine | None) -> AbstractContextManager[Any]:
    """The lock the busiest writers of one SQLite file take around a transaction.

    Why: SQLite has one writer at a time and makes the others poll, sleeping 1, 2, 5, 10 ms and
    more between tries. The SOS group commit and the outbox relay's marks, both written several
    times a second under load, were measured spending most of their waits in those sleeps
    (py-spy); a writer waiting on this lock wakes as soon as the other commits, in this process
    or another (``tocsin.core.sqlite_plain.FileWriteLock``). Other writers keep SQLite's own
    wait (``busy_timeout``). PostgreSQL and in-memory SQLite: no lock.
    """
    if not isinstance(engine, Engine):
        return nullcontext()
    database = engine.url.database
    if engine.dialect.name != "sqlite" or not database or database == ":memory:":
        return nullcontext()
    path = os.path.abspath(database)
    with _WRITE_LOCKS_GUARD:
        return _WRITE_LOCKS.setdefault(path, FileWriteLock(path))


#: How long a bulk job waits after each batch before taking the write lock again.
BULK_BREATH_S = 0.005


@contextmanager
def bulk_batch(session: Session) -> Iterator[Session]:
    """One batch of a bulk job (an import, a purge, a rebuild): written, committed, let go.

    Why: on SQLite the SOS writer and every bulk job share one writer slot. A bulk writer that
    does not take the process's ``write_lock`` makes the SOS writer fall back on SQLite's own
    wait, which sleeps 1, 2, 5, 10... up to 100 ms between tries even once the file is free
    (SOS answers held half a second beside a TAXII import). Under the lock the SOS writer wakes
    as soon as the batch commits; the short pause after it lets the SOS writer take the lock
    before the job's next batch does (a ``threading.Lock`` is not first come, first served).
    The block's exception rolls the batch back and propagates. PostgreSQL: a commit per batch.
    """
    lock = write_lock(session.get_bind())  # type: ignore[arg-type]
    try:
        with lock:
            yield session
            session.commit()
    except BaseException:
        session.rollback()
        raise
    if not isinstance(lock, nullcontext):
        time.sleep(BULK_BREATH_S)


# SQLite's cap on the parameters of one statement (SQLITE_MAX_VARIABLE_NUMBER; 999 before 3.32).
_SQLITE_MAX_PARAMETERS = 32766 if sqlite3.sqlite_version_info >= (3, 32) else 999


def insert_rows(session: Session, table: Table, rows: list[dict[str, Any]]) -> None:
    """INSERT ``rows`` (dicts with a value for every column) in the session's transaction.

    On SQLite: one multi-row statement per chunk, each value through its column type's bind
    processing (sealing, UTC) as in any insert. Why: Python's ``sqlite3`` runs ``executemany``
    one row at a time and lets go of the GIL around each row; on the SOS path the writer thread
    then waited, after every row, for the event loop to hand the GIL back (py-spy: about a third
    of the writer's time). One statement lets go once. Elsewhere: a Core ``executemany``.
    """
    if not rows:
        return
    connection = session.connection()
    dialect = connection.dialect
    if dialect.name != "sqlite":
        session.execute(insert(table), rows)
        return
    for statement, values in sqlite_inserts(sqlite_insert_sql(dialect, table),
                                            encode_rows(dialect, table, rows)):
        connection.exec_driver_sql(statement, values)


def encode_rows(
    dialect: Dialect, table: Table, rows: list[dict[str, Any]]
) -> list[tuple[Any, ...]]:
    """SQLite: each row of ``rows`` as the tuple ``sqlite_inserts`` binds, in column order,
    each value through its column type's bind processing (sealing with the keyring attached to
    ``dialect``'s engine, UTC).

    Apart from ``insert_rows`` so the CPU of sealing and encoding can run where the transaction
    does not (the SOS writer process takes encoded rows: ``tocsin.sos.writer``).
    """
    _sql, processors = _sqlite_insert(table, dialect)
    return [
        tuple(process(row[name]) if process is not None else row[name]
              for name, process in processors)
        for row in rows
    ]


def sqlite_insert_sql(dialect: Dialect, table: Table) -> InsertSql:
    """The multi-row INSERT of ``table`` on SQLite (what ``sqlite_inserts`` fills)."""
    return _sqlite_insert(table, dialect)[0]


# The statements and bind processors are kept on the dialect object itself, one per engine:
# a processor closes over its dialect, and a sealed column's processor finds the worker's keyring
# there (``tocsin.core.seal.attach``). A cache per dialect *name* handed every engine the first
# engine's processors, so a second worker in the process (tests) sealed with the first's key.
_INSERTS_ATTR = "tocsin_sqlite_inserts"


def _sqlite_insert(table: Table, dialect: Dialect) -> tuple[InsertSql, list[tuple[str, Any]]]:
    inserts: dict[Table, tuple[InsertSql, list[tuple[str, Any]]]] | None = getattr(
        dialect, _INSERTS_ATTR, None
    )
    if inserts is None:
        inserts = {}
        setattr(dialect, _INSERTS_ATTR, inserts)
    cached = inserts.get(table)
    if cached is None:
        quote = dialect.identifier_preparer.quote
        names = ", ".join(quote(column.name) for column in table.columns)
        head = f"INSERT INTO {dialect.identifier_preparer.format_table(table)} ({names})"
        row = "(" + ", ".join("?" for _ in table.columns) + ")"
        processors = [(c.name, c.type.bind_processor(dialect)) for c in table.columns]
        per_statement = max(1, _SQLITE_MAX_PARAMETERS // len(processors))
        cached = inserts[table] = (InsertSql(head, row, per_statement), processors)
    return cached


def make_sessionmaker(engine: Engine) -> sessionmaker[Session]:
    """Return the session factory; objects stay readable after commit for building responses."""
    return sessionmaker(bind=engine, expire_on_commit=False)


@contextmanager
def session_scope(factory: sessionmaker[Session]) -> Iterator[Session]:
    """Open a session for a job outside HTTP (CLI, bus consumer); commits on success."""
    session = factory()
    try:
        yield session
        session.commit()
    except BaseException:
        session.rollback()
        raise
    finally:
        session.close()
