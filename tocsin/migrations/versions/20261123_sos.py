"""sos: silent SOS, its chat and its trail (sealed columns are binary: AES-GCM blobs)

Revision ID: 20261123_sos
Revises:
Create Date: 2026-11-23
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from tocsin.core.db import UTCDateTime

revision: str = '20261123_sos'
down_revision: str | Sequence[str] | None = None
branch_labels: str | Sequence[str] | None = ('sos',)
depends_on: str | Sequence[str] | None = '20261123_core'


def upgrade() -> None:
    op.create_table('sos',
    sa.Column('id', sa.String(length=32), nullable=False),
    sa.Column('client_hash', sa.String(length=64), nullable=False),
    sa.Column('token_hash', sa.String(length=64), nullable=False),
    sa.Column('lat', sa.Float(), nullable=False),
    sa.Column('lon', sa.Float(), nullable=False),
    sa.Column('accuracy_m', sa.Float(), nullable=False),
    sa.Column('situation', sa.String(length=20), nullable=False),
    sa.Column('people', sa.Integer(), nullable=True),
    sa.Column('text', sa.LargeBinary(), nullable=True),
    sa.Column('status', sa.String(length=10), nullable=False),
    sa.Column('received_at', UTCDateTime(), nullable=False),
    sa.Column('closed_at', UTCDateTime(), nullable=True),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_sos')),
    sa.UniqueConstraint('client_hash', name=op.f('uq_sos_client_hash'))
    )
    with op.batch_alter_table('sos', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_sos_received_at'), ['received_at'], unique=False)
        batch_op.create_index('ix_sos_status_closed_at', ['status', 'closed_at'], unique=False)

    op.create_table('sos_message',
    sa.Column('id', sa.String(length=32), nullable=False),
    sa.Column('sos_id', sa.String(length=32), nullable=False),
    sa.Column('sender', sa.String(length=10), nullable=False),
    sa.Column('body', sa.LargeBinary(), nullable=False),
    sa.Column('at', UTCDateTime(), nullable=False),
    sa.ForeignKeyConstraint(['sos_id'], ['sos.id'], name=op.f('fk_sos_message_sos_id_sos'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_sos_message'))
    )
    with op.batch_alter_table('sos_message', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_sos_message_sos_id'), ['sos_id'], unique=False)

    op.create_table('sos_position',
    sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('sos_id', sa.String(length=32), nullable=False),
    sa.Column('point', sa.LargeBinary(), nullable=False),
    sa.Column('at', UTCDateTime(), nullable=False),
    sa.ForeignKeyConstraint(['sos_id'], ['sos.id'], name=op.f('fk_sos_position_sos_id_sos'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_sos_position'))
    )
    with op.batch_alter_table('sos_position', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_sos_position_sos_id'), ['sos_id'], unique=False)



def downgrade() -> None:
    with op.batch_alter_table('sos_position', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_sos_position_sos_id'))

    op.drop_table('sos_position')
    with op.batch_alter_table('sos_message', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_sos_message_sos_id'))

    op.drop_table('sos_message')
    with op.batch_alter_table('sos', schema=None) as batch_op:
        batch_op.drop_index('ix_sos_status_closed_at')
        batch_op.drop_index(batch_op.f('ix_sos_received_at'))

    op.drop_table('sos')
