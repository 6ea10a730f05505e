"""dispatch: units, incidents, the SOS attached to them, assignments.

Revision ID: 20261123_dispatch
Revises:
Create Date: 2026-11-23 18:49:06.817082
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import tocsin.core.db

revision: str = "20261123_dispatch"
down_revision: str | Sequence[str] | None = None
branch_labels: str | Sequence[str] | None = ("dispatch",)
depends_on: str | Sequence[str] | None = "20261123_core"


def upgrade() -> None:
    op.create_table(
        "dispatch_incident",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("priority", sa.Integer(), nullable=False),
        sa.Column("situation", sa.String(length=32), nullable=False),
        sa.Column("sos_count", sa.Integer(), nullable=False),
        sa.Column("lat", sa.Float(), nullable=False),
        sa.Column("lon", sa.Float(), nullable=False),
        sa.Column("opened_at", tocsin.core.db.UTCDateTime(), nullable=False),
        sa.Column("last_sos_at", tocsin.core.db.UTCDateTime(), nullable=False),
        sa.Column("closed_at", tocsin.core.db.UTCDateTime(), nullable=True),
        sa.Column("merged_into", sa.String(length=32), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_dispatch_incident")),
    )
    with op.batch_alter_table("dispatch_incident", schema=None) as batch_op:
        batch_op.create_index("ix_dispatch_incident_open", ["status", "last_sos_at"], unique=False)

    op.create_table(
        "dispatch_incident_sos",
        sa.Column("sos_id", sa.String(length=64), nullable=False),
        sa.Column("incident_id", sa.String(length=32), nullable=False),
        sa.Column("lat", sa.Float(), nullable=False),
        sa.Column("lon", sa.Float(), nullable=False),
        sa.Column("accuracy_m", sa.Float(), nullable=False),
        sa.Column("situation", sa.String(length=32), nullable=False),
        sa.Column("people", sa.Integer(), nullable=True),
        sa.Column("received_at", tocsin.core.db.UTCDateTime(), nullable=False),
        sa.Column("attached_at", tocsin.core.db.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["incident_id"],
            ["dispatch_incident.id"],
            name=op.f("fk_dispatch_incident_sos_incident_id_dispatch_incident"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("sos_id", name=op.f("pk_dispatch_incident_sos")),
    )
    with op.batch_alter_table("dispatch_incident_sos", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_dispatch_incident_sos_incident_id"), ["incident_id"], unique=False
        )

    op.create_table(
        "dispatch_unit",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("callsign", sa.String(length=40), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=True),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("lat", sa.Float(), nullable=True),
        sa.Column("lon", sa.Float(), nullable=True),
        sa.Column("position_at", tocsin.core.db.UTCDateTime(), nullable=True),
        sa.Column("incident_id", sa.String(length=32), nullable=True),
        sa.Column("created_at", tocsin.core.db.UTCDateTime(), nullable=False),
        sa.Column("updated_at", tocsin.core.db.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["user_account.id"],
            name=op.f("fk_dispatch_unit_user_id_user_account"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_dispatch_unit")),
        sa.UniqueConstraint("callsign", name=op.f("uq_dispatch_unit_callsign")),
        sa.UniqueConstraint("user_id", name=op.f("uq_dispatch_unit_user_id")),
    )
    with op.batch_alter_table("dispatch_unit", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_dispatch_unit_status"), ["status"], unique=False)

    op.create_table(
        "dispatch_assignment",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("incident_id", sa.String(length=32), nullable=False),
        sa.Column("unit_id", sa.String(length=32), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("rank", sa.Integer(), nullable=False),
        sa.Column("distance_m", sa.Float(), nullable=False),
        sa.Column("eta_s", sa.Float(), nullable=False),
        sa.Column("offered_at", tocsin.core.db.UTCDateTime(), nullable=False),
        sa.Column("deadline_at", tocsin.core.db.UTCDateTime(), nullable=True),
        sa.Column("answered_at", tocsin.core.db.UTCDateTime(), nullable=True),
        sa.Column("by", sa.String(length=80), nullable=False),
        sa.ForeignKeyConstraint(
            ["incident_id"],
            ["dispatch_incident.id"],
            name=op.f("fk_dispatch_assignment_incident_id_dispatch_incident"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["unit_id"],
            ["dispatch_unit.id"],
            name=op.f("fk_dispatch_assignment_unit_id_dispatch_unit"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_dispatch_assignment")),
    )
    with op.batch_alter_table("dispatch_assignment", schema=None) as batch_op:
        batch_op.create_index("ix_dispatch_assignment_due", ["status", "deadline_at"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_dispatch_assignment_incident_id"), ["incident_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_dispatch_assignment_unit_id"), ["unit_id"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("dispatch_assignment", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_dispatch_assignment_unit_id"))
        batch_op.drop_index(batch_op.f("ix_dispatch_assignment_incident_id"))
        batch_op.drop_index("ix_dispatch_assignment_due")

    op.drop_table("dispatch_assignment")
    with op.batch_alter_table("dispatch_unit", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_dispatch_unit_status"))

    op.drop_table("dispatch_unit")
    with op.batch_alter_table("dispatch_incident_sos", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_dispatch_incident_sos_incident_id"))

    op.drop_table("dispatch_incident_sos")
    with op.batch_alter_table("dispatch_incident", schema=None) as batch_op:
        batch_op.drop_index("ix_dispatch_incident_open")

    op.drop_table("dispatch_incident")
