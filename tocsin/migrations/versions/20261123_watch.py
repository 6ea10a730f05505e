"""watch: items, reports, decisions, known hashes, platforms, removal orders, feeds (issue 8).

Revision ID: 20261123_watch
Revises:
Create Date: 2026-11-23
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import tocsin.core.db

revision: str = '20261123_watch'
down_revision: str | Sequence[str] | None = None
branch_labels: str | Sequence[str] | None = ('watch',)
depends_on: str | Sequence[str] | None = '20261123_core'


def upgrade() -> None:
    op.create_table('watch_feed',
    sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('url', sa.String(length=2000), nullable=False),
    sa.Column('platform', sa.String(length=40), nullable=False),
    sa.Column('keywords', sa.JSON(), nullable=False),
    sa.Column('etag', sa.String(length=200), nullable=True),
    sa.Column('modified', sa.String(length=100), nullable=True),
    sa.Column('last_polled_at', tocsin.core.db.UTCDateTime(), nullable=True),
    sa.Column('created_at', tocsin.core.db.UTCDateTime(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_watch_feed'))
    )
    op.create_table('watch_hash',
    sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('signal_type', sa.String(length=20), nullable=False),
    sa.Column('signal', sa.String(length=64), nullable=False),
    sa.Column('category', sa.String(length=20), nullable=False),
    sa.Column('source', sa.String(length=100), nullable=False),
    sa.Column('added_at', tocsin.core.db.UTCDateTime(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_watch_hash')),
    sa.UniqueConstraint('signal_type', 'signal', name='uq_watch_hash_signal')
    )
    op.create_table('watch_item',
    sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('item_key', sa.String(length=64), nullable=False),
    sa.Column('url', sa.String(length=2000), nullable=False),
    sa.Column('platform', sa.String(length=40), nullable=False),
    sa.Column('source', sa.String(length=10), nullable=False),
    sa.Column('reported_category', sa.String(length=20), nullable=False),
    sa.Column('excerpt', sa.Text(), nullable=False),
    sa.Column('text_sha256', sa.String(length=64), nullable=False),
    sa.Column('author_handle', sa.String(length=100), nullable=True),
    sa.Column('category', sa.String(length=20), nullable=False),
    sa.Column('score', sa.Float(), nullable=False),
    sa.Column('explanation', sa.JSON(), nullable=False),
    sa.Column('hash_matches', sa.Integer(), nullable=False),
    sa.Column('report_count', sa.Integer(), nullable=False),
    sa.Column('reach', sa.Integer(), nullable=False),
    sa.Column('image', sa.LargeBinary(), nullable=True),
    sa.Column('image_sha256', sa.String(length=64), nullable=True),
    sa.Column('image_dhash', sa.String(length=16), nullable=True),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('first_seen_at', tocsin.core.db.UTCDateTime(), nullable=False),
    sa.Column('last_seen_at', tocsin.core.db.UTCDateTime(), nullable=False),
    sa.Column('decided_at', tocsin.core.db.UTCDateTime(), nullable=True),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_watch_item')),
    sa.UniqueConstraint('item_key', name=op.f('uq_watch_item_item_key'))
    )
    with op.batch_alter_table('watch_item', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_watch_item_image_sha256'), ['image_sha256'], unique=False)
        batch_op.create_index(batch_op.f('ix_watch_item_platform'), ['platform'], unique=False)
        batch_op.create_index(batch_op.f('ix_watch_item_status'), ['status'], unique=False)
        batch_op.create_index(batch_op.f('ix_watch_item_text_sha256'), ['text_sha256'], unique=False)

    op.create_table('watch_platform',
    sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('name', sa.String(length=40), nullable=False),
    sa.Column('display_name', sa.String(length=100), nullable=False),
    sa.Column('account', sa.String(length=64), nullable=True),
    sa.Column('notice_at', tocsin.core.db.UTCDateTime(), nullable=True),
    sa.Column('webhook_url', sa.String(length=2000), nullable=True),
    sa.Column('webhook_secret', sa.LargeBinary(), nullable=True),
    sa.Column('created_at', tocsin.core.db.UTCDateTime(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_watch_platform')),
    sa.UniqueConstraint('name', name=op.f('uq_watch_platform_name'))
    )
    with op.batch_alter_table('watch_platform', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_watch_platform_account'), ['account'], unique=False)

    op.create_table('watch_decision',
    sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('item_id', sa.Integer(), nullable=False),
    sa.Column('moderator', sa.String(length=64), nullable=False),
    sa.Column('decision', sa.String(length=10), nullable=False),
    sa.Column('reason', sa.String(length=500), nullable=False),
    sa.Column('disagrees', sa.Boolean(), nullable=False),
    sa.Column('decided_at', tocsin.core.db.UTCDateTime(), nullable=False),
    sa.ForeignKeyConstraint(['item_id'], ['watch_item.id'], name=op.f('fk_watch_decision_item_id_watch_item'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_watch_decision'))
    )
    with op.batch_alter_table('watch_decision', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_watch_decision_item_id'), ['item_id'], unique=False)

    op.create_table('watch_order',
    sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('platform_id', sa.Integer(), nullable=False),
    sa.Column('item_id', sa.Integer(), nullable=False),
    sa.Column('legal_basis', sa.String(length=200), nullable=False),
    sa.Column('reason', sa.String(length=1000), nullable=False),
    sa.Column('emergency', sa.Boolean(), nullable=False),
    sa.Column('issued_by', sa.String(length=64), nullable=False),
    sa.Column('issued_at', tocsin.core.db.UTCDateTime(), nullable=False),
    sa.Column('received_at', tocsin.core.db.UTCDateTime(), nullable=True),
    sa.Column('deadline_at', tocsin.core.db.UTCDateTime(), nullable=True),
    sa.Column('status', sa.String(length=10), nullable=False),
    sa.Column('removed_at', tocsin.core.db.UTCDateTime(), nullable=True),
    sa.Column('contested_at', tocsin.core.db.UTCDateTime(), nullable=True),
    sa.Column('contest_reason', sa.String(length=1000), nullable=True),
    sa.ForeignKeyConstraint(['item_id'], ['watch_item.id'], name=op.f('fk_watch_order_item_id_watch_item')),
    sa.ForeignKeyConstraint(['platform_id'], ['watch_platform.id'], name=op.f('fk_watch_order_platform_id_watch_platform')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_watch_order'))
    )
    with op.batch_alter_table('watch_order', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_watch_order_item_id'), ['item_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_watch_order_platform_id'), ['platform_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_watch_order_status'), ['status'], unique=False)

    op.create_table('watch_report',
    sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('item_id', sa.Integer(), nullable=False),
    sa.Column('category', sa.String(length=20), nullable=False),
    sa.Column('has_image', sa.Boolean(), nullable=False),
    sa.Column('reported_at', tocsin.core.db.UTCDateTime(), nullable=False),
    sa.ForeignKeyConstraint(['item_id'], ['watch_item.id'], name=op.f('fk_watch_report_item_id_watch_item'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_watch_report'))
    )
    with op.batch_alter_table('watch_report', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_watch_report_item_id'), ['item_id'], unique=False)



def downgrade() -> None:
    with op.batch_alter_table('watch_report', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_watch_report_item_id'))

    op.drop_table('watch_report')
    with op.batch_alter_table('watch_order', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_watch_order_status'))
        batch_op.drop_index(batch_op.f('ix_watch_order_platform_id'))
        batch_op.drop_index(batch_op.f('ix_watch_order_item_id'))

    op.drop_table('watch_order')
    with op.batch_alter_table('watch_decision', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_watch_decision_item_id'))

    op.drop_table('watch_decision')
    with op.batch_alter_table('watch_platform', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_watch_platform_account'))

    op.drop_table('watch_platform')
    with op.batch_alter_table('watch_item', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_watch_item_text_sha256'))
        batch_op.drop_index(batch_op.f('ix_watch_item_status'))
        batch_op.drop_index(batch_op.f('ix_watch_item_platform'))
        batch_op.drop_index(batch_op.f('ix_watch_item_image_sha256'))

    op.drop_table('watch_item')
    op.drop_table('watch_hash')
    op.drop_table('watch_feed')
