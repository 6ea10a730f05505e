"""Multi-row inserts and the per-file write lock of the hot SQLite writers."""

from __future__ import annotations

import contextlib

import pytest
from sqlalchemy import func, select, text

from tocsin.core import db
from tocsin.core.db import (
    insert_rows,
    make_engine,
    make_sessionmaker,
    session_scope,
    utcnow,
    write_lock,
)
from tocsin.core.outbox import OutboxEvent
from tocsin.core.settings import Settings


def _rows(n: int) -> list[dict[str, object]]:
    now = utcnow()
    return [
        {"id": f"{i:032x}", "subject": "probe.rows", "payload": {"n": i, "text": "secret"},
         "created_at": now, "published_at": None, "attempts": 0, "claimed_by": None,
         "claimed_until": None}
        for i in range(n)
    ]


@pytest.mark.parametrize("cap", [None, 40])  # 40 parameters: 5 rows a statement, many statements
def test_insert_rows_stores_every_row_through_its_column_types(
    settings: Settings, monkeypatch: pytest.MonkeyPatch, cap: int | None
) -> None:
    if cap is not None:
        monkeypatch.setattr(db, "_SQLITE_MAX_PARAMETERS", cap)
    engine = make_engine(settings.resolved_database_url, pool_size=1)
    sessions = make_sessionmaker(engine)
    with session_scope(sessions) as session:
        insert_rows(session, OutboxEvent.__table__, _rows(23))
    with sessions() as session:
        assert session.scalar(select(func.count()).select_from(OutboxEvent)) == 23
        stored = session.get(OutboxEvent, f"{7:032x}")
        assert stored is not None and stored.payload == {"n": 7, "text": "secret"}
        assert stored.created_at.tzinfo is not None
        raw = session.execute(text("SELECT payload FROM outbox_event LIMIT 1")).scalar_one()
        assert b"secret" not in bytes(raw)  # sealed at rest, as through the ORM
    engine.dispose()


def test_write_lock_is_one_per_sqlite_file(tmp_path) -> None:  # type: ignore[no-untyped-def]
    first = make_engine(f"sqlite:///{tmp_path / 'a.db'}")
    again = make_engine(f"sqlite:///{tmp_path / 'a.db'}", durable=False)
    other = make_engine(f"sqlite:///{tmp_path / 'b.db'}")
    memory = make_engine("sqlite://")
    assert write_lock(first) is write_lock(again)
    assert write_lock(first) is not write_lock(other)
    assert isinstance(write_lock(memory), contextlib.nullcontext)
    assert isinstance(write_lock(None), contextlib.nullcontext)
    for engine in (first, again, other, memory):
        engine.dispose()


def test_bulk_batch_commits_under_the_write_lock_and_rolls_back_a_failed_batch(
    settings: Settings,
) -> None:
    from tocsin.core.db import bulk_batch

    engine = make_engine(settings.resolved_database_url, pool_size=1)
    lock = write_lock(engine)
    count = select(func.count()).select_from(OutboxEvent.__table__)
    try:
        with make_sessionmaker(engine)() as session:
            with bulk_batch(session):
                if settings.is_sqlite:  # the SOS writer waits on this lock, not SQLite's sleeps
                    assert lock.locked()  # type: ignore[attr-defined]
                insert_rows(session, OutboxEvent.__table__, _rows(3))
            if settings.is_sqlite:
                assert not lock.locked()  # type: ignore[attr-defined]
            with contextlib.suppress(RuntimeError), bulk_batch(session):
                insert_rows(session, OutboxEvent.__table__, _rows(5)[3:])
                raise RuntimeError("the batch fails")
        with make_sessionmaker(engine)() as session:
            assert session.execute(count).scalar_one() == 3  # committed; the failed one is not
    finally:
        engine.dispose()
