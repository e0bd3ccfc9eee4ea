"""notifications: in-app notifications per account and how each account wants to be told

Revision ID: 0004
Revises: 0003
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0004'
down_revision = '0003'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'med_notifications',
        sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
        sa.Column('account_id', sa.String(length=32), nullable=False),
        sa.Column('case_id', sa.String(length=64), nullable=True),
        sa.Column('kind', sa.String(length=40), nullable=False),
        sa.Column('text', sa.String(length=400), nullable=False),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('read_at', sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(['account_id'], ['med_accounts.id'],
                                name=op.f('fk_med_notifications_account_id_med_accounts')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_med_notifications')),
    )
    op.create_index('ix_med_notifications_account_read', 'med_notifications', ['account_id', 'read_at'])
    op.create_table(
        'med_notification_preferences',
        sa.Column('account_id', sa.String(length=32), nullable=False),
        sa.Column('email', sa.String(length=254), nullable=True),
        sa.Column('by_sms', sa.Boolean(), nullable=False),
        sa.Column('by_email', sa.Boolean(), nullable=False),
        sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(['account_id'], ['med_accounts.id'],
                                name=op.f('fk_med_notification_preferences_account_id_med_accounts')),
        sa.PrimaryKeyConstraint('account_id', name=op.f('pk_med_notification_preferences')),
    )


def downgrade() -> None:
    op.drop_table('med_notification_preferences')
    op.drop_index('ix_med_notifications_account_read', table_name='med_notifications')
    op.drop_table('med_notifications')
