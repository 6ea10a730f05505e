"""Migrations and models agree, and the CLI's ``db upgrade`` is idempotent."""

from __future__ import annotations

import ast
from pathlib import Path

from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import func, inspect, select, text

import tocsin.migrations
from tocsin.core.db import make_engine
from tocsin.core.migrate import alembic_config, upgrade
from tocsin.core.settings import Settings
from tocsin.models import metadata


def test_migrated_schema_matches_the_models(settings: Settings) -> None:
    engine = make_engine(settings.resolved_database_url, pool_size=1)
    with engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        differences = compare_metadata(context, metadata)
    engine.dispose()
    assert differences == [], f"models and migrations differ: {differences}"


def _snapshot(url: str) -> dict[str, object]:
    """What an upgrade could change: revisions, tables, columns, indexes, constraints, rows."""
    engine = make_engine(url, pool_size=1)
    try:
        with engine.connect() as connection:
            inspector = inspect(connection)
            shape: dict[str, object] = {
                "revisions": sorted(MigrationContext.configure(connection).get_current_heads())}
            for table in sorted(inspector.get_table_names()):
                shape[table] = {
                    "columns": [(c["name"], str(c["type"]), c["nullable"])
                                for c in inspector.get_columns(table)],
                    "indexes": sorted((i["name"] or "", tuple(i["column_names"]), i["unique"])
                                      for i in inspector.get_indexes(table)),
                    "unique": sorted((u["name"] or "", tuple(u["column_names"]))
                                     for u in inspector.get_unique_constraints(table)),
                    "foreign": sorted((f["name"] or "", tuple(f["constrained_columns"]),
                                       f["referred_table"])
                                      for f in inspector.get_foreign_keys(table)),
                    "rows": connection.scalar(
                        select(func.count()).select_from(text(f'"{table}"'))),
                }
            return shape
    finally:
        engine.dispose()


def test_upgrade_twice_changes_nothing(settings: Settings) -> None:
    url = settings.resolved_database_url
    upgrade(url)
    before = _snapshot(url)
    heads = ScriptDirectory.from_config(alembic_config(url)).get_heads()
    assert before["revisions"] == sorted(heads), "the first upgrade must reach every head"
    upgrade(url)
    assert _snapshot(url) == before


def test_every_branch_depends_on_core_and_has_one_head() -> None:
    scripts = ScriptDirectory.from_config(alembic_config("sqlite://"))
    assert scripts.get_revision("core@head") is not None
    for base in scripts.get_bases():
        revision = scripts.get_revision(base)
        if revision.revision != "20261123_core":
            assert revision.dependencies, f"{revision.revision} must depend on the core"


def test_no_migration_imports_a_domain() -> None:
    """A migration does the same thing whenever it runs: it may use the core's column types
    and sealing, never a domain's code, which changes after the migration is written."""
    versions = Path(tocsin.migrations.__file__).parent / "versions"
    offenders = []
    for path in sorted(versions.glob("*.py")):
        for node in ast.walk(ast.parse(path.read_text())):
            names = ([a.name for a in node.names] if isinstance(node, ast.Import)
                     else [node.module or ""] if isinstance(node, ast.ImportFrom) else [])
            offenders += [f"{path.name}: {n}" for n in names
                          if n.startswith("tocsin") and not n.startswith("tocsin.core")]
    assert offenders == []
