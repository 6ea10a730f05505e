"""stats: observatory facts, rollups, sweep cursors and anomaly notices

Revision ID: 20261123_stats
Revises:
Create Date: 2026-11-23
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import tocsin.core.db

revision: str = '20261123_stats'
down_revision: str | Sequence[str] | None = None
branch_labels: str | Sequence[str] | None = ('stats',)
depends_on: str | Sequence[str] | None = '20261123_core'


def upgrade() -> None:
    op.create_table('stats_cursor',
    sa.Column('name', sa.String(length=80), nullable=False),
    sa.Column('until', tocsin.core.db.UTCDateTime(), nullable=False),
    sa.PrimaryKeyConstraint('name', name=op.f('pk_stats_cursor'))
    )
    op.create_table('stats_fact',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
    sa.Column('kind', sa.String(length=48), nullable=False),
    sa.Column('key', sa.String(length=64), nullable=False),
    sa.Column('at', tocsin.core.db.UTCDateTime(), nullable=False),
    sa.Column('category', sa.String(length=40), nullable=False),
    sa.Column('detail', sa.String(length=40), nullable=False),
    sa.Column('cell', sa.String(length=16), nullable=False),
    sa.Column('value', sa.Float(), nullable=True),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_stats_fact')),
    sa.UniqueConstraint('kind', 'key', name='uq_stats_fact_kind_key')
    )
    with op.batch_alter_table('stats_fact', schema=None) as batch_op:
        batch_op.create_index('ix_stats_fact_kind_at', ['kind', 'at'], unique=False)

    op.create_table('stats_notice',
    sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('kind', sa.String(length=48), nullable=False),
    sa.Column('category', sa.String(length=40), nullable=False),
    sa.Column('cell', sa.String(length=16), nullable=False),
    sa.Column('bucket', tocsin.core.db.UTCDateTime(), nullable=False),
    sa.Column('grain', sa.String(length=1), nullable=False),
    sa.Column('observed', sa.Integer(), nullable=False),
    sa.Column('baseline', sa.Float(), nullable=False),
    sa.Column('spread', sa.Float(), nullable=False),
    sa.Column('score', sa.Float(), nullable=False),
    sa.Column('raised_at', tocsin.core.db.UTCDateTime(), nullable=False),
    sa.Column('acknowledged_by', sa.String(length=64), nullable=True),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_stats_notice')),
    sa.UniqueConstraint('kind', 'category', 'cell', 'grain', 'bucket', name='uq_stats_notice_bucket')
    )
    with op.batch_alter_table('stats_notice', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_stats_notice_raised_at'), ['raised_at'], unique=False)

    op.create_table('stats_rollup',
    sa.Column('kind', sa.String(length=48), nullable=False),
    sa.Column('grain', sa.String(length=1), nullable=False),
    sa.Column('cell', sa.String(length=16), nullable=False),
    sa.Column('bucket', tocsin.core.db.UTCDateTime(), nullable=False),
    sa.Column('category', sa.String(length=40), nullable=False),
    sa.Column('detail', sa.String(length=40), nullable=False),
    sa.Column('n', sa.BigInteger(), nullable=False),
    sa.Column('total', sa.Float(), nullable=False),
    sa.PrimaryKeyConstraint('kind', 'grain', 'cell', 'bucket', 'category', 'detail', name=op.f('pk_stats_rollup'))
    )
    with op.batch_alter_table('stats_rollup', schema=None) as batch_op:
        batch_op.create_index('ix_stats_rollup_map', ['kind', 'grain', 'bucket'], unique=False)



def downgrade() -> None:
    with op.batch_alter_table('stats_rollup', schema=None) as batch_op:
        batch_op.drop_index('ix_stats_rollup_map')

    op.drop_table('stats_rollup')
    with op.batch_alter_table('stats_notice', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_stats_notice_raised_at'))

    op.drop_table('stats_notice')
    with op.batch_alter_table('stats_fact', schema=None) as batch_op:
        batch_op.drop_index('ix_stats_fact_kind_at')

    op.drop_table('stats_fact')
    op.drop_table('stats_cursor')
