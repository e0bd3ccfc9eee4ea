"""application and desk: company respondents and respondents whose ID number is unknown (party kind,
legal representative, a nullable ID number), application drafts per account, scheduled video sessions

Revision ID: 0018
Revises: 0017
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0018'
down_revision = '0017'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('med_case_parties') as batch:
        batch.add_column(sa.Column('kind', sa.String(length=10), nullable=False, server_default='person'))
        batch.add_column(sa.Column('representative', sa.String(length=100), nullable=True))
        batch.alter_column('id_number_enc', existing_type=sa.LargeBinary(), nullable=True)
    op.create_table('med_application_drafts',
    sa.Column('account_id', sa.String(length=32), nullable=False),
    sa.Column('data_enc', sa.LargeBinary(), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['account_id'], ['med_accounts.id'],
                            name=op.f('fk_med_application_drafts_account_id_med_accounts')),
    sa.PrimaryKeyConstraint('account_id', name=op.f('pk_med_application_drafts'))
    )
    op.create_table('med_video_sessions',
    sa.Column('id', sa.String(length=32), nullable=False),
    sa.Column('case_id', sa.String(length=32), nullable=False),
    sa.Column('starts_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('duration_minutes', sa.Integer(), nullable=False),
    sa.Column('note', sa.String(length=500), nullable=True),
    sa.Column('scheduled_by', sa.String(length=64), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('cancelled_at', sa.DateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['case_id'], ['med_cases.id'], name=op.f('fk_med_video_sessions_case_id_med_cases')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_med_video_sessions'))
    )
    with op.batch_alter_table('med_video_sessions') as batch:
        batch.create_index(batch.f('ix_med_video_sessions_case_id'), ['case_id'], unique=False)
        batch.create_index(batch.f('ix_med_video_sessions_starts_at'), ['starts_at'], unique=False)


def downgrade() -> None:
    op.drop_table('med_video_sessions')
    op.drop_table('med_application_drafts')
    with op.batch_alter_table('med_case_parties') as batch:
        batch.drop_column('representative')
        batch.drop_column('kind')

