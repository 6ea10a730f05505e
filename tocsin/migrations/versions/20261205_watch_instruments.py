"""watch: removal orders and DSA notices, and the second moderator (issue 21)

Every existing row was a TCO removal order issued by one moderator: ``instrument`` is
``order``, with no proposal and no approver.

Revision ID: 20261205_watch_instruments
Revises: 20261123_watch
Create Date: 2026-12-05
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import tocsin.core.db

revision: str = '20261205_watch_instruments'
down_revision: str | Sequence[str] | None = '20261123_watch'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table('watch_order', schema=None) as batch_op:
        batch_op.add_column(sa.Column('instrument', sa.String(length=8), nullable=False,
                                      server_default='order'))
        batch_op.add_column(sa.Column('content_category', sa.String(length=20), nullable=True))
        batch_op.add_column(sa.Column('trusted_flagger', sa.Boolean(), nullable=False,
                                      server_default=sa.false()))
        batch_op.add_column(sa.Column('proposed_at', tocsin.core.db.UTCDateTime(),
                                      nullable=True))
        batch_op.add_column(sa.Column('approved_by', sa.String(length=64), nullable=True))
        batch_op.create_index(batch_op.f('ix_watch_order_instrument'), ['instrument'],
                              unique=False)


def downgrade() -> None:
    with op.batch_alter_table('watch_order', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_watch_order_instrument'))
        batch_op.drop_column('approved_by')
        batch_op.drop_column('proposed_at')
        batch_op.drop_column('trusted_flagger')
        batch_op.drop_column('content_category')
        batch_op.drop_column('instrument')
