"""core: a partial index of the outbox rows still to publish, in the relay's claim order

The relay claims ``published_at IS NULL`` rows ordered by ``(created_at, id)``. The only index
was ``(published_at, created_at)`` over every row, published ones included (they are kept a
while), so each claim also sorted on ``id`` and walked an index that grows with the traffic.
This index holds only the unpublished rows, in exactly the claim's order.

Revision ID: 20261202_core_outbox_unpub
Revises: 20261124_core_outbox
Create Date: 2026-12-02
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '20261202_core_outbox_unpub'
down_revision: str | Sequence[str] | None = '20261124_core_outbox'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table('outbox_event', schema=None) as batch_op:
        batch_op.create_index('ix_outbox_event_unpublished', ['created_at', 'id'], unique=False,
                              postgresql_where=sa.text('published_at IS NULL'),
                              sqlite_where=sa.text('published_at IS NULL'))


def downgrade() -> None:
    with op.batch_alter_table('outbox_event', schema=None) as batch_op:
        batch_op.drop_index('ix_outbox_event_unpublished',
                            postgresql_where=sa.text('published_at IS NULL'),
                            sqlite_where=sa.text('published_at IS NULL'))
