"""The audit log is a hash chain that ``tocsin audit verify`` walks (issue 19, finding 16).

The SQLite triggers refused UPDATE and DELETE but ``INSERT OR REPLACE`` on an existing id went
through (REPLACE deletes without firing DELETE triggers unless ``recursive_triggers`` is on). Now
a BEFORE INSERT trigger refuses it, and any change made behind the triggers' back (dropped
triggers, an edited file) breaks the chain, which the CLI reports with a non-zero exit.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator

import pytest
from alembic import command
from sqlalchemy import Engine, text
from sqlalchemy.exc import DBAPIError
from typer.testing import CliRunner

from tocsin.cli import app
from tocsin.core import audit
from tocsin.core.db import make_engine, make_sessionmaker, session_scope
from tocsin.core.migrate import alembic_config, upgrade
from tocsin.core.settings import Settings, get_settings

runner = CliRunner()


@pytest.fixture
def engine(settings: Settings, monkeypatch: pytest.MonkeyPatch) -> Iterator[Engine]:
    monkeypatch.setenv("TOCSIN_DATABASE_URL", settings.resolved_database_url)
    monkeypatch.setenv("TOCSIN_VAR_DIR", str(settings.var_dir))
    get_settings.cache_clear()
    made = make_engine(settings.resolved_database_url, pool_size=4)
    yield made
    made.dispose()
    get_settings.cache_clear()


def _write(engine: Engine, count: int, actor: str = "system:test") -> None:
    for n in range(count):
        with session_scope(make_sessionmaker(engine)) as session:
            audit.record(session, actor=actor, action="probe", object_type="x", object_id=n,
                         reason=f"entry {n}")


def _behind_the_triggers(engine: Engine, statement: str) -> None:
    """Change the log as someone holding the database file or an owner's login could."""
    with engine.begin() as conn:
        if engine.dialect.name == "postgresql":
            conn.execute(text("ALTER TABLE audit_entry DISABLE TRIGGER USER"))
            conn.execute(text(statement))
            conn.execute(text("ALTER TABLE audit_entry ENABLE TRIGGER USER"))
        else:
            conn.execute(text("DROP TRIGGER audit_entry_no_update"))
            conn.execute(text("DROP TRIGGER audit_entry_no_delete"))
            conn.execute(text(statement))


def test_insert_or_replace_on_an_existing_id_is_refused(engine: Engine) -> None:
    _write(engine, 2)
    with engine.connect() as conn:
        first = conn.execute(text("SELECT * FROM audit_entry ORDER BY id LIMIT 1")).mappings().one()
    forged = dict(first, actor="forged", reason="nothing happened")
    columns = ", ".join(forged)
    values = ", ".join(f":{k}" for k in forged)
    if engine.dialect.name == "sqlite":
        statements = [f"INSERT OR REPLACE INTO audit_entry ({columns}) VALUES ({values})",
                      f"REPLACE INTO audit_entry ({columns}) VALUES ({values})"]
    else:
        statements = []
    statements.append(f"INSERT INTO audit_entry ({columns}) VALUES ({values}) "
                      "ON CONFLICT (id) DO UPDATE SET actor = 'forged'")
    for statement in statements:
        with pytest.raises(DBAPIError, match="append-only"), engine.begin() as conn:
            conn.execute(text(statement), forged)
    with engine.connect() as conn:
        actors = conn.execute(text("SELECT actor FROM audit_entry")).scalars().all()
    assert actors == ["system:test", "system:test"]


def test_verify_passes_on_an_intact_log(engine: Engine) -> None:
    _write(engine, 5)
    result = runner.invoke(app, ["audit", "verify"])
    assert result.exit_code == 0, result.output
    assert "5 entries" in result.output and "intact" in result.output


@pytest.mark.parametrize("tamper, expect", [
    ("UPDATE audit_entry SET reason = 'nothing to see' WHERE object_id = '2'", "entry 3"),
    ("DELETE FROM audit_entry WHERE object_id = '2'", "entry 4"),
    ("DELETE FROM audit_entry WHERE object_id = '4'", "end"),
    ("INSERT INTO audit_entry (at, actor, role, action, object_type, object_id, reason) "
     "VALUES ('2026-11-13 21:00:00', 'ghost', 'admin', 'probe', 'x', '9', '')", "outside"),
])
def test_verify_reports_the_first_broken_entry(engine: Engine, tamper: str, expect: str) -> None:
    _write(engine, 5)
    _behind_the_triggers(engine, tamper)
    result = runner.invoke(app, ["audit", "verify"])
    assert result.exit_code == 1, result.output
    assert "BROKEN" in result.output and expect in result.output, result.output


def test_verify_checks_a_head_noted_earlier(engine: Engine) -> None:
    _write(engine, 3)
    noted = runner.invoke(app, ["audit", "verify"])
    head = noted.output.split("head ")[1].split()[0]
    _write(engine, 2)
    assert runner.invoke(app, ["audit", "verify", "--head", head]).exit_code == 0
    # Every later entry removed, head row rewritten: the chain is consistent, the note is not.
    _behind_the_triggers(engine, "DELETE FROM audit_entry")
    with engine.begin() as conn:
        conn.execute(text("DELETE FROM audit_chain_head"))
    _write(engine, 1)
    later = runner.invoke(app, ["audit", "verify", "--head", head])
    assert later.exit_code == 1 and head in later.output, later.output


def test_concurrent_writers_keep_one_chain(engine: Engine) -> None:
    errors: list[BaseException] = []

    def worker(name: str) -> None:
        try:
            _write(engine, 10, actor=name)
        except BaseException as exc:  # reported by the assertion below
            errors.append(exc)

    threads = [threading.Thread(target=worker, args=(f"w{n}",)) for n in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    result = runner.invoke(app, ["audit", "verify"])
    assert result.exit_code == 0 and "40 entries" in result.output, result.output
    with engine.connect() as conn:
        seqs = conn.execute(text("SELECT seq FROM audit_entry ORDER BY seq")).scalars().all()
    assert seqs == list(range(1, 41))


def test_rolled_back_entries_are_not_written(engine: Engine) -> None:
    session = make_sessionmaker(engine)()
    audit.record(session, actor="system:test", action="probe", object_type="x", object_id=1)
    session.rollback()
    session.commit()
    session.close()
    _write(engine, 1)
    with engine.connect() as conn:
        assert conn.execute(text("SELECT count(*) FROM audit_entry")).scalar() == 1
    assert runner.invoke(app, ["audit", "verify"]).exit_code == 0


def test_migration_chains_existing_entries(fresh_url: str,
                                           monkeypatch: pytest.MonkeyPatch) -> None:
    upgrade(fresh_url, "20261202_core_outbox_unpub")
    engine = make_engine(fresh_url, pool_size=1)
    with engine.begin() as conn:
        for n in range(3):
            conn.execute(text(
                "INSERT INTO audit_entry (at, actor, role, action, object_type, object_id, reason)"
                " VALUES (:at, 'old', 'admin', 'probe', 'x', :n, '')"),
                {"at": f"2026-11-13 21:00:0{n}", "n": str(n)})
    upgrade(fresh_url)
    monkeypatch.setenv("TOCSIN_DATABASE_URL", fresh_url)
    get_settings.cache_clear()
    try:
        _write(engine, 1)
        result = runner.invoke(app, ["audit", "verify"])
        assert result.exit_code == 0 and "4 entries" in result.output, result.output
        engine.dispose()
        command.downgrade(alembic_config(fresh_url), "20261206_core_audit_chain-1")
        with engine.connect() as conn:
            columns = list(conn.execute(text("SELECT * FROM audit_entry")).keys())
            assert "seq" not in columns and "hash" not in columns
            with pytest.raises(DBAPIError, match="append-only"):
                conn.execute(text("DELETE FROM audit_entry"))
    finally:
        engine.dispose()
        get_settings.cache_clear()
