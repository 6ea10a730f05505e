"""Migrations and models agree, and the CLI's ``db upgrade`` is idempotent."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory

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


def test_upgrade_twice_changes_nothing(settings: Settings) -> None:
    upgrade(settings.resolved_database_url)
    upgrade(settings.resolved_database_url)


def test_every_branch_depends_on_core_and_has_one_head() -> None:
    scripts = ScriptDirectory.from_config(alembic_config("sqlite://"))
    assert scripts.get_revision("core@head") is not None
    for base in scripts.get_bases():
        revision = scripts.get_revision(base)
        if revision.revision != "20261123_core":
            assert revision.dependencies, f"{revision.revision} must depend on the core"
