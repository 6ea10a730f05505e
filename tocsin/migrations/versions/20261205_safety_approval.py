"""safety: a check is approved by a second authority before it is listed or takes marks

Issue 19, finding 4 (the same class as one authority publishing an alert alone). Checks that
exist already were opened under the old rule and are live for the people marking in them: they
are kept as approved by their author, so an upgrade during an event closes nothing.

Revision ID: 20261205_safety_approval
Revises: 20261123_safety
Create Date: 2026-12-05
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import tocsin.core.db

revision: str = '20261205_safety_approval'
down_revision: str | Sequence[str] | None = '20261123_safety'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table('safety_check', schema=None) as batch_op:
        batch_op.add_column(sa.Column('approved_by', sa.String(length=80), nullable=True))
        batch_op.add_column(sa.Column('approved_at', tocsin.core.db.UTCDateTime(),
                                      nullable=True))
    op.execute("UPDATE safety_check SET approved_by = created_by, approved_at = created_at")


def downgrade() -> None:
    with op.batch_alter_table('safety_check', schema=None) as batch_op:
        batch_op.drop_column('approved_at')
        batch_op.drop_column('approved_by')
