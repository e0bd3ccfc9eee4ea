"""api keys: named, scoped, expiring, revocable keys of integrating systems, stored hashed

Revision ID: 0007
Revises: 0006
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0007'
down_revision = '0006'
branch_labels = None
depends_on = None

_LIVE = sa.text('revoked_at IS NULL')


def upgrade() -> None:
    op.create_table(
        'med_api_keys',
        sa.Column('id', sa.String(length=16), nullable=False),
        sa.Column('name', sa.String(length=64), nullable=False),
        sa.Column('scopes', sa.JSON(), nullable=False),
        sa.Column('key_hash', sa.String(length=80), nullable=False),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('expires_at', sa.DateTime(timezone=True), nullable=True),
        sa.Column('revoked_at', sa.DateTime(timezone=True), nullable=True),
        sa.Column('last_used_at', sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_med_api_keys')),
        sa.UniqueConstraint('key_hash', name=op.f('uq_med_api_keys_key_hash')),
    )
    op.create_index('uq_med_api_keys_live_name', 'med_api_keys', ['name'], unique=True,
                    sqlite_where=_LIVE, postgresql_where=_LIVE)


def downgrade() -> None:
    op.drop_index('uq_med_api_keys_live_name', table_name='med_api_keys')
    op.drop_table('med_api_keys')
