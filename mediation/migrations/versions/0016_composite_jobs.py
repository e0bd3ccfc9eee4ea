"""recording sessions: the review composite's job state and progress, so that a restart resumes an
interrupted composite and every node reads its progress from the database

Revision ID: 0016
Revises: 0015
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0016'
down_revision = '0015'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column('med_recording_sessions', sa.Column('composite_state', sa.String(length=12), nullable=True))
    op.add_column('med_recording_sessions', sa.Column('composite_progress', sa.Float(), nullable=True))
    # A composite already stored is ready.
    op.execute("UPDATE med_recording_sessions SET composite_state = 'ready', composite_progress = 1.0 "
               "WHERE composite_path IS NOT NULL")


def downgrade() -> None:
    with op.batch_alter_table('med_recording_sessions') as batch:
        batch.drop_column('composite_progress')
        batch.drop_column('composite_state')
