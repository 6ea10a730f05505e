"""Database engine, sessions and the declarative base shared by every domain.

Unit of work: services add and flush but never commit; the HTTP router (or the CLI command, or the
bus consumer) that opened the session commits once, *before* it answers. That is the one place a
transaction ends, so "201 only after commit" is visible in each route.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from sqlalchemy import DateTime, Engine, MetaData, create_engine, event
from sqlalchemy.engine import Dialect, make_url
from sqlalchemy.orm import DeclarativeBase, Session, sessionmaker
from sqlalchemy.types import TypeDecorator

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


def _sqlite_pragmas(dbapi_connection: Any, _record: Any, *, durable: bool = True) -> None:
    # WAL lets readers run beside the writer; synchronous=FULL makes every commit durable: the
    # WAL is fsynced before COMMIT returns (NORMAL in WAL mode may lose the last commits on
    # power loss: an acknowledged SOS must not).
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=FULL" if durable else "PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA busy_timeout=10000")
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
