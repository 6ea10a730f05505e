"""Alembic environment: the URL comes from the caller, the metadata from every domain's models."""

from __future__ import annotations

from typing import Any, Literal

from alembic import context
from alembic.autogenerate.api import AutogenContext
from sqlalchemy import text

from tocsin.core.db import make_engine
from tocsin.models import metadata

config = context.config
url: str = config.attributes.get("database_url") or config.get_main_option("sqlalchemy.url") or ""
if not url:
    from tocsin.core.settings import get_settings

    url = get_settings().resolved_database_url

def render_item(type_: str, obj: Any, autogen_context: AutogenContext) -> str | Literal[False]:
    """Render the project's column types so generated migrations import cleanly."""
    from tocsin.core.db import UTCDateTime
    from tocsin.core.seal import SealedJSON, SealedText

    if type_ == "type" and isinstance(obj, UTCDateTime):
        return "tocsin.core.db.UTCDateTime()"
    if type_ == "type" and isinstance(obj, SealedText | SealedJSON):
        return f"tocsin.core.seal.{type(obj).__name__}({obj.context!r})"
    return False


# Several workers may start at once: one PostgreSQL advisory lock makes them migrate in turn.
MIGRATION_LOCK = 7_243_110_015


def run_migrations_online() -> None:
    engine = make_engine(url, pool_size=1)
    with engine.connect() as connection:
        is_pg = connection.dialect.name == "postgresql"
        if is_pg:
            connection.execute(text(f"SELECT pg_advisory_lock({MIGRATION_LOCK})"))
            connection.commit()
        try:
            context.configure(
                connection=connection,
                target_metadata=metadata,
                render_as_batch=connection.dialect.name == "sqlite",
                compare_type=True,
                render_item=render_item,
            )
            with context.begin_transaction():
                context.run_migrations()
        finally:
            if is_pg:
                connection.execute(text(f"SELECT pg_advisory_unlock({MIGRATION_LOCK})"))
                connection.commit()
    engine.dispose()


run_migrations_online()
