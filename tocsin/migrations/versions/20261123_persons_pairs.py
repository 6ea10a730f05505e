"""persons: search index of name-word pairs (existing records reindexed)

Revision ID: 20261123_persons_pairs
Revises: 20261123_persons
Create Date: 2026-11-23

The table is unchanged; its keys are not: phonetic ``p:`` keys give way to ``2:`` pair keys
(see tocsin.persons.search), so every existing record is reindexed here, in batches.
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

revision: str = '20261123_persons_pairs'
down_revision: str | Sequence[str] | None = '20261123_persons'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    from tocsin.persons.reindex import reindex

    reindex(op.get_bind())


def downgrade() -> None:
    # The previous keys (word and phonetic) can only be rebuilt by the previous code: run
    # its indexer after downgrading. Here the pair keys are left, harmless to it.
    pass
