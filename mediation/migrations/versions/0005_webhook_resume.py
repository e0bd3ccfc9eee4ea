"""webhook resume: a delivery keeps its signed body and when its next attempt is due

Revision ID: 0005
Revises: 0004
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0005'
down_revision = '0004'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('med_webhook_deliveries') as batch:
        batch.add_column(sa.Column('body', sa.LargeBinary(), nullable=True))
        batch.add_column(sa.Column('next_attempt_at', sa.DateTime(timezone=True), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('med_webhook_deliveries') as batch:
        batch.drop_column('next_attempt_at')
        batch.drop_column('body')
