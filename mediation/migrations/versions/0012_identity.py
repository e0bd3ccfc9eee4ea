"""identity at signing: enrolments (encrypted reference photo, consent, retention) and identity checks

Revision ID: 0012
Revises: 0011
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0012'
down_revision = '0011'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'idn_enrolments',
        sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
        sa.Column('case_id', sa.String(length=32), nullable=False),
        sa.Column('account_id', sa.String(length=32), nullable=False),
        sa.Column('name', sa.String(length=100), nullable=False),
        sa.Column('id_type', sa.String(length=20), nullable=False),
        sa.Column('id_number_enc', sa.LargeBinary(), nullable=False),
        sa.Column('reference_source', sa.String(length=10), nullable=False),
        sa.Column('reference_enc', sa.LargeBinary(), nullable=True),
        sa.Column('reference_sha256', sa.String(length=64), nullable=False),
        sa.Column('consent_text_version', sa.String(length=20), nullable=False),
        sa.Column('consent_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('enrolled_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('delete_after', sa.DateTime(timezone=True), nullable=False),
        sa.Column('reference_deleted_at', sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(['account_id'], ['med_accounts.id'],
                                name=op.f('fk_idn_enrolments_account_id_med_accounts')),
        sa.ForeignKeyConstraint(['case_id'], ['med_cases.id'], name=op.f('fk_idn_enrolments_case_id_med_cases')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_idn_enrolments')),
        sa.UniqueConstraint('case_id', 'account_id', name=op.f('uq_idn_enrolments_case_id')),
    )
    op.create_index(op.f('ix_idn_enrolments_account_id'), 'idn_enrolments', ['account_id'], unique=False)
    op.create_index(op.f('ix_idn_enrolments_case_id'), 'idn_enrolments', ['case_id'], unique=False)
    op.create_index(op.f('ix_idn_enrolments_delete_after'), 'idn_enrolments', ['delete_after'], unique=False)
    op.create_table(
        'idn_checks',
        sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
        sa.Column('case_id', sa.String(length=32), nullable=True),
        sa.Column('agreement_id', sa.String(length=32), nullable=False),
        sa.Column('signer_key', sa.String(length=64), nullable=False),
        sa.Column('participant_id', sa.String(length=32), nullable=True),
        sa.Column('method', sa.String(length=64), nullable=False),
        sa.Column('passed', sa.Boolean(), nullable=False),
        sa.Column('reason', sa.String(length=40), nullable=True),
        sa.Column('score', sa.Float(), nullable=True),
        sa.Column('threshold', sa.Float(), nullable=True),
        sa.Column('frames_sha256', sa.String(length=64), nullable=True),
        sa.Column('details', sa.JSON(), nullable=False),
        sa.Column('attestation', sa.LargeBinary(), nullable=True),
        sa.Column('attestation_sha256', sa.String(length=64), nullable=True),
        sa.Column('checked_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('recorded_by', sa.String(length=64), nullable=False),
        sa.ForeignKeyConstraint(['case_id'], ['med_cases.id'], name=op.f('fk_idn_checks_case_id_med_cases')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_idn_checks')),
    )
    op.create_index(op.f('ix_idn_checks_agreement_id'), 'idn_checks', ['agreement_id'], unique=False)
    op.create_index(op.f('ix_idn_checks_attestation_sha256'), 'idn_checks', ['attestation_sha256'], unique=False)
    op.create_index(op.f('ix_idn_checks_case_id'), 'idn_checks', ['case_id'], unique=False)
    op.create_index(op.f('ix_idn_checks_participant_id'), 'idn_checks', ['participant_id'], unique=False)


def downgrade() -> None:
    op.drop_table('idn_checks')
    op.drop_table('idn_enrolments')
