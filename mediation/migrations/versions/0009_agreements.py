"""agreements in the database: agreements of cases, versions, signer slots keyed by participant,
PDF revisions indexed by SHA-256, signatures, the preparation lock; organisations' credit codes

Revision ID: 0009
Revises: 0008
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0009'
down_revision = '0008'
branch_labels = None
depends_on = None

_TIME = sa.DateTime(timezone=True)


def _fk(table: str, column: str, target: str) -> sa.ForeignKeyConstraint:
    referred = target.split(".")[0]
    return sa.ForeignKeyConstraint([column], [target], name=op.f(f"fk_{table}_{column}_{referred}"))


def upgrade() -> None:
    with op.batch_alter_table('med_organisations') as batch:
        batch.add_column(sa.Column('credit_code', sa.String(length=18), nullable=True))

    op.create_table(
        'med_agreements',
        sa.Column('id', sa.String(length=32), nullable=False),
        sa.Column('case_id', sa.String(length=32), nullable=True),
        sa.Column('organisation_id', sa.String(length=32), nullable=True),
        sa.Column('created_by', sa.String(length=32), nullable=True),
        sa.Column('created_at', _TIME, nullable=False),
        sa.Column('current_version', sa.Integer(), nullable=False),
        _fk('med_agreements', 'case_id', 'med_cases.id'),
        _fk('med_agreements', 'organisation_id', 'med_organisations.id'),
        _fk('med_agreements', 'created_by', 'med_accounts.id'),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_med_agreements')),
    )
    for column in ('case_id', 'organisation_id', 'created_by'):
        op.create_index(op.f(f'ix_med_agreements_{column}'), 'med_agreements', [column])

    op.create_table(
        'med_agreement_versions',
        sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
        sa.Column('agreement_id', sa.String(length=32), nullable=False),
        sa.Column('version', sa.Integer(), nullable=False),
        sa.Column('status', sa.String(length=12), nullable=False),
        sa.Column('data', sa.JSON(), nullable=False),
        sa.Column('evidence', sa.JSON(), nullable=False),
        sa.Column('created_at', _TIME, nullable=False),
        sa.Column('created_by', sa.String(length=32), nullable=True),
        sa.Column('locked_at', _TIME, nullable=True),
        sa.Column('locked_sha256', sa.String(length=64), nullable=True),
        sa.Column('effective_at', _TIME, nullable=True),
        sa.Column('completed_at', _TIME, nullable=True),
        sa.Column('final_sha256', sa.String(length=64), nullable=True),
        sa.Column('superseded_at', _TIME, nullable=True),
        _fk('med_agreement_versions', 'agreement_id', 'med_agreements.id'),
        _fk('med_agreement_versions', 'created_by', 'med_accounts.id'),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_med_agreement_versions')),
        sa.UniqueConstraint('agreement_id', 'version', name=op.f('uq_med_agreement_versions_agreement_id')),
    )
    op.create_index(op.f('ix_med_agreement_versions_agreement_id'), 'med_agreement_versions', ['agreement_id'])
    op.create_index(op.f('ix_med_agreement_versions_locked_sha256'), 'med_agreement_versions', ['locked_sha256'])

    op.create_table(
        'med_signer_slots',
        sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
        sa.Column('version_id', sa.Integer(), nullable=False),
        sa.Column('position', sa.Integer(), nullable=False),
        sa.Column('field_name', sa.String(length=64), nullable=False),
        sa.Column('role', sa.String(length=16), nullable=False),
        sa.Column('side', sa.String(length=12), nullable=True),
        sa.Column('name', sa.String(length=100), nullable=False),
        sa.Column('signer_key', sa.String(length=64), nullable=False),
        sa.Column('participant_id', sa.String(length=32), nullable=True),
        sa.Column('organisation_id', sa.String(length=32), nullable=True),
        _fk('med_signer_slots', 'version_id', 'med_agreement_versions.id'),
        _fk('med_signer_slots', 'participant_id', 'med_accounts.id'),
        _fk('med_signer_slots', 'organisation_id', 'med_organisations.id'),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_med_signer_slots')),
        sa.UniqueConstraint('version_id', 'field_name', name=op.f('uq_med_signer_slots_version_id')),
    )
    op.create_index(op.f('ix_med_signer_slots_version_id'), 'med_signer_slots', ['version_id'])
    op.create_index(op.f('ix_med_signer_slots_participant_id'), 'med_signer_slots', ['participant_id'])

    op.create_table(
        'med_agreement_revisions',
        sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
        sa.Column('version_id', sa.Integer(), nullable=False),
        sa.Column('revision', sa.Integer(), nullable=False),
        sa.Column('sha256', sa.String(length=64), nullable=False),
        sa.Column('size', sa.BigInteger(), nullable=False),
        sa.Column('path', sa.String(length=200), nullable=False),
        sa.Column('created_at', _TIME, nullable=False),
        _fk('med_agreement_revisions', 'version_id', 'med_agreement_versions.id'),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_med_agreement_revisions')),
        sa.UniqueConstraint('version_id', 'revision', name=op.f('uq_med_agreement_revisions_version_id')),
    )
    op.create_index(op.f('ix_med_agreement_revisions_version_id'), 'med_agreement_revisions', ['version_id'])
    op.create_index(op.f('ix_med_agreement_revisions_sha256'), 'med_agreement_revisions', ['sha256'])

    op.create_table(
        'med_agreement_signatures',
        sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
        sa.Column('version_id', sa.Integer(), nullable=False),
        sa.Column('field_name', sa.String(length=64), nullable=False),
        sa.Column('signer_key', sa.String(length=64), nullable=False),
        sa.Column('participant_id', sa.String(length=32), nullable=True),
        sa.Column('certificate_sha256', sa.String(length=64), nullable=False),
        sa.Column('key_custody', sa.String(length=10), nullable=False),
        sa.Column('identity', sa.JSON(), nullable=True),
        sa.Column('signed_at', _TIME, nullable=False),
        sa.Column('timestamp_at', _TIME, nullable=True),
        sa.Column('revision', sa.Integer(), nullable=False),
        sa.Column('pdf_sha256', sa.String(length=64), nullable=False),
        _fk('med_agreement_signatures', 'version_id', 'med_agreement_versions.id'),
        _fk('med_agreement_signatures', 'participant_id', 'med_accounts.id'),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_med_agreement_signatures')),
        sa.UniqueConstraint('version_id', 'field_name', name=op.f('uq_med_agreement_signatures_version_id')),
    )
    op.create_index(op.f('ix_med_agreement_signatures_version_id'), 'med_agreement_signatures', ['version_id'])
    op.create_index(op.f('ix_med_agreement_signatures_participant_id'), 'med_agreement_signatures',
                    ['participant_id'])

    op.create_table(
        'med_signing_preparations',
        sa.Column('agreement_id', sa.String(length=32), nullable=False),
        sa.Column('version', sa.Integer(), nullable=False),
        sa.Column('revision', sa.Integer(), nullable=False),
        sa.Column('field_name', sa.String(length=64), nullable=False),
        sa.Column('signer_key', sa.String(length=64), nullable=False),
        sa.Column('participant_id', sa.String(length=32), nullable=True),
        sa.Column('prepared_at', _TIME, nullable=False),
        sa.Column('expires_at', _TIME, nullable=False),
        _fk('med_signing_preparations', 'agreement_id', 'med_agreements.id'),
        _fk('med_signing_preparations', 'participant_id', 'med_accounts.id'),
        sa.PrimaryKeyConstraint('agreement_id', name=op.f('pk_med_signing_preparations')),
    )


def downgrade() -> None:
    for table in ('med_signing_preparations', 'med_agreement_signatures', 'med_agreement_revisions',
                  'med_signer_slots', 'med_agreement_versions', 'med_agreements'):
        op.drop_table(table)
    with op.batch_alter_table('med_organisations') as batch:
        batch.drop_column('credit_code')
