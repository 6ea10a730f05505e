"""core: the outbox payload becomes a sealed column (``SealedJSON``) instead of a JSON envelope

Until now ``outbox_event.payload`` was a JSON column holding ``{"sealed": "<base64>"}``, so
``tocsin keys rotate``, which finds sealed columns by their type, skipped it. The envelope's
bytes were sealed for the same context (``outbox_event.payload``) as the new column's, so the
conversion only unwraps the base64: no key is needed, and the downgrade wraps them again. Rows
written before the outbox was sealed at all (plain JSON) are sealed here with the deployment's
key (``TOCSIN_SEAL_KEY``, or ``var/seal.key`` in embedded mode).

Run it with every worker stopped or restarted on the new code: a worker of the previous version
would write JSON into a column that is now binary.

Revision ID: 20261124_core_outbox
Revises: 20261123_core_mfa
Create Date: 2026-11-24
"""

from __future__ import annotations

import base64
import json
from collections.abc import Callable, Sequence
from typing import Any

import sqlalchemy as sa
from alembic import op

from tocsin.core import seal

revision: str = '20261124_core_outbox'
down_revision: str | Sequence[str] | None = '20261123_core_mfa'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

CONTEXT = "outbox_event.payload"
BATCH = 1000


def _sealer() -> seal.Sealer:
    try:
        return seal.active_sealer()
    except seal.SealKeyError:
        from tocsin.core.settings import get_settings

        settings = get_settings()
        return seal.load_sealer(key=settings.seal_key, old_keys=settings.seal_old_keys,
                                var_dir=settings.var_dir, allow_generate=False)


def _to_blob(value: Any) -> bytes:
    if isinstance(value, str):  # a driver that hands JSON back as text
        value = json.loads(value)
    if isinstance(value, dict) and set(value) == {"sealed"}:
        return base64.b64decode(value["sealed"])
    data = json.dumps(value, separators=(",", ":"), ensure_ascii=False).encode("utf-8")
    return _sealer().seal(data, CONTEXT)


def _to_envelope(value: Any) -> dict[str, str]:
    return {"sealed": base64.b64encode(bytes(value)).decode()}


def _copy(source: str, target: str, target_type: sa.types.TypeEngine[Any],
          source_type: sa.types.TypeEngine[Any], convert: Callable[[Any], Any]) -> None:
    """Fill ``target`` from ``source`` for every row, in batches by primary key."""
    table = sa.table("outbox_event", sa.column("id", sa.String()),
                     sa.column(source, source_type), sa.column(target, target_type))
    bind = op.get_bind()
    last = ""
    while True:
        rows = bind.execute(
            sa.select(table.c.id, table.c[source]).where(table.c.id > last)
            .order_by(table.c.id).limit(BATCH)).all()
        if not rows:
            return
        bind.execute(
            table.update().where(table.c.id == sa.bindparam("row_id"))
            .values({target: sa.bindparam("value")}),
            [{"row_id": row[0], "value": convert(row[1])} for row in rows])
        last = rows[-1][0]


def _swap(old: str, new: str, new_type: sa.types.TypeEngine[Any],
          old_type: sa.types.TypeEngine[Any]) -> None:
    with op.batch_alter_table('outbox_event', schema=None) as batch_op:
        batch_op.drop_column(old)
    with op.batch_alter_table('outbox_event', schema=None) as batch_op:
        batch_op.alter_column(new, new_column_name=old, existing_type=new_type, nullable=False)


def upgrade() -> None:
    with op.batch_alter_table('outbox_event', schema=None) as batch_op:
        batch_op.add_column(sa.Column('payload_sealed', sa.LargeBinary(), nullable=True))
    _copy("payload", "payload_sealed", sa.LargeBinary(), sa.JSON(), _to_blob)
    _swap("payload", "payload_sealed", sa.LargeBinary(), sa.JSON())


def downgrade() -> None:
    with op.batch_alter_table('outbox_event', schema=None) as batch_op:
        batch_op.add_column(sa.Column('payload_json', sa.JSON(), nullable=True))
    _copy("payload", "payload_json", sa.JSON(), sa.LargeBinary(), _to_envelope)
    _swap("payload", "payload_json", sa.JSON(), sa.LargeBinary())
