"""core: one-time account codes (2FA activation, password reset); the account lockout goes

Issue 19, findings 11-13. ``account_code`` holds the digests of the codes an administrator or
the CLI issues. ``user_account.failed_logins`` and ``locked_until`` go: failed sign-ins are now
throttled in each worker's memory by address and by name (``tocsin.core.auth.throttle``), and
an account is never locked.

Revision ID: 20261205_core_account_codes
Revises: 20261202_core_outbox_unpub
Create Date: 2026-12-05
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import tocsin.core.db

revision: str = '20261205_core_account_codes'
down_revision: str | Sequence[str] | None = '20261202_core_outbox_unpub'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('account_code',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('purpose', sa.String(length=20), nullable=False),
    sa.Column('code_hash', sa.String(length=64), nullable=False),
    sa.Column('issued_at', tocsin.core.db.UTCDateTime(), nullable=False),
    sa.Column('issued_by', sa.String(length=64), nullable=False),
    sa.Column('expires_at', tocsin.core.db.UTCDateTime(), nullable=False),
    sa.Column('used_at', tocsin.core.db.UTCDateTime(), nullable=True),
    sa.ForeignKeyConstraint(['user_id'], ['user_account.id'], name=op.f('fk_account_code_user_id_user_account'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_account_code'))
    )
    with op.batch_alter_table('account_code', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_account_code_user_id'), ['user_id'], unique=False)
    # A plain ALTER TABLE (SQLite 3.35+), not a batch: a batch would copy user_account and drop
    # the original, and with foreign keys on, that drop cascades to every token and code.
    op.drop_column('user_account', 'locked_until')
    op.drop_column('user_account', 'failed_logins')


def downgrade() -> None:
    op.add_column('user_account', sa.Column('failed_logins', sa.Integer(), server_default='0',
                                            nullable=False))
    op.add_column('user_account', sa.Column('locked_until', tocsin.core.db.UTCDateTime(),
                                            nullable=True))
    with op.batch_alter_table('account_code', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_account_code_user_id'))
    op.drop_table('account_code')
