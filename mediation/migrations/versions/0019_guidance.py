"""guidance: the assistant's knowledge base, unanswered questions, consultation requests, past cases

Revision ID: 0019
Revises: 0018
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0019'
down_revision = '0018'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'med_guidance_entries',
        sa.Column('id', sa.String(length=64), nullable=False),
        sa.Column('topic', sa.String(length=40), nullable=False),
        sa.Column('question_zh', sa.String(length=300), nullable=False),
        sa.Column('question_en', sa.String(length=300), nullable=False),
        sa.Column('answer_zh', sa.Text(), nullable=False),
        sa.Column('answer_en', sa.Text(), nullable=False),
        sa.Column('source', sa.String(length=300), nullable=False),
        sa.Column('keywords', sa.JSON(), nullable=False),
        sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('updated_by', sa.String(length=64), nullable=False),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_med_guidance_entries')),
    )
    op.create_index(op.f('ix_med_guidance_entries_updated_at'), 'med_guidance_entries', ['updated_at'])
    op.create_table(
        'med_guidance_unanswered',
        sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
        sa.Column('question', sa.String(length=300), nullable=False),
        sa.Column('lang', sa.String(length=2), nullable=False),
        sa.Column('outcome', sa.String(length=10), nullable=False),
        sa.Column('confidence', sa.Float(), nullable=False),
        sa.Column('best_entry', sa.String(length=64), nullable=True),
        sa.Column('asked_at', sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_med_guidance_unanswered')),
    )
    op.create_index(op.f('ix_med_guidance_unanswered_asked_at'), 'med_guidance_unanswered', ['asked_at'])
    op.create_table(
        'med_guidance_consultations',
        sa.Column('id', sa.String(length=32), nullable=False),
        sa.Column('organisation_id', sa.String(length=32), nullable=False),
        sa.Column('name', sa.String(length=50), nullable=False),
        sa.Column('phone', sa.String(length=20), nullable=False),
        sa.Column('question', sa.String(length=1000), nullable=False),
        sa.Column('dispute_type', sa.String(length=40), nullable=True),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(['organisation_id'], ['med_organisations.id'],
                                name=op.f('fk_med_guidance_consultations_organisation_id_med_organisations')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_med_guidance_consultations')),
    )
    op.create_index(op.f('ix_med_guidance_consultations_organisation_id'), 'med_guidance_consultations',
                    ['organisation_id'])
    op.create_index(op.f('ix_med_guidance_consultations_created_at'), 'med_guidance_consultations', ['created_at'])
    op.create_table(
        'med_past_cases',
        sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
        sa.Column('reference', sa.String(length=64), nullable=False),
        sa.Column('court', sa.String(length=100), nullable=False),
        sa.Column('dispute_type', sa.String(length=40), nullable=False),
        sa.Column('facts', sa.Text(), nullable=False),
        sa.Column('claims', sa.Text(), nullable=False),
        sa.Column('outcome', sa.String(length=20), nullable=False),
        sa.Column('result', sa.Text(), nullable=False),
        sa.Column('amount_yuan', sa.Integer(), nullable=True),
        sa.Column('duration_days', sa.Integer(), nullable=False),
        sa.Column('decided_on', sa.Date(), nullable=False),
        sa.Column('terms', sa.Text(), nullable=False),
        sa.Column('extra', sa.JSON(), nullable=True),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_med_past_cases')),
        sa.UniqueConstraint('reference', name=op.f('uq_med_past_cases_reference')),
    )
    op.create_index(op.f('ix_med_past_cases_dispute_type'), 'med_past_cases', ['dispute_type'])


def downgrade() -> None:
    op.drop_table('med_past_cases')
    op.drop_table('med_guidance_consultations')
    op.drop_table('med_guidance_unanswered')
    op.drop_table('med_guidance_entries')
