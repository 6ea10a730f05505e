"""safety: safety checks and marks

Revision ID: 20261123_safety
Revises:
Create Date: 2026-11-23
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import tocsin.core.db
import tocsin.core.seal

revision: str = '20261123_safety'
down_revision: str | Sequence[str] | None = None
branch_labels: str | Sequence[str] | None = ('safety',)
depends_on: str | Sequence[str] | None = '20261123_core'


def upgrade() -> None:
    op.create_table('safety_check',
    sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('area', sa.JSON(), nullable=False),
    sa.Column('starts_at', tocsin.core.db.UTCDateTime(), nullable=False),
    sa.Column('ends_at', tocsin.core.db.UTCDateTime(), nullable=False),
    sa.Column('created_at', tocsin.core.db.UTCDateTime(), nullable=False),
    sa.Column('created_by', sa.String(length=80), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_safety_check'))
    )
    with op.batch_alter_table('safety_check', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_safety_check_ends_at'), ['ends_at'], unique=False)

    op.create_table('safety_mark',
    sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('check_id', sa.Integer(), nullable=False),
    sa.Column('code', sa.String(length=16), nullable=False),
    sa.Column('device_hash', sa.String(length=64), nullable=True),
    sa.Column('contact_hash', sa.String(length=64), nullable=True),
    sa.Column('status', sa.String(length=12), nullable=False),
    sa.Column('cell', sa.String(length=16), nullable=True),
    sa.Column('position', tocsin.core.seal.SealedJSON('safety_mark.position'), nullable=True),
    sa.Column('message', tocsin.core.seal.SealedText('safety_mark.message'), nullable=True),
    sa.Column('marked_at', tocsin.core.db.UTCDateTime(), nullable=False),
    sa.Column('expires_at', tocsin.core.db.UTCDateTime(), nullable=False),
    sa.ForeignKeyConstraint(['check_id'], ['safety_check.id'], name=op.f('fk_safety_mark_check_id_safety_check'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_safety_mark')),
    sa.UniqueConstraint('code', name=op.f('uq_safety_mark_code'))
    )
    with op.batch_alter_table('safety_mark', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_safety_mark_check_id'), ['check_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_safety_mark_contact_hash'), ['contact_hash'], unique=False)
        batch_op.create_index(batch_op.f('ix_safety_mark_device_hash'), ['device_hash'], unique=False)
        batch_op.create_index(batch_op.f('ix_safety_mark_expires_at'), ['expires_at'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('safety_mark', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_safety_mark_expires_at'))
        batch_op.drop_index(batch_op.f('ix_safety_mark_device_hash'))
        batch_op.drop_index(batch_op.f('ix_safety_mark_contact_hash'))
        batch_op.drop_index(batch_op.f('ix_safety_mark_check_id'))

    op.drop_table('safety_mark')

    with op.batch_alter_table('safety_check', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_safety_check_ends_at'))

    op.drop_table('safety_check')
