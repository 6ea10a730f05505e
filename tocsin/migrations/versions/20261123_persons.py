"""persons: PFIF 1.4 person and note records, search index, duplicate proposals

Revision ID: 20261123_persons
Revises:
Create Date: 2026-11-23
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import tocsin.core.db
import tocsin.core.seal

revision: str = '20261123_persons'
down_revision: str | Sequence[str] | None = None
branch_labels: str | Sequence[str] | None = ('persons',)
depends_on: str | Sequence[str] | None = '20261123_core'


def upgrade() -> None:
    op.create_table('person',
    sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('person_record_id', sa.String(length=500), nullable=False),
    sa.Column('entry_date', tocsin.core.db.UTCDateTime(), nullable=False),
    sa.Column('expiry_date', tocsin.core.db.UTCDateTime(), nullable=True),
    sa.Column('purge_at', tocsin.core.db.UTCDateTime(), nullable=False),
    sa.Column('author_name', sa.String(length=500), nullable=True),
    sa.Column('author_email', tocsin.core.seal.SealedText('person.author_email'), nullable=True),
    sa.Column('author_phone', tocsin.core.seal.SealedText('person.author_phone'), nullable=True),
    sa.Column('source_name', sa.String(length=500), nullable=True),
    sa.Column('source_date', tocsin.core.db.UTCDateTime(), nullable=False),
    sa.Column('source_url', sa.String(length=2000), nullable=True),
    sa.Column('full_name', sa.String(length=500), nullable=False),
    sa.Column('given_name', sa.String(length=500), nullable=True),
    sa.Column('family_name', sa.String(length=500), nullable=True),
    sa.Column('alternate_names', sa.Text(), nullable=True),
    sa.Column('description', sa.Text(), nullable=True),
    sa.Column('sex', sa.String(length=10), nullable=True),
    sa.Column('date_of_birth', sa.String(length=10), nullable=True),
    sa.Column('age', sa.String(length=10), nullable=True),
    sa.Column('home_street', sa.String(length=500), nullable=True),
    sa.Column('home_neighborhood', sa.String(length=500), nullable=True),
    sa.Column('home_city', sa.String(length=500), nullable=True),
    sa.Column('home_state', sa.String(length=500), nullable=True),
    sa.Column('home_postal_code', sa.String(length=50), nullable=True),
    sa.Column('home_country', sa.String(length=50), nullable=True),
    sa.Column('photo_url', sa.String(length=2000), nullable=True),
    sa.Column('profile_urls', sa.Text(), nullable=True),
    sa.Column('search_tokens', sa.Text(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_person')),
    sa.UniqueConstraint('person_record_id', name=op.f('uq_person_person_record_id'))
    )
    with op.batch_alter_table('person', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_person_purge_at'), ['purge_at'], unique=False)

    op.create_table('person_search_term',
    sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('term', sa.String(length=80), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_person_search_term')),
    sa.UniqueConstraint('term', name=op.f('uq_person_search_term_term'))
    )

    op.create_table('person_duplicate',
    sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('person_id', sa.Integer(), nullable=False),
    sa.Column('other_id', sa.Integer(), nullable=False),
    sa.Column('score', sa.Float(), nullable=False),
    sa.Column('status', sa.String(length=12), nullable=False),
    sa.Column('created_at', tocsin.core.db.UTCDateTime(), nullable=False),
    sa.Column('decided_at', tocsin.core.db.UTCDateTime(), nullable=True),
    sa.Column('decided_by', sa.String(length=80), nullable=True),
    sa.ForeignKeyConstraint(['other_id'], ['person.id'], name=op.f('fk_person_duplicate_other_id_person'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['person_id'], ['person.id'], name=op.f('fk_person_duplicate_person_id_person'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_person_duplicate'))
    )
    with op.batch_alter_table('person_duplicate', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_person_duplicate_other_id'), ['other_id'], unique=False)
        batch_op.create_index('ix_person_duplicate_pair', ['person_id', 'other_id'], unique=True)
        batch_op.create_index(batch_op.f('ix_person_duplicate_status'), ['status'], unique=False)

    op.create_table('person_note',
    sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('note_record_id', sa.String(length=500), nullable=False),
    sa.Column('person_id', sa.Integer(), nullable=False),
    sa.Column('person_record_id', sa.String(length=500), nullable=False),
    sa.Column('linked_person_record_id', sa.String(length=500), nullable=True),
    sa.Column('entry_date', tocsin.core.db.UTCDateTime(), nullable=False),
    sa.Column('author_name', sa.String(length=500), nullable=True),
    sa.Column('author_email', tocsin.core.seal.SealedText('person_note.author_email'), nullable=True),
    sa.Column('author_phone', tocsin.core.seal.SealedText('person_note.author_phone'), nullable=True),
    sa.Column('source_date', tocsin.core.db.UTCDateTime(), nullable=False),
    sa.Column('author_made_contact', sa.Boolean(), nullable=True),
    sa.Column('status', sa.String(length=30), nullable=True),
    sa.Column('email_of_found_person', tocsin.core.seal.SealedText('person_note.email_of_found_person'), nullable=True),
    sa.Column('phone_of_found_person', tocsin.core.seal.SealedText('person_note.phone_of_found_person'), nullable=True),
    sa.Column('last_known_location', sa.String(length=500), nullable=True),
    sa.Column('text', sa.Text(), nullable=False),
    sa.Column('photo_url', sa.String(length=2000), nullable=True),
    sa.ForeignKeyConstraint(['person_id'], ['person.id'], name=op.f('fk_person_note_person_id_person'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_person_note')),
    sa.UniqueConstraint('note_record_id', name=op.f('uq_person_note_note_record_id'))
    )
    with op.batch_alter_table('person_note', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_person_note_person_id'), ['person_id'], unique=False)

    op.create_table('person_search_key',
    sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('key', sa.String(length=80), nullable=False),
    sa.Column('person_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['person_id'], ['person.id'], name=op.f('fk_person_search_key_person_id_person'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_person_search_key'))
    )
    with op.batch_alter_table('person_search_key', schema=None) as batch_op:
        batch_op.create_index('ix_person_search_key_key', ['key', 'person_id'], unique=False)
        batch_op.create_index('ix_person_search_key_person_id', ['person_id'], unique=False)

    op.create_table('person_photo',
    sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('photo_id', sa.String(length=32), nullable=False),
    sa.Column('data', sa.LargeBinary(), nullable=False),
    sa.Column('width', sa.Integer(), nullable=False),
    sa.Column('height', sa.Integer(), nullable=False),
    sa.Column('created_at', tocsin.core.db.UTCDateTime(), nullable=False),
    sa.Column('purge_at', tocsin.core.db.UTCDateTime(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_person_photo')),
    sa.UniqueConstraint('photo_id', name=op.f('uq_person_photo_photo_id'))
    )
    with op.batch_alter_table('person_photo', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_person_photo_purge_at'), ['purge_at'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('person_photo', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_person_photo_purge_at'))

    op.drop_table('person_photo')

    with op.batch_alter_table('person_search_key', schema=None) as batch_op:
        batch_op.drop_index('ix_person_search_key_person_id')
        batch_op.drop_index('ix_person_search_key_key')

    op.drop_table('person_search_key')

    with op.batch_alter_table('person_note', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_person_note_person_id'))

    op.drop_table('person_note')

    with op.batch_alter_table('person_duplicate', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_person_duplicate_status'))
        batch_op.drop_index('ix_person_duplicate_pair')
        batch_op.drop_index(batch_op.f('ix_person_duplicate_other_id'))

    op.drop_table('person_duplicate')

    op.drop_table('person_search_term')

    with op.batch_alter_table('person', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_person_purge_at'))

    op.drop_table('person')

