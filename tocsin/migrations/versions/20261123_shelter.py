"""shelter: offers (place sealed), requests (cell only), abuse reports

Revision ID: 20261123_shelter
Revises:
Create Date: 2026-11-23
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from tocsin.core.db import UTCDateTime
from tocsin.core.seal import SealedJSON, SealedText

revision: str = '20261123_shelter'
down_revision: str | Sequence[str] | None = None
branch_labels: str | Sequence[str] | None = ('shelter',)
depends_on: str | Sequence[str] | None = '20261123_core'


def upgrade() -> None:
    op.create_table('shelter_offer',
    sa.Column('id', sa.String(length=32), nullable=False),
    sa.Column('manage_token_hash', sa.String(length=64), nullable=False),
    sa.Column('device_hash', sa.String(length=64), nullable=True),
    sa.Column('location', SealedJSON('shelter_offer.location'), nullable=False),
    sa.Column('address', SealedText('shelter_offer.address'), nullable=False),
    sa.Column('directions', SealedText('shelter_offer.directions'), nullable=True),
    sa.Column('note', SealedText('shelter_offer.note'), nullable=True),
    sa.Column('cell', sa.String(length=16), nullable=False),
    sa.Column('cell_lat', sa.Float(), nullable=False),
    sa.Column('cell_lon', sa.Float(), nullable=False),
    sa.Column('capacity', sa.Integer(), nullable=False),
    sa.Column('remaining', sa.Integer(), nullable=False),
    sa.Column('access', sa.String(length=16), nullable=False),
    sa.Column('pets', sa.Boolean(), nullable=False),
    sa.Column('languages', sa.JSON(), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('closed_reason', sa.String(length=32), nullable=True),
    sa.Column('moderation', sa.String(length=16), nullable=False),
    sa.Column('created_at', UTCDateTime(), nullable=False),
    sa.Column('updated_at', UTCDateTime(), nullable=False),
    sa.Column('ends_at', UTCDateTime(), nullable=False),
    sa.Column('closed_at', UTCDateTime(), nullable=True),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_shelter_offer'))
    )
    with op.batch_alter_table('shelter_offer', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_shelter_offer_cell'), ['cell'], unique=False)
        batch_op.create_index('ix_shelter_offer_visible', ['status', 'moderation', 'cell_lat', 'cell_lon'], unique=False)

    op.create_table('shelter_request',
    sa.Column('id', sa.String(length=32), nullable=False),
    sa.Column('token_hash', sa.String(length=64), nullable=False),
    sa.Column('device_hash', sa.String(length=64), nullable=True),
    sa.Column('created_by', sa.String(length=80), nullable=False),
    sa.Column('cell', sa.String(length=16), nullable=False),
    sa.Column('cell_lat', sa.Float(), nullable=False),
    sa.Column('cell_lon', sa.Float(), nullable=False),
    sa.Column('people', sa.Integer(), nullable=False),
    sa.Column('access_need', sa.String(length=16), nullable=False),
    sa.Column('pets', sa.Boolean(), nullable=False),
    sa.Column('languages', sa.JSON(), nullable=False),
    sa.Column('note', SealedText('shelter_request.note'), nullable=True),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('offer_id', sa.String(length=32), nullable=True),
    sa.Column('declined_offer_ids', sa.JSON(), nullable=False),
    sa.Column('created_at', UTCDateTime(), nullable=False),
    sa.Column('updated_at', UTCDateTime(), nullable=False),
    sa.Column('expires_at', UTCDateTime(), nullable=False),
    sa.Column('asked_at', UTCDateTime(), nullable=True),
    sa.Column('decided_at', UTCDateTime(), nullable=True),
    sa.ForeignKeyConstraint(['offer_id'], ['shelter_offer.id'], name=op.f('fk_shelter_request_offer_id_shelter_offer'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_shelter_request'))
    )
    with op.batch_alter_table('shelter_request', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_shelter_request_offer_id'), ['offer_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_shelter_request_status'), ['status'], unique=False)

    op.create_table('shelter_report',
    sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('target', sa.String(length=16), nullable=False),
    sa.Column('offer_id', sa.String(length=32), nullable=True),
    sa.Column('request_id', sa.String(length=32), nullable=True),
    sa.Column('reason', sa.String(length=32), nullable=False),
    sa.Column('text', SealedText('shelter_report.text'), nullable=True),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('created_at', UTCDateTime(), nullable=False),
    sa.Column('decided_at', UTCDateTime(), nullable=True),
    sa.Column('decided_by', sa.String(length=80), nullable=True),
    sa.ForeignKeyConstraint(['offer_id'], ['shelter_offer.id'], name=op.f('fk_shelter_report_offer_id_shelter_offer'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['request_id'], ['shelter_request.id'], name=op.f('fk_shelter_report_request_id_shelter_request'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_shelter_report'))
    )
    with op.batch_alter_table('shelter_report', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_shelter_report_offer_id'), ['offer_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_shelter_report_status'), ['status'], unique=False)



def downgrade() -> None:
    with op.batch_alter_table('shelter_report', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_shelter_report_status'))
        batch_op.drop_index(batch_op.f('ix_shelter_report_offer_id'))

    op.drop_table('shelter_report')
    with op.batch_alter_table('shelter_request', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_shelter_request_status'))
        batch_op.drop_index(batch_op.f('ix_shelter_request_offer_id'))

    op.drop_table('shelter_request')
    with op.batch_alter_table('shelter_offer', schema=None) as batch_op:
        batch_op.drop_index('ix_shelter_offer_visible')
        batch_op.drop_index(batch_op.f('ix_shelter_offer_cell'))

    op.drop_table('shelter_offer')
