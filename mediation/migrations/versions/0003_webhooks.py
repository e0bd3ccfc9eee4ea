"""webhooks: subscriptions to case events and their delivery log

Revision ID: 0003
Revises: 0002
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0003'
down_revision = '0002'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'med_webhooks',
        sa.Column('id', sa.String(length=32), nullable=False),
        sa.Column('url', sa.String(length=500), nullable=False),
        sa.Column('kinds', sa.JSON(), nullable=False),
        sa.Column('case_id', sa.String(length=64), nullable=True),
        sa.Column('secret_enc', sa.LargeBinary(), nullable=False),
        sa.Column('created_by', sa.String(length=64), nullable=False),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('deleted_at', sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_med_webhooks')),
    )
    op.create_index(op.f('ix_med_webhooks_case_id'), 'med_webhooks', ['case_id'])
    op.create_index(op.f('ix_med_webhooks_created_by'), 'med_webhooks', ['created_by'])
    op.create_table(
        'med_webhook_deliveries',
        sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
        sa.Column('webhook_id', sa.String(length=32), nullable=False),
        sa.Column('event_id', sa.String(length=40), nullable=False),
        sa.Column('case_id', sa.String(length=64), nullable=False),
        sa.Column('kind', sa.String(length=40), nullable=False),
        sa.Column('status', sa.String(length=10), nullable=False),
        sa.Column('attempts', sa.Integer(), nullable=False),
        sa.Column('last_status_code', sa.Integer(), nullable=True),
        sa.Column('last_error', sa.String(length=300), nullable=True),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('finished_at', sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(['webhook_id'], ['med_webhooks.id'],
                                name=op.f('fk_med_webhook_deliveries_webhook_id_med_webhooks')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_med_webhook_deliveries')),
        sa.UniqueConstraint('webhook_id', 'event_id', name=op.f('uq_med_webhook_deliveries_webhook_id')),
    )
    op.create_index(op.f('ix_med_webhook_deliveries_webhook_id'), 'med_webhook_deliveries', ['webhook_id'])
    op.create_index(op.f('ix_med_webhook_deliveries_case_id'), 'med_webhook_deliveries', ['case_id'])


def downgrade() -> None:
    op.drop_index(op.f('ix_med_webhook_deliveries_case_id'), table_name='med_webhook_deliveries')
    op.drop_index(op.f('ix_med_webhook_deliveries_webhook_id'), table_name='med_webhook_deliveries')
    op.drop_table('med_webhook_deliveries')
    op.drop_index(op.f('ix_med_webhooks_created_by'), table_name='med_webhooks')
    op.drop_index(op.f('ix_med_webhooks_case_id'), table_name='med_webhooks')
    op.drop_table('med_webhooks')
