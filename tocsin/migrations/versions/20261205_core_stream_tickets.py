"""core: stream tickets of their own, bound to a session and a route (issue 19, finding 7)

A ticket was a 60-second ``access_token`` row: a bearer token for every route of its role. Those
rows expire within a minute and are purged as before; new tickets live in ``stream_ticket``.

Revision ID: 20261205_core_stream_tickets
Revises: 20261205_core_account_codes
Create Date: 2026-12-05
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import tocsin.core.db

revision: str = '20261205_core_stream_tickets'
down_revision: str | Sequence[str] | None = '20261205_core_account_codes'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        'stream_ticket',
        sa.Column('ticket_hash', sa.String(length=64), nullable=False),
        sa.Column('session_hash', sa.String(length=64), nullable=False),
        sa.Column('route', sa.String(length=120), nullable=False),
        sa.Column('issued_at', tocsin.core.db.UTCDateTime(), nullable=False),
        sa.Column('expires_at', tocsin.core.db.UTCDateTime(), nullable=False),
        sa.Column('used_at', tocsin.core.db.UTCDateTime(), nullable=True),
        sa.ForeignKeyConstraint(['session_hash'], ['access_token.token_hash'],
                                name=op.f('fk_stream_ticket_session_hash_access_token'),
                                ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('ticket_hash', name=op.f('pk_stream_ticket')),
    )
    with op.batch_alter_table('stream_ticket', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_stream_ticket_session_hash'), ['session_hash'],
                              unique=False)


def downgrade() -> None:
    with op.batch_alter_table('stream_ticket', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_stream_ticket_session_hash'))
    op.drop_table('stream_ticket')
