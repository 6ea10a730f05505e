"""Apply Alembic migrations programmatically (``tocsin db upgrade`` and start-up).

Each domain keeps its migrations on its own Alembic branch (``branch_labels=("sos",)``,
``depends_on`` the core), so domains evolve independently; we always upgrade to ``heads``.
"""

from __future__ import annotations

from alembic import command
from alembic.config import Config


def alembic_config(url: str) -> Config:
    """Return an Alembic configuration for ``url`` using the migrations shipped in the package."""
    config = Config()
    config.set_main_option("script_location", "tocsin:migrations")
    config.set_main_option("path_separator", "os")
    config.set_main_option(
        "file_template", "%%(year)d%%(month).2d%%(day).2d_%%(slug)s"
    )
    config.attributes["database_url"] = url
    return config


def upgrade(url: str, revision: str = "heads") -> None:
    """Upgrade the database at ``url`` to ``revision`` (default: every branch head)."""
    command.upgrade(alembic_config(url), revision)
