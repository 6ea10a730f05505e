"""sos: lat, lon and accuracy_m may be NULL (an SOS sent "position unknown", issue 20)

Revision ID: 20261206_sos_position_unknown
Revises: 20261123_sos
Create Date: 2026-12-06

A phone without GPS, or with location refused, must still be able to call for help; the
dispatcher asks where, and the phone's first trail point places the SOS. The three columns stay
NULL together (the API refuses anything half-given). Downgrade refuses while such rows exist
rather than invent a position.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '20261206_sos_position_unknown'
down_revision: str | Sequence[str] | None = '20261123_sos'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

COLUMNS = ("lat", "lon", "accuracy_m")


def upgrade() -> None:
    with op.batch_alter_table("sos") as batch:
        for name in COLUMNS:
            batch.alter_column(name, existing_type=sa.Float(), nullable=True)


def downgrade() -> None:
    unlocated = op.get_bind().execute(sa.text("SELECT count(*) FROM sos WHERE lat IS NULL"))
    if unlocated.scalar():
        raise RuntimeError("SOS without a position exist; close and purge them first")
    with op.batch_alter_table("sos") as batch:
        for name in COLUMNS:
            batch.alter_column(name, existing_type=sa.Float(), nullable=False)
