"""data centre: a covering index on the deadlines, so time per step against its limit is read
from the index in step order instead of sorting every deadline row

Revision ID: 0017
Revises: 0016
"""
from __future__ import annotations

from alembic import op

revision = '0017'
down_revision = '0016'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index('ix_med_deadlines_kind_times', 'med_deadlines',
                    ['kind', 'started_at', 'due_at', 'completed_at', 'overdue_at', 'case_id'])


def downgrade() -> None:
    op.drop_index('ix_med_deadlines_kind_times', table_name='med_deadlines')
