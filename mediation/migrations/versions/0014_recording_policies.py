"""recording policy per case (issue 10: off, joint session, joint session and caucus)

Revision ID: 0014
Revises: 0013
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0014'
down_revision = '0013'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'med_recording_policies',
        sa.Column('case_id', sa.String(length=32), nullable=False),
        sa.Column('mode', sa.String(length=20), nullable=False),
        sa.Column('set_by', sa.String(length=64), nullable=False),
        sa.Column('set_at', sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(['case_id'], ['med_cases.id'],
                                name=op.f('fk_med_recording_policies_case_id_med_cases')),
        sa.PrimaryKeyConstraint('case_id', name=op.f('pk_med_recording_policies')),
    )


def downgrade() -> None:
    op.drop_table('med_recording_policies')
