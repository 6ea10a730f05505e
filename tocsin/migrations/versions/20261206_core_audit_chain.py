"""core: the audit log becomes a hash chain, and SQLite refuses INSERT OR REPLACE on it

Each entry gets its place in the chain (``seq``) and ``hash`` = sha256(previous hash, entry);
``audit_chain_head`` holds the last link (its row lock serialises writers). Existing entries are
chained in id order, with the append-only triggers lifted for the time of that one UPDATE.

On SQLite ``INSERT OR REPLACE`` (or ``REPLACE``) on an existing id deleted the old row without
firing the DELETE trigger (``recursive_triggers`` is off): a BEFORE INSERT trigger now refuses
any insert whose id or seq is already taken. PostgreSQL's ``ON CONFLICT DO UPDATE`` already met
the UPDATE trigger.

Revision ID: 20261206_core_audit_chain
Revises: 20261205_core_stream_tickets
Create Date: 2026-12-06
"""

from __future__ import annotations

from collections.abc import Sequence
from types import SimpleNamespace

import sqlalchemy as sa
from alembic import op

from tocsin.core.audit.chain import GENESIS, link

revision: str = '20261206_core_audit_chain'
down_revision: str | Sequence[str] | None = '20261205_core_stream_tickets'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

BATCH = 5000
APPEND_ONLY = "BEGIN SELECT RAISE(ABORT, 'audit_entry is append-only'); END"
NO_REPLACE = (
    "CREATE TRIGGER audit_entry_no_replace BEFORE INSERT ON audit_entry "
    "WHEN EXISTS (SELECT 1 FROM audit_entry WHERE id = NEW.id OR seq = NEW.seq) "
    "BEGIN SELECT RAISE(ABORT, 'audit_entry is append-only'); END"
)


def upgrade() -> None:
    # Plain ALTERs, no batch copy: on SQLite a copy of the table would lose its triggers.
    op.add_column('audit_entry', sa.Column('seq', sa.BigInteger(), nullable=True))
    op.add_column('audit_entry', sa.Column('hash', sa.String(length=64), nullable=True))
    op.create_index(op.f('ix_audit_entry_seq'), 'audit_entry', ['seq'], unique=True)
    op.create_table(
        'audit_chain_head',
        sa.Column('id', sa.Integer(), autoincrement=False, nullable=False),
        sa.Column('seq', sa.BigInteger(), nullable=False),
        sa.Column('hash', sa.String(length=64), nullable=False),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_audit_chain_head')),
    )
    seq, digest = _chain_existing()
    op.execute(sa.text("INSERT INTO audit_chain_head (id, seq, hash) VALUES (1, :seq, :hash)")
               .bindparams(seq=seq, hash=digest))
    if op.get_bind().dialect.name == "sqlite":
        op.execute(NO_REPLACE)


def _chain_existing() -> tuple[int, str]:
    bind = op.get_bind()
    entries = sa.table('audit_entry', sa.column('id', sa.BigInteger()),
                       sa.column('at', sa.DateTime(timezone=True)), sa.column('actor'),
                       sa.column('role'), sa.column('action'), sa.column('object_type'),
                       sa.column('object_id'), sa.column('reason'),
                       sa.column('seq', sa.BigInteger()), sa.column('hash'))
    postgres = bind.dialect.name == "postgresql"
    if postgres:
        op.execute("ALTER TABLE audit_entry DISABLE TRIGGER audit_entry_no_change")
    else:
        op.execute("DROP TRIGGER audit_entry_no_update")
    seq, digest, last_id = 0, GENESIS, -1
    from tocsin.core.db import UTCDateTime  # the entries' times as the application reads them

    read_at = UTCDateTime().process_result_value
    while True:
        rows = bind.execute(sa.select(entries).where(entries.c.id > last_id)
                            .order_by(entries.c.id).limit(BATCH)).mappings().all()
        if not rows:
            break
        links = []
        for row in rows:
            seq += 1
            entry = SimpleNamespace(**dict(row, seq=seq, at=read_at(row["at"], bind.dialect)))
            digest = link(digest, entry)
            links.append({"key": row["id"], "new_seq": seq, "new_hash": digest})
        bind.execute(entries.update().where(entries.c.id == sa.bindparam("key"))
                     .values(seq=sa.bindparam("new_seq"), hash=sa.bindparam("new_hash")), links)
        last_id = rows[-1]["id"]
    if postgres:
        op.execute("ALTER TABLE audit_entry ENABLE TRIGGER audit_entry_no_change")
    else:
        op.execute("CREATE TRIGGER audit_entry_no_update BEFORE UPDATE ON audit_entry "
                   + APPEND_ONLY)
    return seq, digest


def downgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        op.execute("DROP TRIGGER IF EXISTS audit_entry_no_replace")
    op.drop_table('audit_chain_head')
    op.drop_index(op.f('ix_audit_entry_seq'), table_name='audit_entry')
    if op.get_bind().dialect.name == "sqlite":
        # SQLite drops these columns in place; a batch copy would lose the append-only triggers.
        op.execute("ALTER TABLE audit_entry DROP COLUMN hash")
        op.execute("ALTER TABLE audit_entry DROP COLUMN seq")
    else:
        op.drop_column('audit_entry', 'hash')
        op.drop_column('audit_entry', 'seq')
