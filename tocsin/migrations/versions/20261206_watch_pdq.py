"""watch: PDQ replaces our dHash; TLSH signals fit (issue 21)

- ``watch_item.image_pdq`` / ``image_pdq_quality`` are computed from each stored image (the
  re-encoded copy: the upload itself was not kept; its PDQ differs from the original's by a few
  bits at most, well within the matching distance). ``image_dhash`` is dropped.
- ``watch_hash`` rows of type ``dhash`` are **deleted**: a dHash cannot be turned into a PDQ
  (both are of the pixels, which a list does not carry), and ours matched no list made
  elsewhere. Their count is logged; whoever holds the images re-hashes them with
  ``tocsin watch hash`` and imports the PDQ list. The downgrade cannot bring them back.
- ``watch_hash.signal`` grows to 80 characters (a TLSH is 72).

Revision ID: 20261206_watch_pdq
Revises: 20261205_watch_instruments
Create Date: 2026-12-06
"""

from __future__ import annotations

import logging
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '20261206_watch_pdq'
down_revision: str | Sequence[str] | None = '20261205_watch_instruments'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

log = logging.getLogger("alembic.runtime.migration")
BATCH = 200  # images per read: a few MB in memory at a time


def upgrade() -> None:
    with op.batch_alter_table('watch_item', schema=None) as batch_op:
        batch_op.add_column(sa.Column('image_pdq', sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column('image_pdq_quality', sa.Integer(), nullable=True))
    _hash_stored_images()
    with op.batch_alter_table('watch_item', schema=None) as batch_op:
        batch_op.drop_column('image_dhash')
    with op.batch_alter_table('watch_hash', schema=None) as batch_op:
        batch_op.alter_column('signal', existing_type=sa.String(length=64),
                              type_=sa.String(length=80), existing_nullable=False)
    bind = op.get_bind()
    dropped = bind.execute(sa.text("DELETE FROM watch_hash WHERE signal_type = 'dhash'"))
    if dropped.rowcount:
        log.warning("watch: %d dhash signals deleted (no longer matched; re-hash the images "
                    "with `tocsin watch hash` and import their PDQ)", dropped.rowcount)


def _hash_stored_images() -> None:
    import io

    import numpy as np
    import pdqhash
    from PIL import Image

    def pdq_hash(image: Image.Image) -> tuple[str, int]:
        # As tocsin.watch.media.pdq_hash (a migration imports no domain: the domain may change).
        bits, quality = pdqhash.compute(np.asarray(image.convert("RGB")))
        return np.packbits(bits.astype(np.uint8)).tobytes().hex(), int(quality)

    bind = op.get_bind()
    last = 0
    while True:
        rows = bind.execute(sa.text(
            "SELECT id, image FROM watch_item WHERE image IS NOT NULL AND id > :last "
            "ORDER BY id LIMIT :n"), {"last": last, "n": BATCH}).all()
        if not rows:
            return
        for item_id, image in rows:
            last = item_id
            try:
                pdq, quality = pdq_hash(Image.open(io.BytesIO(image)))
            except (OSError, ValueError, SyntaxError):
                continue  # stored images were re-encoded by us; an unreadable one stays unhashed
            bind.execute(sa.text("UPDATE watch_item SET image_pdq = :p, image_pdq_quality = :q "
                                 "WHERE id = :id"), {"p": pdq, "q": quality, "id": item_id})


def downgrade() -> None:
    # The older code knows no TLSH, and a 72-character TLSH would not fit the narrower column.
    op.execute("DELETE FROM watch_hash WHERE signal_type = 'tlsh'")
    with op.batch_alter_table('watch_hash', schema=None) as batch_op:
        batch_op.alter_column('signal', existing_type=sa.String(length=80),
                              type_=sa.String(length=64), existing_nullable=False)
    with op.batch_alter_table('watch_item', schema=None) as batch_op:
        batch_op.add_column(sa.Column('image_dhash', sa.String(length=16), nullable=True))
        batch_op.drop_column('image_pdq_quality')
        batch_op.drop_column('image_pdq')
