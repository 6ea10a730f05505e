"""stats: ``stats_cell``, the per-cell counts over all categories that the map reads

The map (``queries.totals(by="cell")`` without a category) summed the per-cell rollup rows of
every category: with seven SOS categories, seven rows per cell and bucket. ``stats_cell`` holds
their sum, one row per (kind, grain, bucket, cell). It is filled here from the per-cell rollup
rows of every grain (the ten-minute ones included, hence after ``20261202_stats_ten_minutes``),
not from the facts, which are purged after their retention while the rollups are kept.

Run it with the workers stopped or restarted on the new code: a worker of the previous version
would count new facts into the rollups and not into this table.

Revision ID: 20261202_stats_cell
Revises: 20261202_stats_ten_minutes
Create Date: 2026-12-02
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import tocsin.core.db

revision: str = '20261202_stats_cell'
down_revision: str | Sequence[str] | None = '20261202_stats_ten_minutes'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('stats_cell',
    sa.Column('kind', sa.String(length=48), nullable=False),
    sa.Column('grain', sa.String(length=1), nullable=False),
    sa.Column('bucket', tocsin.core.db.UTCDateTime(), nullable=False),
    sa.Column('cell', sa.String(length=16), nullable=False),
    sa.Column('n', sa.BigInteger(), nullable=False),
    sa.Column('total', sa.Float(), nullable=False),
    sa.PrimaryKeyConstraint('kind', 'grain', 'bucket', 'cell', name=op.f('pk_stats_cell'))
    )
    op.execute(
        "INSERT INTO stats_cell (kind, grain, bucket, cell, n, total) "
        "SELECT kind, grain, bucket, cell, sum(n), sum(total) FROM stats_rollup "
        "WHERE cell <> '' GROUP BY kind, grain, bucket, cell")


def downgrade() -> None:
    op.drop_table('stats_cell')
