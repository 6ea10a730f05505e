"""cyber: incident reports, evidence, indicators, advisories, subscriptions, STIX store

Revision ID: 20261123_cyber
Revises:
Create Date: 2026-11-23
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import tocsin.core.db
import tocsin.core.seal

revision: str = '20261123_cyber'
down_revision: str | Sequence[str] | None = None
branch_labels: str | Sequence[str] | None = ('cyber',)
depends_on: str | Sequence[str] | None = '20261123_core'


def upgrade() -> None:
    op.create_table('cyber_advisory',
    sa.Column('id', sa.String(length=32), nullable=False),
    sa.Column('state', sa.String(length=12), nullable=False),
    sa.Column('published_version', sa.Integer(), nullable=True),
    sa.Column('draft_version', sa.Integer(), nullable=True),
    sa.Column('in_review', sa.Boolean(), nullable=False),
    sa.Column('author', sa.String(length=64), nullable=False),
    sa.Column('created_at', tocsin.core.db.UTCDateTime(), nullable=False),
    sa.Column('first_published_at', tocsin.core.db.UTCDateTime(), nullable=True),
    sa.Column('updated_at', tocsin.core.db.UTCDateTime(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_cyber_advisory'))
    )
    with op.batch_alter_table('cyber_advisory', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_cyber_advisory_state'), ['state'], unique=False)
        batch_op.create_index(batch_op.f('ix_cyber_advisory_updated_at'), ['updated_at'], unique=False)

    op.create_table('cyber_incident',
    sa.Column('id', sa.String(length=32), nullable=False),
    sa.Column('incident_type', sa.String(length=20), nullable=False),
    sa.Column('sector', sa.String(length=30), nullable=False),
    sa.Column('size', sa.String(length=10), nullable=False),
    sa.Column('region', sa.String(length=10), nullable=False),
    sa.Column('occurred_at', tocsin.core.db.UTCDateTime(), nullable=False),
    sa.Column('impact', sa.String(length=10), nullable=False),
    sa.Column('description', tocsin.core.seal.SealedText('cyber_incident.description'), nullable=True),
    sa.Column('contact', tocsin.core.seal.SealedJSON('cyber_incident.contact'), nullable=True),
    sa.Column('reporter', sa.String(length=64), nullable=True),
    sa.Column('status', sa.String(length=10), nullable=False),
    sa.Column('created_at', tocsin.core.db.UTCDateTime(), nullable=False),
    sa.Column('personal_expires_at', tocsin.core.db.UTCDateTime(), nullable=True),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_cyber_incident'))
    )
    with op.batch_alter_table('cyber_incident', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_cyber_incident_created_at'), ['created_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_cyber_incident_incident_type'), ['incident_type'], unique=False)
        batch_op.create_index(batch_op.f('ix_cyber_incident_personal_expires_at'), ['personal_expires_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_cyber_incident_reporter'), ['reporter'], unique=False)

    op.create_table('cyber_indicator',
    sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('kind', sa.String(length=10), nullable=False),
    sa.Column('value', sa.String(length=2100), nullable=False),
    sa.Column('count', sa.Integer(), nullable=False),
    sa.Column('first_seen_at', tocsin.core.db.UTCDateTime(), nullable=False),
    sa.Column('last_seen_at', tocsin.core.db.UTCDateTime(), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('tlp', sa.String(length=6), nullable=False),
    sa.Column('share_with', sa.String(length=1000), nullable=False),
    sa.Column('source', sa.String(length=80), nullable=False),
    sa.Column('reviewed_by', sa.String(length=64), nullable=True),
    sa.Column('created_at', tocsin.core.db.UTCDateTime(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_cyber_indicator')),
    sa.UniqueConstraint('kind', 'value', name='uq_cyber_indicator_kind')
    )
    with op.batch_alter_table('cyber_indicator', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_cyber_indicator_status'), ['status'], unique=False)

    op.create_table('cyber_stix_object',
    sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('collection', sa.String(length=40), nullable=False),
    sa.Column('stix_id', sa.String(length=100), nullable=False),
    sa.Column('stix_type', sa.String(length=40), nullable=False),
    sa.Column('version', sa.String(length=40), nullable=False),
    sa.Column('is_latest', sa.Boolean(), nullable=False),
    sa.Column('tlp', sa.String(length=6), nullable=False),
    sa.Column('share_with', sa.String(length=1000), nullable=False),
    sa.Column('source', sa.String(length=80), nullable=False),
    sa.Column('date_added', tocsin.core.db.UTCDateTime(), nullable=False),
    sa.Column('body', sa.JSON(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_cyber_stix_object')),
    sa.UniqueConstraint('collection', 'stix_id', 'version', name='uq_cyber_stix_object_collection')
    )
    with op.batch_alter_table('cyber_stix_object', schema=None) as batch_op:
        batch_op.create_index('ix_cyber_stix_object_added', ['collection', 'date_added', 'id'], unique=False)

    op.create_table('cyber_subscription',
    sa.Column('id', sa.String(length=32), nullable=False),
    sa.Column('owner', sa.String(length=64), nullable=False),
    sa.Column('sectors', sa.JSON(), nullable=False),
    sa.Column('regions', sa.JSON(), nullable=False),
    sa.Column('email', tocsin.core.seal.SealedText('cyber_subscription.email'), nullable=True),
    sa.Column('push_endpoint', sa.String(length=2000), nullable=True),
    sa.Column('push_keys', tocsin.core.seal.SealedJSON('cyber_subscription.push_keys'), nullable=True),
    sa.Column('created_at', tocsin.core.db.UTCDateTime(), nullable=False),
    sa.Column('expires_at', tocsin.core.db.UTCDateTime(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_cyber_subscription'))
    )
    with op.batch_alter_table('cyber_subscription', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_cyber_subscription_expires_at'), ['expires_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_cyber_subscription_owner'), ['owner'], unique=False)

    op.create_table('cyber_taxii_status',
    sa.Column('id', sa.String(length=36), nullable=False),
    sa.Column('owner', sa.String(length=64), nullable=False),
    sa.Column('status', sa.String(length=10), nullable=False),
    sa.Column('request_timestamp', tocsin.core.db.UTCDateTime(), nullable=False),
    sa.Column('successes', sa.JSON(), nullable=False),
    sa.Column('failures', sa.JSON(), nullable=False),
    sa.Column('created_at', tocsin.core.db.UTCDateTime(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_cyber_taxii_status'))
    )
    with op.batch_alter_table('cyber_taxii_status', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_cyber_taxii_status_created_at'), ['created_at'], unique=False)

    op.create_table('cyber_advisory_version',
    sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('advisory_id', sa.String(length=32), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('title', sa.String(length=200), nullable=False),
    sa.Column('summary', sa.Text(), nullable=False),
    sa.Column('exposed', sa.Text(), nullable=False),
    sa.Column('actions', sa.Text(), nullable=False),
    sa.Column('severity', sa.String(length=10), nullable=False),
    sa.Column('tlp', sa.String(length=6), nullable=False),
    sa.Column('sectors', sa.JSON(), nullable=False),
    sa.Column('regions', sa.JSON(), nullable=False),
    sa.Column('incident_ids', sa.JSON(), nullable=False),
    sa.Column('indicator_ids', sa.JSON(), nullable=False),
    sa.Column('author', sa.String(length=64), nullable=False),
    sa.Column('reviewer', sa.String(length=64), nullable=True),
    sa.Column('review_note', sa.String(length=500), nullable=True),
    sa.Column('created_at', tocsin.core.db.UTCDateTime(), nullable=False),
    sa.Column('published_at', tocsin.core.db.UTCDateTime(), nullable=True),
    sa.ForeignKeyConstraint(['advisory_id'], ['cyber_advisory.id'], name=op.f('fk_cyber_advisory_version_advisory_id_cyber_advisory'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_cyber_advisory_version')),
    sa.UniqueConstraint('advisory_id', 'version', name='uq_cyber_advisory_version_advisory_id')
    )
    with op.batch_alter_table('cyber_advisory_version', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_cyber_advisory_version_advisory_id'), ['advisory_id'], unique=False)

    op.create_table('cyber_evidence',
    sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('incident_id', sa.String(length=32), nullable=False),
    sa.Column('filename', sa.String(length=120), nullable=False),
    sa.Column('media_type', sa.String(length=60), nullable=False),
    sa.Column('size', sa.Integer(), nullable=False),
    sa.Column('sha256', sa.String(length=64), nullable=False),
    sa.Column('data', sa.LargeBinary(), nullable=False),
    sa.Column('created_at', tocsin.core.db.UTCDateTime(), nullable=False),
    sa.Column('expires_at', tocsin.core.db.UTCDateTime(), nullable=False),
    sa.ForeignKeyConstraint(['incident_id'], ['cyber_incident.id'], name=op.f('fk_cyber_evidence_incident_id_cyber_incident'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_cyber_evidence'))
    )
    with op.batch_alter_table('cyber_evidence', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_cyber_evidence_expires_at'), ['expires_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_cyber_evidence_incident_id'), ['incident_id'], unique=False)

    op.create_table('cyber_indicator_sighting',
    sa.Column('indicator_id', sa.Integer(), nullable=False),
    sa.Column('incident_id', sa.String(length=32), nullable=False),
    sa.ForeignKeyConstraint(['incident_id'], ['cyber_incident.id'], name=op.f('fk_cyber_indicator_sighting_incident_id_cyber_incident'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['indicator_id'], ['cyber_indicator.id'], name=op.f('fk_cyber_indicator_sighting_indicator_id_cyber_indicator'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('indicator_id', 'incident_id', name=op.f('pk_cyber_indicator_sighting'))
    )
    with op.batch_alter_table('cyber_indicator_sighting', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_cyber_indicator_sighting_incident_id'), ['incident_id'], unique=False)

    op.create_table('cyber_mail_outbox',
    sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('subscription_id', sa.String(length=32), nullable=False),
    sa.Column('advisory_id', sa.String(length=32), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('recipient', tocsin.core.seal.SealedText('cyber_mail_outbox.recipient'), nullable=False),
    sa.Column('subject', sa.String(length=250), nullable=False),
    sa.Column('body', sa.Text(), nullable=False),
    sa.Column('created_at', tocsin.core.db.UTCDateTime(), nullable=False),
    sa.Column('sent_at', tocsin.core.db.UTCDateTime(), nullable=True),
    sa.ForeignKeyConstraint(['subscription_id'], ['cyber_subscription.id'], name=op.f('fk_cyber_mail_outbox_subscription_id_cyber_subscription'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_cyber_mail_outbox')),
    sa.UniqueConstraint('subscription_id', 'advisory_id', 'version', name='uq_cyber_mail_outbox_subscription_id')
    )
    with op.batch_alter_table('cyber_mail_outbox', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_cyber_mail_outbox_subscription_id'), ['subscription_id'], unique=False)

    op.create_table('cyber_push_delivery',
    sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('subscription_id', sa.String(length=32), nullable=False),
    sa.Column('advisory_id', sa.String(length=32), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('status', sa.String(length=8), nullable=False),
    sa.Column('attempts', sa.Integer(), nullable=False),
    sa.Column('last_error', sa.String(length=300), nullable=True),
    sa.Column('created_at', tocsin.core.db.UTCDateTime(), nullable=False),
    sa.Column('sent_at', tocsin.core.db.UTCDateTime(), nullable=True),
    sa.ForeignKeyConstraint(['subscription_id'], ['cyber_subscription.id'], name=op.f('fk_cyber_push_delivery_subscription_id_cyber_subscription'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_cyber_push_delivery')),
    sa.UniqueConstraint('subscription_id', 'advisory_id', 'version', name='uq_cyber_push_delivery_subscription_id')
    )
    with op.batch_alter_table('cyber_push_delivery', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_cyber_push_delivery_subscription_id'), ['subscription_id'], unique=False)



def downgrade() -> None:
    with op.batch_alter_table('cyber_push_delivery', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_cyber_push_delivery_subscription_id'))

    op.drop_table('cyber_push_delivery')
    with op.batch_alter_table('cyber_mail_outbox', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_cyber_mail_outbox_subscription_id'))

    op.drop_table('cyber_mail_outbox')
    with op.batch_alter_table('cyber_indicator_sighting', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_cyber_indicator_sighting_incident_id'))

    op.drop_table('cyber_indicator_sighting')
    with op.batch_alter_table('cyber_evidence', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_cyber_evidence_incident_id'))
        batch_op.drop_index(batch_op.f('ix_cyber_evidence_expires_at'))

    op.drop_table('cyber_evidence')
    with op.batch_alter_table('cyber_advisory_version', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_cyber_advisory_version_advisory_id'))

    op.drop_table('cyber_advisory_version')
    with op.batch_alter_table('cyber_taxii_status', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_cyber_taxii_status_created_at'))

    op.drop_table('cyber_taxii_status')
    with op.batch_alter_table('cyber_subscription', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_cyber_subscription_owner'))
        batch_op.drop_index(batch_op.f('ix_cyber_subscription_expires_at'))

    op.drop_table('cyber_subscription')
    with op.batch_alter_table('cyber_stix_object', schema=None) as batch_op:
        batch_op.drop_index('ix_cyber_stix_object_added')

    op.drop_table('cyber_stix_object')
    with op.batch_alter_table('cyber_indicator', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_cyber_indicator_status'))

    op.drop_table('cyber_indicator')
    with op.batch_alter_table('cyber_incident', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_cyber_incident_reporter'))
        batch_op.drop_index(batch_op.f('ix_cyber_incident_personal_expires_at'))
        batch_op.drop_index(batch_op.f('ix_cyber_incident_incident_type'))
        batch_op.drop_index(batch_op.f('ix_cyber_incident_created_at'))

    op.drop_table('cyber_incident')
    with op.batch_alter_table('cyber_advisory', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_cyber_advisory_updated_at'))
        batch_op.drop_index(batch_op.f('ix_cyber_advisory_state'))

    op.drop_table('cyber_advisory')
